"""Alertmanager-style label matchers: `name="value"`, `!=`, `=~` and `!~`.

Regular expressions match the whole label value, as in Alertmanager, so `env=~"prod"`
does not match `preprod`. A missing label reads as the empty string.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

OPS = ("=~", "!~", "!=", "=")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# One matcher of the string form: name, op, then a double-quoted (escapes allowed) or bare value.
_ITEM = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,"{}\s]*)\s*')


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, labels: dict[str, str]) -> bool:
        actual = str(labels.get(self.name, ""))
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self._regex is not None  # matcher_make compiles it for both regex operators
        hit = self._regex.fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def matcher_make(*, name: str, op: str, value: str, where: str) -> Matcher:
    if not isinstance(name, str) or not NAME.match(name):
        raise ValidationError(f"{where}: label name {name!r} is not a valid label name")
    if op not in OPS:
        raise ValidationError(f"{where}: operator {op!r} is not one of =, !=, =~, !~")
    if not isinstance(value, str):
        raise ValidationError(f"{where}: value must be a string")
    regex = None
    if op in ("=~", "!~"):
        try:
            regex = re.compile(value)
        except re.error as exc:
            raise ValidationError(f"{where}: {value!r} is not a valid regular expression ({exc})") from None
    return Matcher(name=name, op=op, value=value, _regex=regex)


def parse_matchers(value: object) -> list[Matcher]:
    """A list of {name, op, value} dicts, or the string form `{a="b", c=~"d.*"}`.

    Raises ValidationError naming the item that is wrong and why."""
    if isinstance(value, str):
        return _parse_string(value)
    if not isinstance(value, list | tuple):
        raise ValidationError('Matchers must be a list of {"name", "op", "value"} or a string like {a="b"}.')
    matchers = []
    for position, item in enumerate(value, start=1):
        where = f"matcher {position}"
        if isinstance(item, Matcher):
            matchers.append(item)
            continue
        if not isinstance(item, dict):
            raise ValidationError(f'{where}: must be an object with "name", "op" and "value"')
        missing = [key for key in ("name", "value") if key not in item]
        if missing:
            raise ValidationError(f"{where}: missing {', '.join(missing)}")
        unknown = set(item) - {"name", "op", "value"}
        if unknown:
            raise ValidationError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        matchers.append(matcher_make(name=item["name"], op=item.get("op", "="), value=item["value"], where=where))
    return matchers


def _parse_string(text: str) -> list[Matcher]:
    body = text.strip()
    if body.startswith("{"):
        if not body.endswith("}"):
            raise ValidationError("matchers: missing closing brace")
        body = body[1:-1]
    matchers: list[Matcher] = []
    position, pos = 0, 0
    while body[pos:].strip():
        position += 1
        where = f"matcher {position}"
        found = _ITEM.match(body, pos)
        if not found:
            fragment = body[pos:].strip().split(",")[0]
            raise ValidationError(f'{where}: cannot read {fragment!r}; expected name="value" with =, !=, =~ or !~')
        name, op, raw = found.groups()
        value = _unquote(raw) if raw.startswith('"') else raw
        matchers.append(matcher_make(name=name, op=op, value=value, where=where))
        pos = found.end()
        if pos < len(body):
            if body[pos] != ",":
                raise ValidationError(f"{where}: expected a comma after {body[found.start() : pos].strip()!r}")
            pos += 1
    return matchers


def _unquote(raw: str) -> str:
    out, chars = [], iter(raw[1:-1])
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            out.append({"n": "\n", "t": "\t"}.get(escaped, escaped))
        else:
            out.append(char)
    return "".join(out)


def labels_match(matchers: list[Matcher], labels: dict[str, str]) -> bool:
    """True when every matcher holds (an empty list matches everything)."""
    return all(matcher.matches(labels) for matcher in matchers)
