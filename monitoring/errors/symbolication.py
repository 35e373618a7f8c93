"""Minified JavaScript frames resolved through uploaded source maps, at ingest, before the
event is scrubbed and grouped: so the original file, line, function and context lines are
what is stored, scrubbed, shown, and what decides in-app and grouping (a rebuild that
renames every minified function no longer makes new issues).

A frame's map is found as Sentry finds it:
1. by debug id: the SDK lists the debug ids of loaded files in debug_meta.images
   ({"type": "sourcemap", "code_file": <abs_path>, "debug_id": …}), and `sentry-cli
   sourcemaps inject` wrote the same id into the minified file and its map;
2. else by the event's release and dist, and the frame's URL as a "~/path".

The function name of a frame comes from the mapping at its caller's call site (the name
the original code called it by), as Sentry's JavaScript processing did before scopes;
the innermost frame's own position names the expression that threw, not its function.

Symbolication never fails an event: a frame without a map, or a map that does not cover
its position, stays as sent. The original frames are kept as `raw_stacktrace`. An event
decodes at most MAX_MAPPINGS_CHARS of maps not yet in this process's cache, so the work
of one request stays bounded; frames whose maps are past that stay minified this once.
"""

import posixpath
import threading
from collections import OrderedDict
from typing import Any

from monitoring.errors import artifact_selectors as artifacts
from monitoring.errors.sourcemaps import (
    MAX_MAPPINGS_CHARS,
    InvalidSourceMap,
    SourceMap,
    Token,
    mappings_chars,
    source_map_check,
)
from monitoring.models import Project

CONTEXT_LINES = 5
MAX_MAPS_PER_EVENT = 20
MAX_LINE = 300
_CACHE_SIZE = 32


class _Maps:
    """Parsed maps by their bundle's checksum and URL, the most recently used kept: a busy
    app's few bundles are parsed once per process, not once per event. That key names the
    content itself, so nothing goes stale (a row id could be reused after a delete)."""

    def __init__(self) -> None:
        self.maps: OrderedDict[tuple[str, str], SourceMap | None] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, ref: artifacts.MapRef, budget: list[int]) -> SourceMap | None:
        """The parsed map; None when it cannot be read, or when decoding it would take this
        event past its budget (`budget[0]` characters of mappings, spent here): a later
        event decodes it then, and every event after that finds it here."""
        key = (ref.bundle_checksum, ref.url)
        with self.lock:
            if key in self.maps:
                self.maps.move_to_end(key)
                return self.maps[key]
        content = artifacts.artifact_file_content(ref.file_id)
        try:
            raw = source_map_check(content) if content is not None else None
            if raw is not None and mappings_chars(raw) > budget[0]:
                return None
            if raw is not None:
                budget[0] -= mappings_chars(raw)
            parsed = SourceMap(raw) if raw is not None else None
        except InvalidSourceMap:
            parsed = None  # a map the upload's checks let through that does not decode
        with self.lock:
            self.maps[key] = parsed
            while len(self.maps) > _CACHE_SIZE:
                self.maps.popitem(last=False)
        return parsed


_MAPS = _Maps()


def _debug_ids(event: dict[str, Any]) -> dict[str, str]:
    meta = event.get("debug_meta")
    images = meta.get("images") if isinstance(meta, dict) else None
    found = {}
    for image in images if isinstance(images, list) else []:
        if isinstance(image, dict) and image.get("type") == "sourcemap":
            code_file, debug_id = image.get("code_file"), image.get("debug_id")
            if isinstance(code_file, str) and isinstance(debug_id, str):
                found[code_file] = debug_id
    return found


def _position(frame: Any) -> tuple[str, int, int] | None:
    if not isinstance(frame, dict):
        return None
    path, line, column = frame.get("abs_path") or frame.get("filename"), frame.get("lineno"), frame.get("colno")
    if not isinstance(path, str) or not isinstance(line, int) or not isinstance(column, int):
        return None
    if isinstance(line, bool) or isinstance(column, bool) or line < 1 or column < 1:
        return None
    return path, line, column


class _Resolver:
    def __init__(self, project: Project, event: dict[str, Any]):
        self.project = project
        self.debug_ids = _debug_ids(event)
        release, dist = event.get("release"), event.get("dist")
        self.release = release if isinstance(release, str) else ""
        self.dist = dist if isinstance(dist, str) else ""
        self.refs: dict[str, artifacts.MapRef | None] = {}
        # Characters of mappings this event may decode: one largest map's worth, about
        # three seconds on a loaded small machine, a tenth of the worker timeout.
        self.budget = [MAX_MAPPINGS_CHARS]

    def map_for(self, path: str) -> tuple[artifacts.MapRef, SourceMap] | None:
        if path not in self.refs:
            if len(self.refs) >= MAX_MAPS_PER_EVENT:
                return None
            debug_id = self.debug_ids.get(path)
            ref = artifacts.sourcemap_by_debug_id(project=self.project, debug_id=debug_id) if debug_id else None
            if ref is None:
                ref = artifacts.sourcemap_by_release(
                    project=self.project, release=self.release, dist=self.dist, abs_path=path
                )
            self.refs[path] = ref
        ref = self.refs[path]
        if ref is None:
            return None
        parsed = _MAPS.get(ref, self.budget)
        return (ref, parsed) if parsed is not None else None

    def resolve(self, frame: Any) -> tuple[artifacts.MapRef, SourceMap, Token] | None:
        position = _position(frame)
        if position is None:
            return None
        path, line, column = position
        found = self.map_for(path)
        if found is None:
            return None
        ref, parsed = found
        token = parsed.lookup(line - 1, column - 1)
        return (ref, parsed, token) if token is not None else None


def _source_path(map_url: str, source: str) -> str:
    """Where the original file lives, from the map's URL and the map's name for it."""
    if "://" in source:
        scheme, rest = source.split("://", 1)
        path = rest.split("/", 1)[1] if "/" in rest else rest
        return posixpath.normpath(path)  # webpack://app/./src/cart.js → src/cart.js
    if source.startswith("/"):
        return posixpath.normpath(source)
    base = posixpath.dirname(map_url.removeprefix("~"))
    return posixpath.normpath(posixpath.join(base or "/", source)).lstrip("/")


def _context(parsed: SourceMap, token: Token) -> dict[str, Any]:
    lines = parsed.source_lines(token.source)
    if not lines or token.line >= len(lines):
        return {}
    start, end = max(0, token.line - CONTEXT_LINES), token.line + 1 + CONTEXT_LINES
    return {
        "pre_context": [line[:MAX_LINE] for line in lines[start : token.line]],
        "context_line": lines[token.line][:MAX_LINE],
        "post_context": [line[:MAX_LINE] for line in lines[token.line + 1 : end]],
    }


def _frames_symbolicate(resolver: _Resolver, frames: list[Any]) -> list[Any] | None:
    """The frames resolved, or None when none of them could be."""
    resolved = [resolver.resolve(frame) for frame in frames]
    if not any(resolved):
        return None
    out = []
    for index, (frame, found) in enumerate(zip(frames, resolved, strict=True)):
        if found is None:
            out.append(frame)
            continue
        ref, parsed, token = found
        # Frames run oldest first: the caller of frame i is frame i - 1.
        caller = resolved[index - 1] if index > 0 else None
        name = caller[2].name if caller is not None and caller[0].file_id == ref.file_id else None
        filename = _source_path(ref.url, token.source)
        data = frame.get("data") if isinstance(frame.get("data"), dict) else {}
        out.append(
            {
                **{k: v for k, v in frame.items() if k not in ("pre_context", "context_line", "post_context")},
                "filename": filename,
                "abs_path": filename,
                "lineno": token.line + 1,
                "colno": token.column + 1,
                "function": name or frame.get("function"),
                "in_app": "node_modules/" not in filename,
                **_context(parsed, token),
                "data": {**data, "sourcemap": ref.url, "symbolicated": True},
            }
        )
    return out


def event_symbolicate(*, project: Project, event: dict[str, Any]) -> dict[str, Any]:
    """The event with its minified frames resolved (a new dict; `event` is not changed)."""
    exception = event.get("exception")
    if not isinstance(exception, dict) or not isinstance(exception.get("values"), list):
        return event
    values = exception["values"]
    resolver = _Resolver(project, event)
    changed = False
    new_values = []
    for value in values:
        stacktrace = value.get("stacktrace") if isinstance(value, dict) else None
        frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
        symbolicated = _frames_symbolicate(resolver, frames) if isinstance(frames, list) else None
        if symbolicated is None or not isinstance(value, dict) or not isinstance(stacktrace, dict):
            new_values.append(value)
            continue
        changed = True
        new_values.append({**value, "stacktrace": {**stacktrace, "frames": symbolicated}, "raw_stacktrace": stacktrace})
    if not changed:
        return event
    return {**event, "exception": {**exception, "values": new_values}}
