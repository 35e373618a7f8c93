"""The release paths the bundler plugins reach before uploading source maps: they run
sentry-cli 2 with one project, which names it in the path (/api/0/projects/<org>/<project>/
releases/…) to create and finalize the release. A token limited to projects is held to them
there as in the body of the organization's paths."""

import pytest

from monitoring.models import Release
from tests.monitoring.projects.test_limited_tokens_everywhere import blog, ci, everyone, shop  # noqa: F401 fixtures

pytestmark = pytest.mark.django_db
SHOP = "/api/0/projects/lookout/shop/releases/"
BLOG = "/api/0/projects/lookout/blog/releases/"


def test_a_release_is_created_and_finalized_in_the_project_the_path_names(ci, shop):  # noqa: F811
    made = ci.post(SHOP, {"version": "shop@4.0.0"}, format="json")
    assert made.status_code == 201, made.content
    assert [p["slug"] for p in made.json()["projects"]] == ["shop"]
    assert ci.post(SHOP, {"version": "shop@4.0.0"}, format="json").status_code == 208  # already there
    finalized = ci.put(f"{SHOP}shop@4.0.0/", {"dateReleased": "2026-12-07T10:00:00Z"}, format="json")
    assert finalized.status_code == 200 and finalized.json()["dateReleased"].startswith("2026-12-07T10:00:00")
    assert Release.objects.get(project=shop, version="shop@4.0.0").date_released is not None
    assert ci.get(f"{SHOP}shop@4.0.0/").json()["version"] == "shop@4.0.0"


def test_the_path_names_the_project_and_the_token_must_reach_it(ci, everyone, shop, blog):  # noqa: F811
    refused = ci.post(BLOG, {"version": "blog@1.0"}, format="json")
    assert refused.status_code == 403 and "projects:" in refused.json()["detail"]
    missing = everyone.post("/api/0/projects/lookout/nope/releases/", {"version": "1.0"}, format="json")
    assert missing.status_code == 400 and missing.json()["detail"] == "projects: no project 'nope'"
    assert everyone.post(BLOG, {"version": "blog@1.0"}, format="json").status_code == 201
    # blog's release is not shop's, through either token.
    assert everyone.put(f"{SHOP}blog@1.0/", {"dateReleased": "2026-12-07T10:00:00Z"}, format="json").status_code == 404
    assert ci.put(f"{BLOG}blog@1.0/", {}, format="json").status_code == 403
    assert ci.delete(f"{BLOG}blog@1.0/").status_code == 403
    assert Release.objects.get(version="blog@1.0").date_released is None
    bad = everyone.post(SHOP, {"version": ""}, format="json")
    assert bad.status_code == 400 and bad.json()["detail"].startswith("version")
