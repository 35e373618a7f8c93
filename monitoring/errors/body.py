"""Reading an ingest request's body: decompressed as a stream, never past a size cap.

A few kilobytes of gzip or brotli can expand to gigabytes, so the cap is checked on the
decompressed bytes as they come out, not on the whole body after the fact.
"""

import zlib
from typing import Protocol

import brotli

CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    pass


class BadEncoding(Exception):
    pass


class _Stream(Protocol):
    """What the body is read from: Django's request, or any binary file."""

    def read(self, size: int, /) -> bytes: ...


class _Decoder(Protocol):
    def feed(self, data: bytes, room: int) -> bytes: ...


class _Identity:
    def feed(self, data: bytes, room: int) -> bytes:
        return data


class _Zlib:
    """gzip, or deflate with or without the zlib wrapper (clients disagree on "deflate")."""

    def __init__(self, gzip: bool):
        self._gzip = gzip
        self._inflate: zlib._Decompress | None = None

    def _start(self, first: bytes) -> "zlib._Decompress":
        if self._gzip:
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        if self._inflate is None:
            self._inflate = self._start(data)
        if self._inflate.eof:
            return b""  # trailing bytes after the stream's end carry nothing
        out = bytearray()
        pending = data
        try:
            while pending and len(out) <= room:
                out += self._inflate.decompress(pending, room + 1 - len(out))
                pending = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise BadEncoding(str(exc)) from exc
        return bytes(out)


class _Brotli:
    def __init__(self):
        self._decoder = brotli.Decompressor()

    def feed(self, data: bytes, room: int) -> bytes:
        out = bytearray()
        try:
            out += self._decoder.process(data, output_buffer_limit=room + 1)
            # Output still waiting inside the decoder: drain it while within the cap.
            while not self._decoder.can_accept_more_data() and len(out) <= room:
                out += self._decoder.process(b"", output_buffer_limit=room + 1 - len(out))
        except brotli.error as exc:
            raise BadEncoding(str(exc)) from exc
        return bytes(out)


def _decoder(content_encoding: str) -> _Decoder:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return _Identity()
    if encoding in ("gzip", "x-gzip"):
        return _Zlib(gzip=True)
    if encoding == "deflate":
        return _Zlib(gzip=False)
    if encoding == "br":
        return _Brotli()
    raise BadEncoding(f"unsupported Content-Encoding {content_encoding!r}")


class BodyReader:
    """The decoded body, pulled chunk by chunk. `BodyTooLarge` past `max_read` bytes on the
    wire or `max_size` decoded; `BadEncoding` for an unknown or corrupt encoding. A
    compressed stream cut short yields what it decoded: the envelope parser keeps the
    whole items in it."""

    def __init__(self, stream: _Stream, *, content_encoding: str, max_read: int, max_size: int):
        self._stream = stream
        self._decoder = _decoder(content_encoding)
        self._max_read, self._max_size = max_read, max_size
        self._read = 0
        self._done = False
        self.data = bytearray()

    def _pull(self) -> bool:
        chunk = self._stream.read(CHUNK)
        if not chunk:
            self._done = True
            return False
        self._read += len(chunk)
        if self._read > self._max_read:
            raise BodyTooLarge(f"body over {self._max_read} bytes")
        self.data += self._decoder.feed(chunk, self._max_size - len(self.data))
        if len(self.data) > self._max_size:
            raise BodyTooLarge(f"decompressed body over {self._max_size} bytes")
        return True

    def first_line(self, limit: int) -> bytes:
        """Up to the first newline, reading no more than needed (an envelope's header)."""
        while b"\n" not in self.data[:limit] and len(self.data) < limit and not self._done:
            self._pull()
        return bytes(self.data[:limit].split(b"\n", 1)[0])

    def read_all(self) -> bytes:
        while not self._done:
            self._pull()
        return bytes(self.data)
