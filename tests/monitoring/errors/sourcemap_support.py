"""Source maps and artifact bundles built in tests: a VLQ encoder, so a test states its
mappings as positions, and the archive sentry-cli uploads (SYSB + ZIP + manifest.json)."""

import hashlib
import io
import json
import zipfile

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _vlq(value: int) -> str:
    value = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit, value = value & 31, value >> 5
        out += _B64[digit | (32 if value else 0)]
        if not value:
            return out


def source_map(lines, *, sources, names=(), contents=None, debug_id=None) -> bytes:
    """`lines`: per generated line, segments (gen_col, source, line, col[, name]), 0-based."""
    state = [0, 0, 0, 0]
    encoded = []
    for segments in lines:
        col = 0
        parts = []
        for segment in segments:
            fields = [_vlq(segment[0] - col)]
            col = segment[0]
            for i, value in enumerate(segment[1:]):
                fields.append(_vlq(value - state[i]))
                state[i] = value
            parts.append("".join(fields))
        encoded.append(",".join(parts))
    body = {"version": 3, "sources": list(sources), "names": list(names), "mappings": ";".join(encoded)}
    if contents is not None:
        body["sourcesContent"] = list(contents)
    if debug_id:
        body["debug_id"] = debug_id
    return json.dumps(body).encode()


def bundle(files: dict[str, tuple[str, bytes, dict]], *, release="", debug_id="") -> bytes:
    """`files`: url -> (type, content, headers), as sentry-cli's source bundle holds them."""
    buffer = io.BytesIO()
    manifest = {"files": {}, "attributes": {"debug_id": debug_id, **({"release": release} if release else {})}}
    with zipfile.ZipFile(buffer, "w") as archive:
        for n, (url, (kind, content, headers)) in enumerate(files.items()):
            path = f"files/_/_/{n}_{url.rsplit('/', 1)[-1]}"
            archive.writestr(path, content)
            manifest["files"][path] = {"type": kind, "url": url, "headers": headers}
        archive.writestr("manifest.json", json.dumps(manifest))
    return b"SYSB\x02\x00\x00\x00" + buffer.getvalue()


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # noqa: S324 the protocol's checksum


# A minified app, one line: `function a(){throw new Error("no stock")}function b(){a()}b();`
MINIFIED = 'function a(){throw new Error("no stock")}function b(){a()}b();'
ORIGINAL = [
    "// cart.js",
    "function reserveStock() {",
    '  throw new Error("no stock");',
    "}",
    "function checkout() {",
    "  reserveStock();",
    "}",
    "checkout();",
]
NAMES = ["reserveStock", "checkout"]


def app_map(debug_id=None) -> bytes:
    # Generated columns of the minified line: `throw` at 13, the call `a()` at 54, `b()` at 58.
    segments = [
        (0, 0, 1, 0),
        (9, 0, 1, 9, 0),  # a → reserveStock
        (13, 0, 2, 2),  # throw
        (41, 0, 4, 0),
        (50, 0, 4, 9, 1),  # b → checkout
        (54, 0, 5, 2, 0),  # the call a() → reserveStock
        (58, 0, 7, 0, 1),  # the call b() → checkout
    ]
    return source_map(
        [segments], sources=["../src/cart.js"], names=NAMES, contents=["\n".join(ORIGINAL)], debug_id=debug_id
    )


def minified_frames(abs_path: str) -> list[dict]:
    """The stack a browser reports for the minified app, oldest frame first (Sentry's order)."""
    return [
        {"abs_path": abs_path, "filename": abs_path, "function": "?", "lineno": 1, "colno": 59, "in_app": True},
        {"abs_path": abs_path, "filename": abs_path, "function": "b", "lineno": 1, "colno": 55, "in_app": True},
        {"abs_path": abs_path, "filename": abs_path, "function": "a", "lineno": 1, "colno": 14, "in_app": True},
    ]
