"""Indexed source maps (`sections`): two modules concatenated on one generated line, each
with its own flat map placed at its offset. Frames in either resolve to their own file;
malformed sections are refused at upload with the reason."""

import json
import uuid

import pytest

from monitoring.errors.sourcemaps import MAX_MAPPINGS_CHARS, InvalidSourceMap, SourceMap, source_map_check
from monitoring.models import ArtifactBundle, Release
from tests.factories import ProjectFactory, make_api_token, make_ingest_key
from tests.monitoring.errors.sourcemap_support import MINIFIED, ORIGINAL, app_map, bundle, source_map
from tests.monitoring.errors.test_release_files import upload as upload_file
from tests.monitoring.errors.test_sourcemaps import APP_URL, resolved, send_error, upload

pytestmark = pytest.mark.django_db

SKU = 'function c(){throw new TypeError("bad sku")}c();'
SKU_ORIGINAL = ["// sku.js", "function checkSku() {", '  throw new TypeError("bad sku");', "}", "checkSku();"]
CONCATENATED = MINIFIED + SKU  # the second module starts at column 62 of line 0
AT = len(MINIFIED)


def sku_map() -> dict:
    # No mapping at the module's first column: `function ` maps nowhere, `c` to checkSku.
    segments = [(9, 0, 1, 9, 0), (13, 0, 2, 2), (44, 0, 4, 0, 0)]
    flat = source_map([segments], sources=["sku.js"], names=["checkSku"], contents=["\n".join(SKU_ORIGINAL)])
    return {**json.loads(flat), "sourceRoot": "../src"}


def indexed(debug_id=None) -> bytes:
    body = {
        "version": 3,
        "sections": [
            {"offset": {"line": 0, "column": 0}, "map": json.loads(app_map())},
            {"offset": {"line": 0, "column": AT}, "map": sku_map()},
        ],
    }
    if debug_id:
        body["debug_id"] = debug_id
    return json.dumps(body).encode()


def test_each_section_resolves_to_its_own_source_and_names():
    parsed = SourceMap(indexed())
    cart = parsed.lookup(0, 14)
    assert (cart.source, cart.line, cart.name) == ("../src/cart.js", 2, None)
    assert parsed.lookup(0, 54).name == "reserveStock"
    sku = parsed.lookup(0, AT + 13)
    assert (sku.source, sku.line) == ("../src/sku.js", 2)
    assert parsed.lookup(0, AT + 44).name == "checkSku"
    assert parsed.source_lines("../src/sku.js")[2] == SKU_ORIGINAL[2]
    assert parsed.source_lines("../src/cart.js")[2] == ORIGINAL[2]
    # Past the second section's start, before its first mapping: not the first module's code.
    assert parsed.lookup(0, AT + 3) is None


def test_a_section_placed_on_a_later_line_keeps_its_columns():
    body = {
        "version": 3,
        "sections": [
            {"offset": {"line": 0, "column": 0}, "map": json.loads(app_map())},
            {"offset": {"line": 2, "column": 0}, "map": sku_map()},
        ],
    }
    parsed = SourceMap(json.dumps(body))
    assert parsed.lookup(1, 13) is None
    assert parsed.lookup(2, 13).source == "../src/sku.js" and parsed.lookup(2, 13).line == 2
    assert parsed.lookup(0, 14).source == "../src/cart.js"


def section(offset, map_=None, **extra):
    return {"offset": offset, "map": map_ if map_ is not None else sku_map(), **extra}


@pytest.mark.parametrize(
    ("sections", "reason"),
    [
        ([], "sections: a non-empty list is required"),
        ({"0": 1}, "sections: a non-empty list is required"),
        (["x"], r"sections\[0\]: an object with offset and map is required"),
        ([section(None)], r"sections\[0\].offset: line and column, whole numbers from 0, are required"),
        ([section({"line": 0, "column": -1})], r"sections\[0\].offset: line and column"),
        ([section({"line": "0", "column": 0})], r"sections\[0\].offset: line and column"),
        ([section({"line": True, "column": 0})], r"sections\[0\].offset: line and column"),
        (
            [section({"line": 1, "column": 0}), section({"line": 0, "column": 5})],
            r"sections\[1\].offset: sections must be in order and must not overlap",
        ),
        ([section({"line": 0, "column": 0}, url="other.js.map")], r"sections\[0\].url: .* embed the map"),
        ([section({"line": 0, "column": 0}, {"version": 3, "sections": []})], r"sections\[0\].map: nested sections"),
        ([section({"line": 0, "column": 0}, [])], r"sections\[0\].map must be a JSON object"),
        (
            [section({"line": 0, "column": 0}, {"version": 3, "sources": ["a.js"], "mappings": "AA!A"})],
            r"sections\[0\].map.mappings: '!' is not a base64 VLQ digit",
        ),
        (
            [section({"line": 0, "column": 0}, {"version": 3, "sources": "a.js", "mappings": ""})],
            r"sections\[0\].map.sources: a list of strings is required",
        ),
    ],
)
def test_malformed_sections_are_refused_with_the_reason(sections, reason):
    with pytest.raises(InvalidSourceMap, match=reason):
        SourceMap(json.dumps({"version": 3, "sections": sections}))


def test_the_size_limit_counts_every_sections_mappings():
    half = {"version": 3, "sources": ["a.js"], "mappings": "A" * (MAX_MAPPINGS_CHARS // 2 + 1)}
    sections = [section({"line": 0, "column": 0}, half), section({"line": 1, "column": 0}, half)]
    with pytest.raises(InvalidSourceMap, match="mappings: over"):
        source_map_check(json.dumps({"version": 3, "sections": sections}))


@pytest.fixture
def shop():
    project = ProjectFactory(slug="shop")
    Release.objects.create(project=project, version="shop@2.0", first_seen="2026-12-07T08:00:00Z")
    return project


@pytest.fixture
def token():
    return make_api_token(scope="write").secret


def test_an_uploaded_indexed_map_resolves_the_second_modules_frames(client, token, shop):
    debug_id = str(uuid.uuid4())
    headers = {"debug-id": debug_id}
    data = bundle(
        {
            "~/static/app.min.js": (
                "minified_source",
                CONCATENATED.encode(),
                {**headers, "sourcemap": "app.min.js.map"},
            ),
            "~/static/app.min.js.map": ("source_map", indexed(debug_id), headers),
        },
        debug_id=debug_id,
    )
    assert upload(client, token, data)["state"] == "ok"
    key = make_ingest_key(project=shop).key
    # The second module's stack: its top-level call `c()`, then the throw inside c.
    frames = [
        {"abs_path": APP_URL, "filename": APP_URL, "function": "?", "lineno": 1, "colno": AT + 45, "in_app": True},
        {"abs_path": APP_URL, "filename": APP_URL, "function": "c", "lineno": 1, "colno": AT + 14, "in_app": True},
    ]
    images = {"images": [{"type": "sourcemap", "code_file": APP_URL, "debug_id": debug_id}]}
    event = send_error(client, key, frames, debug_meta=images)
    assert resolved(event) == [
        ("src/sku.js", 5, "?", "checkSku();"),
        ("src/sku.js", 3, "checkSku", '  throw new TypeError("bad sku");'),
    ]
    assert event.issue.culprit == "src/sku.js in checkSku"


def test_malformed_sections_are_answered_400_or_an_assemble_error_naming_them(client, token, shop):
    broken = json.dumps({"version": 3, "sections": [section({"line": 0, "column": -1})]}).encode()
    response = upload_file(client, token, "~/static/app.min.js.map", broken)
    assert response.status_code == 400
    assert "sections[0].offset: line and column" in response.json()["detail"]
    assembled = upload(client, token, bundle({"~/app.min.js.map": ("source_map", broken, {})}))
    assert assembled["state"] == "error"
    assert assembled["detail"].startswith("~/app.min.js.map: malformed source map: sections[0].offset")
    assert not ArtifactBundle.objects.exists()
