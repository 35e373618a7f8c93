"""The one exception every backup step raises, carrying why as an enum (see FailureKind)."""

from backups.models import FailureKind


class BackupError(Exception):
    """A step that failed for a reason worth telling a person, not a crash."""

    def __init__(self, message: str, *, kind: str = FailureKind.OTHER):
        super().__init__(message)
        self.kind = kind


def env_value(name: str, *, field: str) -> str:
    """The value of a variable a plan names; unset is a configuration failure that says which."""
    import os

    value = os.environ.get(name, "") if name else ""
    if not value:
        raise BackupError(
            f"{field}: the environment variable {name or '(none named)'} is not set", kind=FailureKind.CONFIG
        )
    return value
