"""Legacy release files: source maps uploaded one file per request, as sentry-cli 2 sends them
(`releases files <version> upload-sourcemaps`), then minified frames of that release resolved
to the original source at ingest. Refusals name their reason and keep nothing."""

import json

import pytest

from monitoring.errors.services import release_files
from monitoring.models import ArtifactBundleFile, Release
from tests.factories import ProjectFactory, make_api_token, make_ingest_key
from tests.monitoring.errors.sourcemap_support import MINIFIED, app_map, minified_frames, sha1
from tests.monitoring.errors.test_sourcemaps import APP_URL, EXPECTED, resolved, send_error

pytestmark = pytest.mark.django_db
FILES = "/api/0/projects/lookout/shop/releases/{version}/files/"


@pytest.fixture
def shop():
    project = ProjectFactory(slug="shop")
    Release.objects.create(project=project, version="shop@2.0", first_seen="2026-12-07T08:00:00Z")
    return project


@pytest.fixture
def token():
    return make_api_token(scope="write").secret


def upload(client, token, name: str, content: bytes, *, headers=(), dist=None, version="shop@2.0", field="file"):
    """One file as sentry-cli posts it: multipart `file`, `name`, repeated `header`, `dist`."""
    boundary = "lookoutboundary"
    fields = [("name", name), *(("header", h) for h in headers), *((("dist", dist),) if dist else ())]
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name.rsplit("/", 1)[-1]}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return client.generic(
        "POST",
        FILES.format(version=version),
        b"".join(parts) + f"--{boundary}--\r\n".encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def upload_app(client, token, **extra):
    script = upload(
        client, token, "~/static/app.min.js", MINIFIED.encode(), headers=["Sourcemap:app.min.js.map"], **extra
    )
    source_map = upload(client, token, "~/static/app.min.js.map", app_map(), **extra)
    return script, source_map


def test_files_uploaded_one_by_one_resolve_the_releases_minified_frames(client, token, shop):
    script, source_map = upload_app(client, token)
    assert script.status_code == 201 and source_map.status_code == 201
    assert script.json()["name"] == "~/static/app.min.js"
    assert script.json()["headers"] == {"Sourcemap": "app.min.js.map"}
    assert script.json()["sha1"] == sha1(MINIFIED.encode())
    listed = client.get(FILES.format(version="shop@2.0"), HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [(f["name"], f["sha1"]) for f in listed] == [
        ("~/static/app.min.js", sha1(MINIFIED.encode())),
        ("~/static/app.min.js.map", sha1(app_map())),
    ]

    key = make_ingest_key(project=shop).key
    assert resolved(send_error(client, key, minified_frames(APP_URL), release="shop@2.0")) == EXPECTED
    other = send_error(client, key, minified_frames(APP_URL), release="shop@1.9")
    assert resolved(other)[2][2] == "a"  # another release's frames are left as sent


def test_a_dist_keeps_its_own_files(client, token, shop):
    assert all(r.status_code == 201 for r in upload_app(client, token, dist="ios"))
    key = make_ingest_key(project=shop).key
    assert resolved(send_error(client, key, minified_frames(APP_URL), release="shop@2.0", dist="ios")) == EXPECTED
    assert resolved(send_error(client, key, minified_frames(APP_URL), release="shop@2.0"))[2][2] == "a"


def test_refusals_name_their_reason_and_keep_nothing(client, token, shop, monkeypatch):
    first = upload(client, token, "~/static/app.min.js", MINIFIED.encode())
    again = upload(client, token, "~/static/app.min.js", b"changed")
    assert first.status_code == 201 and again.status_code == 409 and "already has" in again.json()["detail"]

    broken = upload(client, token, "~/static/app.min.js.map", b'{"version": 3, "mappings": 7}')
    assert broken.status_code == 400 and "malformed source map" in broken.json()["detail"]
    unknown = upload(client, token, "~/static/app.min.js.map", app_map(), version="shop@9")
    assert unknown.status_code == 404 and "Release not found" in unknown.json()["detail"]
    no_file = upload(client, token, "~/static/x.js", b"x", field="other")
    assert no_file.status_code == 400 and no_file.json()["detail"].startswith("file:")
    bad_header = upload(client, token, "~/static/y.js", b"y", headers=["no colon"])
    assert bad_header.status_code == 400 and bad_header.json()["detail"].startswith("header:")

    monkeypatch.setattr(release_files, "MAX_UNPACKED_BYTES", len(MINIFIED) + 10)
    over = upload(client, token, "~/static/vendor.js", b"v" * 20)
    assert over.status_code == 413 and "would pass" in over.json()["detail"]
    assert list(ArtifactBundleFile.objects.values_list("url", flat=True)) == ["~/static/app.min.js"]


def test_uploads_need_a_write_token(client, shop):
    anonymous = upload(client, "", "~/static/app.min.js", MINIFIED.encode())
    assert anonymous.status_code == 401
    reader = make_api_token(scope="read").secret
    assert upload(client, reader, "~/static/app.min.js", MINIFIED.encode()).status_code == 403
    assert json.loads(anonymous.content)["detail"]
    assert not ArtifactBundleFile.objects.exists()
