"""Source maps (revision 3), read into a lookup from a minified position to the original
one. Pure; no database. Our own base64 VLQ decoder: the format is small, and a malformed
map must be refused with a reason a person can act on, which a library's exception does
not always give.

Mappings are decoded once per map into one sorted array of generated columns per line,
so a lookup is a binary search: a map of a large bundle (@sentry/browser whole: 5.8 MB,
650,000 characters of mappings) decodes in under a second and answers each frame in
microseconds; symbolication keeps decoded maps in a small per-process cache
(monitoring/errors/symbolication.py).

Indexed maps (`sections`, each a flat map placed at a generated line and column, as
some bundlers and concatenating tools write) are read into the same lookup: each
section's segments shifted to its offset, its sources and names appended. Sections that
point to a map elsewhere (`url`) or nest further are refused: the upload carries no other
file to read them from.
"""

import bisect
import json
import re
from dataclasses import dataclass
from typing import Any

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_NOT_VLQ = re.compile(r"[^A-Za-z0-9+/,;]")
# Decoding costs about a second per 650,000 characters of mappings on a loaded small
# machine; @sentry/browser bundled whole has 650,000. A map past this is refused at upload,
# so no event waits on one (symbolication also bounds what one event may decode).
MAX_MAPPINGS_CHARS = 2_000_000


class InvalidSourceMap(ValueError):
    """The message says what is wrong, for the uploader to read."""


@dataclass(frozen=True)
class Token:
    source: str
    line: int  # 0-based, as in the map
    column: int
    name: str | None


def _segments(mappings: str) -> list[list[tuple[int, ...]]]:
    """Each generated line's segments as absolute (column, source, line, column[, name])."""
    lines: list[list[tuple[int, ...]]] = []
    source = orig_line = orig_col = name = 0
    for line_text in mappings.split(";"):
        col = 0
        segments: list[tuple[int, ...]] = []
        for segment in line_text.split(","):
            if not segment:
                continue
            values = []
            value = shift = 0
            for char in segment:
                digit = _B64.get(char)
                if digit is None:
                    raise InvalidSourceMap(f"mappings: {char!r} is not a base64 VLQ digit")
                value += (digit & 31) << shift
                if digit & 32:
                    shift += 5
                    continue
                values.append(-(value >> 1) if value & 1 else value >> 1)
                value = shift = 0
            if shift:
                raise InvalidSourceMap("mappings: a value is cut off")
            if len(values) not in (1, 4, 5):
                raise InvalidSourceMap(f"mappings: a segment has {len(values)} fields (1, 4 or 5 expected)")
            col += values[0]
            if len(values) == 1:
                segments.append((col,))
                continue
            source += values[1]
            orig_line += values[2]
            orig_col += values[3]
            if len(values) == 5:
                name += values[4]
                segments.append((col, source, orig_line, orig_col, name))
            else:
                segments.append((col, source, orig_line, orig_col))
        segments.sort(key=lambda s: s[0])
        lines.append(segments)
    return lines


def _flat_check(raw: Any, within: str = "") -> dict[str, Any]:
    """`within`: where the map sits in an indexed map (sections[0].map), for the reasons."""
    if not isinstance(raw, dict):
        raise InvalidSourceMap(f"{within or 'a source map'} must be a JSON object")
    where = f"{within}." if within else ""
    if raw.get("version") != 3:
        raise InvalidSourceMap(f"{where}version: only revision 3 source maps are read")
    sources, names, mappings = raw.get("sources"), raw.get("names", []), raw.get("mappings")
    if not isinstance(sources, list) or not all(isinstance(s, str) or s is None for s in sources):
        raise InvalidSourceMap(f"{where}sources: a list of strings is required")
    if not isinstance(names, list) or not isinstance(mappings, str):
        raise InvalidSourceMap(f"{where}names must be a list and {where}mappings a string")
    if bad := _NOT_VLQ.search(mappings):
        raise InvalidSourceMap(f"{where}mappings: {bad.group()!r} is not a base64 VLQ digit")
    return raw


def _sections_check(raw: dict[str, Any]) -> None:
    if raw.get("version") != 3:
        raise InvalidSourceMap("version: only revision 3 source maps are read")
    sections = raw["sections"]
    if not isinstance(sections, list) or not sections:
        raise InvalidSourceMap("sections: a non-empty list is required")
    previous = (-1, -1)
    for i, section in enumerate(sections):
        where = f"sections[{i}]."
        if not isinstance(section, dict):
            raise InvalidSourceMap(f"sections[{i}]: an object with offset and map is required")
        if "url" in section:
            raise InvalidSourceMap(f"{where}url: sections pointing to another file are not read; embed the map")
        offset = section.get("offset")
        at = (offset.get("line"), offset.get("column")) if isinstance(offset, dict) else (None, None)
        if not (type(at[0]) is int and type(at[1]) is int and at[0] >= 0 and at[1] >= 0):
            raise InvalidSourceMap(f"{where}offset: line and column, whole numbers from 0, are required")
        line, column = at[0], at[1]
        if (line, column) <= previous:
            raise InvalidSourceMap(f"{where}offset: sections must be in order and must not overlap")
        previous = (line, column)
        if isinstance(section.get("map"), dict) and "sections" in section["map"]:
            raise InvalidSourceMap(f"{where}map: nested sections are not read")
        _flat_check(section.get("map"), f"{where}map")


def mappings_chars(raw: dict[str, Any]) -> int:
    """Characters of mappings in what source_map_check returned: what decoding it costs."""
    if "sections" in raw:
        return sum(len(section["map"]["mappings"]) for section in raw["sections"])
    return len(raw["mappings"])


def source_map_check(data: bytes | str) -> dict[str, Any]:
    """The map's JSON, checked as far as it can be without decoding its mappings (what an
    upload checks: decoding every map of a large bundle would outlast the request).
    InvalidSourceMap with the reason."""
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidSourceMap(f"not JSON: {exc}") from exc
    if isinstance(raw, dict) and "sections" in raw:
        _sections_check(raw)
    else:
        _flat_check(raw)
    if mappings_chars(raw) > MAX_MAPPINGS_CHARS:
        raise InvalidSourceMap(f"mappings: over {MAX_MAPPINGS_CHARS} characters; split the bundle into chunks")
    return raw


class SourceMap:
    def __init__(self, data: bytes | str | dict[str, Any]):
        """From the file's bytes, or from what source_map_check returned for them."""
        raw = data if isinstance(data, dict) else source_map_check(data)
        self.sources: list[str] = []
        self.names: list[str] = []
        self.contents: list[Any] = []
        self._lines: list[list[tuple[int, ...]]] = []
        if "sections" in raw:
            for section in raw["sections"]:
                self._add(section["map"], section["offset"]["line"], section["offset"]["column"])
        else:
            self._add(raw, 0, 0)
        self.debug_id = raw.get("debug_id") or raw.get("debugId") or ""
        self._columns = [[s[0] for s in line] for line in self._lines]
        self._split: dict[int, list[str] | None] = {}

    def _add(self, raw: dict[str, Any], at_line: int, at_column: int) -> None:
        """A flat map's sources, names and segments, its generated positions moved to start
        at (at_line, at_column); from there on the positions are this map's."""
        sources, names = raw["sources"], raw.get("names", [])
        root = raw.get("sourceRoot") or ""
        root = root if isinstance(root, str) else ""
        if root and not root.endswith("/"):
            root += "/"
        lines = _segments(raw["mappings"])
        for line in lines:
            for segment in line:
                if len(segment) > 1 and not 0 <= segment[1] < len(sources):
                    raise InvalidSourceMap(f"mappings: source index {segment[1]} is out of range")
                if len(segment) == 5 and not 0 <= segment[4] < len(names):
                    raise InvalidSourceMap(f"mappings: name index {segment[4]} is out of range")
        contents = raw.get("sourcesContent")
        contents = contents if isinstance(contents, list) else []
        first_source, first_name = len(self.sources), len(self.names)
        self.sources += [f"{root}{s}" if s else "" for s in sources]
        self.names += [n if isinstance(n, str) else "" for n in names]
        self.contents += [contents[i] if i < len(contents) else None for i in range(len(sources))]
        if not first_source and not at_line and not at_column:
            self._lines = lines  # a flat map: nothing to move
            return
        self._lines += [[] for _ in range(at_line + len(lines) - len(self._lines))]
        # An unmapped segment where the section starts, so a column past the previous
        # section's last mapping does not resolve into it.
        self._lines[at_line].append((at_column,))
        for n, line in enumerate(lines):
            shift = at_column if n == 0 else 0
            for segment in line:
                moved: tuple[int, ...] = (segment[0] + shift,)
                if len(segment) > 1:
                    moved += (segment[1] + first_source, segment[2], segment[3])
                if len(segment) == 5:
                    moved += (segment[4] + first_name,)
                self._lines[at_line + n].append(moved)
            self._lines[at_line + n].sort(key=lambda s: s[0])

    def lookup(self, line: int, column: int) -> Token | None:
        """The original position of a generated one (both 0-based): the closest mapping at
        or before the column on that line, as browsers and Sentry resolve it."""
        if not 0 <= line < len(self._lines):
            return None
        at = bisect.bisect_right(self._columns[line], column) - 1
        if at < 0:
            return None
        segment = self._lines[line][at]
        if len(segment) == 1:
            return None  # a generated span with no original
        name = self.names[segment[4]] if len(segment) == 5 else None
        return Token(source=self.sources[segment[1]], line=segment[2], column=segment[3], name=name or None)

    def source_lines(self, source: str) -> list[str] | None:
        """The original file's lines, when the map carries its content (sourcesContent)."""
        try:
            index = self.sources.index(source)
        except ValueError:
            return None
        if index not in self._split:
            content: Any = self.contents[index] if index < len(self.contents) else None
            self._split[index] = content.splitlines() if isinstance(content, str) else None
        return self._split[index]
