"""Field validators for plans: environment variable names and age recipients."""

import re

from django.core.exceptions import ValidationError

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_env_name(value: str) -> None:
    if value and not ENV_NAME.match(value):
        raise ValidationError(f"{value!r} is not an environment variable name (letters, digits, '_').")


def parse_recipients(text: str) -> list[str]:
    """One recipient per line; blank lines and '#' comments are skipped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip() and not line.strip().startswith("#")]


def validate_recipients(value: str) -> None:
    from pyrage import ssh, x25519

    keys = parse_recipients(value)
    if not keys:
        raise ValidationError("Name at least one age recipient (a public key starting with age1…).")
    for number, key in enumerate(keys, start=1):
        try:
            if key.startswith("ssh-"):
                ssh.Recipient.from_str(key)
            else:
                x25519.Recipient.from_str(key)
        except Exception as exc:  # pyrage raises its own RecipientError or ValueError
            raise ValidationError(f"line {number}: {key[:24]!r}… is not a valid age public key ({exc}).") from exc
