"""Source maps: sentry-cli's upload protocol (chunks, assemble), refusals with their reason,
and minified frames resolved at ingest by debug id or by release and URL."""

import gzip
import json
import uuid

import pytest

from monitoring.errors.services.artifacts import CHUNK_SIZE
from monitoring.errors.sourcemaps import InvalidSourceMap, SourceMap
from monitoring.models import ArtifactBundle, ArtifactBundleFile, ErrorEvent, ErrorIssue, FileChunk
from tests.factories import ProjectFactory, make_api_token, make_ingest_key
from tests.monitoring.errors.sourcemap_support import (
    MINIFIED,
    ORIGINAL,
    app_map,
    bundle,
    minified_frames,
    sha1,
    source_map,
)
from tests.monitoring.errors.test_ingest_endpoint import auth, envelope, item, post

pytestmark = pytest.mark.django_db
ORG = "/api/0/organizations/lookout"
APP_URL = "http://shop.example/static/app.min.js"


@pytest.fixture
def shop():
    return ProjectFactory(slug="shop")


@pytest.fixture
def token():
    return make_api_token(scope="write").secret


def call(client, token, method, path, body=None):
    return client.generic(
        method,
        path,
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def upload_chunks(client, token, chunks: dict[str, bytes], field="file"):
    """Chunks as sentry-cli posts them: one multipart field repeated, each file named by its SHA-1."""
    boundary = "lookoutboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in chunks.items()
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.generic(
        "POST",
        f"{ORG}/chunk-upload/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def assemble(client, token, data: bytes, chunk_size=CHUNK_SIZE, **extra):
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    body = {"checksum": sha1(data), "chunks": [sha1(c) for c in chunks], "projects": ["shop"], **extra}
    return call(client, token, "POST", f"{ORG}/artifactbundle/assemble/", body), chunks


def app_bundle(debug_id="", release=""):
    headers = {"debug-id": debug_id} if debug_id else {}
    return bundle(
        {
            "~/static/app.min.js": ("minified_source", MINIFIED.encode(), {**headers, "sourcemap": "app.min.js.map"}),
            "~/static/app.min.js.map": ("source_map", app_map(debug_id or None), headers),
        },
        release=release,
        debug_id=debug_id,
    )


def upload(client, token, data, **extra):
    first, chunks = assemble(client, token, data, **extra)
    assert first.json()["state"] == "not_found", first.json()
    assert upload_chunks(client, token, {sha1(c): c for c in chunks}).status_code == 200
    done, _ = assemble(client, token, data, **extra)
    return done.json()


# --- The source map reader ------------------------------------------------------------------


def test_positions_resolve_to_the_closest_mapping_at_or_before_them():
    parsed = SourceMap(app_map())
    assert parsed.lookup(0, 13).line == 2 and parsed.lookup(0, 20).line == 2  # inside `throw …`
    assert parsed.lookup(0, 54).name == "reserveStock"
    assert parsed.lookup(5, 0) is None
    assert parsed.source_lines("../src/cart.js")[2] == ORIGINAL[2]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "a source map must be a JSON object"),
        (json.dumps({"version": 2, "sources": [], "mappings": ""}).encode(), "version: only revision 3"),
        (json.dumps({"version": 3, "sections": []}).encode(), "sections: a non-empty list is required"),
        (json.dumps({"version": 3, "sources": ["a.js"], "mappings": "AA!A"}).encode(), "'!' is not a base64 VLQ digit"),
        (json.dumps({"version": 3, "sources": ["a.js"], "mappings": "AAg"}).encode(), "a value is cut off"),
        (json.dumps({"version": 3, "sources": ["a.js"], "mappings": "AAC"}).encode(), "a segment has 3 fields"),
        (
            json.dumps({"version": 3, "sources": ["a.js"], "mappings": "ACAA"}).encode(),
            "source index 1 is out of range",
        ),
    ],
)
def test_malformed_maps_are_refused_with_the_reason(data, reason):
    with pytest.raises(InvalidSourceMap, match=reason.replace("(", r"\(").replace(")", r"\)")):
        SourceMap(data)


# --- Upload -----------------------------------------------------------------------------------


def test_chunk_upload_options_tell_sentry_cli_where_and_how(client, token):
    options = call(client, token, "GET", f"{ORG}/chunk-upload/").json()
    assert options["url"] == "http://testserver/api/0/organizations/lookout/chunk-upload/"
    assert options["hashAlgorithm"] == "sha1" and options["chunkSize"] == CHUNK_SIZE
    assert "artifact_bundles" in options["accept"] and options["compression"] == ["gzip"]


def test_a_bundle_uploaded_in_chunks_is_assembled_once(client, token, shop):
    data = app_bundle(release="shop@1.0")
    small = 512  # several chunks, one of them sent gzipped as sentry-cli does
    first, chunks = assemble(client, token, data, chunk_size=small, version="shop@1.0")
    assert first.json()["state"] == "not_found" and first.json()["missingChunks"] == [sha1(c) for c in chunks]
    plain = {sha1(c): c for c in chunks[1:]}
    assert upload_chunks(client, token, plain).status_code == 200
    assert (
        upload_chunks(client, token, {sha1(chunks[0]): gzip.compress(chunks[0])}, field="file_gzip").status_code == 200
    )
    done, _ = assemble(client, token, data, chunk_size=small, version="shop@1.0")
    assert done.json() == {"state": "ok", "missingChunks": [], "detail": None}
    stored = ArtifactBundle.objects.get()
    assert (stored.project, stored.release, stored.checksum) == (shop, "shop@1.0", sha1(data))
    assert sorted(ArtifactBundleFile.objects.values_list("url", "type")) == [
        ("~/static/app.min.js", "minified_source"),
        ("~/static/app.min.js.map", "source_map"),
    ]
    assert not FileChunk.objects.exists()  # used up
    again, _ = assemble(client, token, data, chunk_size=small, version="shop@1.0")
    assert again.json()["state"] == "ok" and ArtifactBundle.objects.count() == 1


def test_a_chunk_whose_checksum_does_not_match_is_refused_and_nothing_kept(client, token, shop):
    good = b"a" * 100
    response = upload_chunks(client, token, {sha1(good): good, sha1(b"x"): b"not x"})
    assert response.status_code == 400
    assert response.json()["detail"] == f"chunk {sha1(b'x')}: its content's SHA-1 is {sha1(b'not x')}"
    assert not FileChunk.objects.exists()
    named_badly = upload_chunks(client, token, {"chunk.bin": good})
    assert named_badly.status_code == 400 and "named by its SHA-1" in named_badly.json()["detail"]


def test_a_bundle_with_a_malformed_map_is_refused_with_the_file_named(client, token, shop):
    data = bundle({"~/app.min.js.map": ("source_map", b'{"version": 3, "sources": ["a"], "mappings": "AA!"}', {})})
    assert upload(client, token, data) == {
        "state": "error",
        "missingChunks": [],
        "detail": "~/app.min.js.map: malformed source map: mappings: '!' is not a base64 VLQ digit",
    }
    assert not ArtifactBundle.objects.exists() and not ArtifactBundleFile.objects.exists()


def test_archives_that_are_not_bundles_are_refused(client, token, shop):
    assert upload(client, token, b"PK\x03\x04 not a bundle")["detail"].startswith("not an artifact bundle")
    assert upload(client, token, b"SYSB\x02\x00\x00\x00 broken zip")["detail"].startswith(
        "the archive is not a readable ZIP"
    )
    bad_assemble = call(client, token, "POST", f"{ORG}/artifactbundle/assemble/", {"checksum": "x", "chunks": []})
    assert bad_assemble.status_code == 400 and bad_assemble.json()["detail"].startswith("checksum:")
    assert not ArtifactBundle.objects.exists()


# --- Symbolication at ingest ----------------------------------------------------------------


def send_error(client, key, frames, **event):
    sent = {
        "event_id": uuid.uuid4().hex,
        "platform": "javascript",
        "exception": {"values": [{"type": "Error", "value": "no stock", "stacktrace": {"frames": frames}}]},
        **event,
    }
    assert post(client, f"/api/{key.project_id}/envelope/", envelope(item(sent)), headers=auth(key)).status_code == 200
    return ErrorEvent.objects.get(event_id=sent["event_id"])


def resolved(event):
    frames = event.payload["exception"]["values"][0]["stacktrace"]["frames"]
    return [(f["filename"], f["lineno"], f["function"], f.get("context_line")) for f in frames]


EXPECTED = [
    ("src/cart.js", 8, "?", "checkout();"),
    ("src/cart.js", 6, "checkout", "  reserveStock();"),
    ("src/cart.js", 3, "reserveStock", '  throw new Error("no stock");'),
]


def test_frames_resolve_by_debug_id_and_group_by_the_original(client, token, shop):
    key = make_ingest_key(project=shop).key
    first_build, second_build = str(uuid.uuid4()), str(uuid.uuid4())
    assert upload(client, token, app_bundle(debug_id=first_build))["state"] == "ok"
    assert upload(client, token, app_bundle(debug_id=second_build))["state"] == "ok"
    images = {"images": [{"type": "sourcemap", "code_file": APP_URL, "debug_id": first_build}]}
    event = send_error(client, key, minified_frames(APP_URL), debug_meta=images)
    assert resolved(event) == EXPECTED
    top = event.payload["exception"]["values"][0]
    assert top["raw_stacktrace"]["frames"][2]["function"] == "a"  # the minified frames are kept
    issue = ErrorIssue.objects.get()
    assert issue.culprit == "src/cart.js in reserveStock"
    # The next build renames the file; its frames resolve to the same code: the same issue.
    renamed = "http://shop.example/static/app.4f2a.min.js"
    images = {"images": [{"type": "sourcemap", "code_file": renamed, "debug_id": second_build}]}
    assert resolved(send_error(client, key, minified_frames(renamed), debug_meta=images)) == EXPECTED
    assert ErrorIssue.objects.get() == issue


def test_frames_resolve_by_release_and_url_without_debug_ids(client, token, shop):
    key = make_ingest_key(project=shop).key
    assert upload(client, token, app_bundle(), version="shop@2.0")["state"] == "ok"
    event = send_error(client, key, minified_frames(APP_URL), release="shop@2.0")
    assert resolved(event) == EXPECTED
    other_release = send_error(client, key, minified_frames(APP_URL), release="shop@1.9")
    assert resolved(other_release)[2][2] == "a"  # no map uploaded for it: left as sent


def test_the_original_lines_a_map_brings_are_scrubbed(client, token, shop):
    key = make_ingest_key(project=shop).key
    original = ["function login() {", '  const password = "hunter2";', '  throw new Error("bad");', "}"]
    mapping = source_map([[(0, 0, 2, 2)]], sources=["login.js"], contents=["\n".join(original)])
    data = bundle(
        {
            "~/login.min.js": ("minified_source", b"throw 1", {"sourcemap": "login.min.js.map"}),
            "~/login.min.js.map": ("source_map", mapping, {}),
        }
    )
    assert upload(client, token, data, version="1.0")["state"] == "ok"
    frame = {"abs_path": "http://x/login.min.js", "lineno": 1, "colno": 1, "function": "l"}
    event = send_error(client, key, [frame], release="1.0")
    stored = json.dumps(event.payload)
    assert "hunter2" not in stored
    assert (
        event.payload["exception"]["values"][0]["stacktrace"]["frames"][0]["context_line"]
        == '  throw new Error("bad");'
    )


def test_a_map_too_large_to_decode_in_a_request_is_refused_at_upload(client, token, shop, monkeypatch):
    monkeypatch.setattr("monitoring.errors.sourcemaps.MAX_MAPPINGS_CHARS", 10)
    data = bundle({"~/big.js.map": ("source_map", app_map(), {})})
    detail = upload(client, token, data)["detail"]
    assert detail == "~/big.js.map: malformed source map: mappings: over 10 characters; split the bundle into chunks"


def test_one_event_decodes_a_bounded_amount_of_maps_and_the_next_finds_them_decoded(client, token, shop, monkeypatch):
    key = make_ingest_key(project=shop).key
    build = str(uuid.uuid4())  # content of its own: not decoded by an earlier test
    assert upload(client, token, app_bundle(debug_id=build))["state"] == "ok"
    images = {"images": [{"type": "sourcemap", "code_file": APP_URL, "debug_id": build}]}
    monkeypatch.setattr("monitoring.errors.symbolication.MAX_MAPPINGS_CHARS", 5)
    over_budget = send_error(client, key, minified_frames(APP_URL), debug_meta=images)
    assert resolved(over_budget)[2][2] == "a"  # left minified this once
    monkeypatch.undo()
    assert resolved(send_error(client, key, minified_frames(APP_URL), debug_meta=images)) == EXPECTED
