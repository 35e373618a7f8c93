"""The envelope parser and the capped, streaming body decoder."""

import gzip
import io
import json
import os
import zlib

import brotli
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.errors.body import BadEncoding, BodyReader, BodyTooLarge
from monitoring.errors.envelope import EnvelopeError, parse

EVENT = json.dumps({"message": "hello"}).encode()


def test_items_with_and_without_length_and_a_payload_holding_newlines():
    attachment = b"line one\nline two\n"
    body = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
        b'{"type":"event","length":%d}\n%s\n'
        b'{"type":"attachment","length":%d,"filename":"a.txt"}\n%s\n'
        b'{"type":"event"}\n%s' % (len(EVENT), EVENT, len(attachment), attachment, EVENT)
    )
    envelope = parse(body)
    assert envelope.headers["event_id"] == "9ec79c33ec9942ab8353589fcb2e04dc"
    assert [i.type for i in envelope.items] == ["event", "attachment", "event"]
    assert envelope.items[1].payload == attachment
    assert envelope.items[2].json() == {"message": "hello"}
    assert envelope.broken == ""


def test_a_truncated_item_keeps_the_items_before_it():
    body = b'{}\n{"type":"event"}\n%s\n{"type":"event","length":500}\n{"mess' % EVENT
    envelope = parse(body)
    assert [i.json() for i in envelope.items] == [{"message": "hello"}]
    assert envelope.broken == "truncated item"


def test_a_length_shorter_than_its_payload_breaks_the_envelope_there():
    body = b'{}\n{"type":"event"}\n%s\n{"type":"event","length":5}\n%s\n' % (EVENT, EVENT)
    envelope = parse(body)
    assert len(envelope.items) == 1
    assert envelope.broken == "item length does not match its payload"


def test_an_unreadable_item_header_or_length_stops_parsing():
    assert parse(b'{}\n{"type":"event"}\n{}\nnot json\n{"type":"event"}\n{}\n').broken == "invalid item header"
    assert parse(b'{}\n{"type":"event","length":-1}\n{}\n').broken == "invalid item length"
    assert parse(b'{}\n{"length":2}\n{}\n').broken == "invalid item header"


def test_an_unusable_envelope_header_is_an_error():
    for body in (b"", b"\n", b"[1]\n", b"{nope\n"):
        with pytest.raises(EnvelopeError):
            parse(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_envelope_error(data):
    try:
        envelope = parse(b"{}\n" + data)
    except EnvelopeError:  # pragma: no cover - the header is always valid here
        raise AssertionError("a valid header must not be refused") from None
    for item in envelope.items:
        assert isinstance(item.payload, bytes)


def read(body, encoding, *, max_read=10_000, max_size=10_000):
    return BodyReader(io.BytesIO(body), content_encoding=encoding, max_read=max_read, max_size=max_size).read_all()


@pytest.mark.parametrize(
    "encoding,compress",
    [
        ("", lambda b: b),
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some clients send it
        ("br", brotli.compress),
    ],
)
def test_bodies_decode_in_every_encoding(encoding, compress):
    body = b'{"event_id":"abc"}\n' * 200
    assert read(compress(body), encoding) == body


@pytest.mark.parametrize(
    "encoding,compress", [("gzip", gzip.compress), ("br", brotli.compress), ("deflate", zlib.compress)]
)
def test_a_compression_bomb_stops_at_the_cap(encoding, compress):
    bomb = compress(b"\0" * 50_000_000)
    assert len(bomb) < 100_000
    reader = BodyReader(io.BytesIO(bomb), content_encoding=encoding, max_read=1_000_000, max_size=1_000_000)
    with pytest.raises(BodyTooLarge):
        reader.read_all()
    assert len(reader.data) < 2_000_000


def test_too_many_bytes_on_the_wire_is_refused_before_decoding_them_all():
    with pytest.raises(BodyTooLarge):
        read(b"x" * 200_000, "", max_read=100_000, max_size=10**9)


def test_unknown_or_corrupt_encodings_are_refused():
    with pytest.raises(BadEncoding):
        read(b"abc", "compress")
    with pytest.raises(BadEncoding):
        read(b"definitely not brotli", "br")
    with pytest.raises(BadEncoding):
        read(b"\x1f\x8bnot gzip at all", "gzip")


def test_a_compressed_stream_cut_short_yields_what_it_decoded():
    body = b'{}\n{"type":"event"}\n' + EVENT + b"\n" + os.urandom(5000).hex().encode()
    partial = read(zlib.compress(body)[:-200], "deflate")
    assert body.startswith(partial) and len(partial) > len(EVENT)


def test_first_line_reads_only_as_far_as_the_header():
    stream = io.BytesIO(b'{"dsn":"x"}\n' + b"y" * 500_000)
    reader = BodyReader(stream, content_encoding="", max_read=10**6, max_size=10**6)
    assert reader.first_line(limit=4096) == b'{"dsn":"x"}'
    assert stream.tell() <= 64 * 1024
    assert len(reader.read_all()) == 12 + 500_000
