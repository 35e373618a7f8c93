"""A token limited to project "shop" works at every endpoint that narrows itself to projects:
it lists, reads and writes shop's objects, never blog's (404 for blog's, 400 naming the field
when it would write into blog), and is refused (403) where objects belong to no project."""

import os
import subprocess

import pytest

from alerts.incidents.services.incidents import alerts_receive
from alerts.models import AlertRule, MaintenanceWindow
from monitoring.models import ArtifactBundle, Deploy, Release, Tag, Target
from monitoring.projects.roles import role_assign
from monitoring.projects.services.api_tokens import api_token_create
from tests.alerts.api.conftest import client_for, queries_for
from tests.alerts.incidents.factories import T0, RuleFactory, firing
from tests.e2e.test_sentry_cli import npm_bin  # noqa: F401 the fixture that installs sentry-cli from npm
from tests.factories import ProjectFactory, UserFactory, make_api_token
from tests.monitoring.errors.sourcemap_support import MINIFIED, app_map, sha1
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = pytest.mark.django_db
ORG = "/api/0/organizations/lookout"
PARAMS = {"metric": "http.latency", "agg": "p95", "window_minutes": 5, "operator": "gt", "threshold": 2000}


@pytest.fixture
def shop():
    return ProjectFactory(slug="shop")


@pytest.fixture
def blog():
    return ProjectFactory(slug="blog")


@pytest.fixture
def ci(shop):
    """An admin's write token limited to shop: what a CI job of shop holds."""
    user = UserFactory()
    role_assign(user=user, role="admin")
    return client_for(api_token_create(user=user, scope="write", projects=[shop]))


@pytest.fixture
def everyone():
    return client_for(make_api_token(scope="write", role="admin"))


def ids(answer) -> list[int]:
    body = answer.json()
    rows = body["results"] if isinstance(body, dict) else body
    return sorted(row["id"] for row in rows)


def refused_outside(answer, field: str, project) -> None:
    assert answer.status_code == 400, answer.content
    [message] = answer.json()["fields"][field]
    assert f"project {project.pk if project else 'none'} is outside them" in message


# --- sentry-cli's release API ---------------------------------------------------------------


def test_a_ci_token_makes_releases_of_its_project_and_is_refused_naming_another(ci, shop, blog):
    made = ci.post(f"{ORG}/releases/", {"version": "shop@1.0", "projects": ["shop"]}, format="json")
    assert made.status_code == 201, made.content
    assert [p["slug"] for p in made.json()["projects"]] == ["shop"]
    for projects in (["blog"], ["shop", "blog"], [blog.pk]):
        refused = ci.post(f"{ORG}/releases/", {"version": "blog@1.0", "projects": projects}, format="json")
        assert refused.status_code == 403
        assert "projects:" in refused.json()["detail"] and "outside them" in refused.json()["detail"]
        assert str(projects[-1]) in refused.json()["detail"]
    assert not Release.objects.filter(version="blog@1.0").exists()


def test_a_ci_token_reads_and_changes_only_its_projects_rows_of_a_version(ci, everyone, shop, blog):
    both = everyone.post(f"{ORG}/releases/", {"version": "2.0", "projects": ["shop", "blog"]}, format="json")
    assert both.status_code == 201
    everyone.post(f"{ORG}/releases/", {"version": "blog@3", "projects": ["blog"]}, format="json")

    assert [r["version"] for r in ci.get(f"{ORG}/releases/").json()] == ["2.0"]
    assert ci.get("/api/0/projects/lookout/blog/releases/").status_code == 404
    assert [r["version"] for r in ci.get("/api/0/projects/lookout/shop/releases/").json()] == ["2.0"]
    assert [p["slug"] for p in ci.get(f"{ORG}/releases/2.0/").json()["projects"]] == ["shop"]
    assert ci.get(f"{ORG}/releases/blog@3/").status_code == 404
    assert ci.get(f"{ORG}/releases/blog@3/deploys/").status_code == 404

    finalized = ci.put(f"{ORG}/releases/2.0/", {"dateReleased": "2026-12-01T10:00:00Z"}, format="json")
    assert finalized.status_code == 200
    released = dict(Release.objects.filter(version="2.0").values_list("project__slug", "date_released"))
    assert released["shop"] is not None and released["blog"] is None
    deployed = ci.post(f"{ORG}/releases/2.0/deploys/", {"environment": "production"}, format="json")
    assert deployed.status_code == 201
    assert list(Deploy.objects.values_list("release__project__slug", flat=True)) == ["shop"]
    moved = ci.put(f"{ORG}/releases/2.0/", {"projects": ["blog"], "url": "https://x.example"}, format="json")
    assert moved.status_code == 403 and "blog" in moved.json()["detail"]

    assert ci.delete(f"{ORG}/releases/2.0/").status_code == 204
    assert sorted(Release.objects.values_list("project__slug", "version")) == [("blog", "2.0"), ("blog", "blog@3")]


def test_a_ci_token_uploads_release_files_to_its_project_only(ci, everyone, shop, blog):
    everyone.post(f"{ORG}/releases/", {"version": "2.0", "projects": ["shop", "blog"]}, format="json")

    def upload(project):
        return ci.post(
            f"/api/0/projects/lookout/{project}/releases/2.0/files/",
            {"name": "~/static/app.min.js", "file": _file(b"console.log(1)")},
            format="multipart",
        )

    assert upload("shop").status_code == 201
    refused = upload("blog")
    assert refused.status_code == 404 and "'blog'" in refused.json()["detail"]
    assert list(ArtifactBundle.objects.values_list("project__slug", flat=True)) == ["shop"]
    assert ci.get("/api/0/projects/lookout/blog/releases/2.0/files/").status_code == 404
    assert len(ci.get("/api/0/projects/lookout/shop/releases/2.0/files/").json()) == 1


def _file(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("app.min.js", content)


def test_chunk_upload_is_organisation_wide_but_assemble_checks_the_bundles_projects(ci, shop, blog):
    assert ci.get(f"{ORG}/chunk-upload/").status_code == 200
    body = {"checksum": sha1(b"zip"), "chunks": [sha1(b"zip")]}
    refused = ci.post(f"{ORG}/artifactbundle/assemble/", {**body, "projects": ["shop", "blog"]}, format="json")
    assert refused.status_code == 403 and "project blog is outside" in refused.json()["detail"]
    mine = ci.post(f"{ORG}/artifactbundle/assemble/", {**body, "projects": ["shop"]}, format="json")
    assert mine.status_code == 200 and mine.json()["state"] == "not_found"
    assert not ArtifactBundle.objects.exists()


# --- targets --------------------------------------------------------------------------------


def test_a_limited_token_sees_and_writes_only_its_projects_targets(ci, everyone, shop, blog):
    mine, theirs = TargetFactory(project=shop), TargetFactory(project=blog)
    assert ids(ci.get("/api/v1/targets")) == [mine.pk]
    assert ids(everyone.get("/api/v1/targets")) == [mine.pk, theirs.pk]
    assert [row["id"] for row in ci.get("/api/v1/targets/summary").json()["targets"]] == [mine.pk]
    for tail in ("", "/results", "/flips", "/regions"):
        assert ci.get(f"/api/v1/targets/{mine.pk}{tail}").status_code == 200
        assert ci.get(f"/api/v1/targets/{theirs.pk}{tail}").status_code == 404
    assert ci.post(f"/api/v1/targets/{theirs.pk}/pause").status_code == 404
    assert ci.delete(f"/api/v1/targets/{theirs.pk}").status_code == 404

    body = {"name": "Blog", "kind": "http", "url": "https://blog.example/"}
    refused_outside(ci.post("/api/v1/targets", {**body, "project": blog.pk}, format="json"), "project", blog)
    assert ci.post("/api/v1/targets", {**body, "project": shop.pk}, format="json").status_code == 201
    refused_outside(ci.patch(f"/api/v1/targets/{mine.pk}", {"project": blog.pk}, format="json"), "project", blog)
    assert Target.objects.filter(project=blog).count() == 1


def test_a_limited_tokens_target_list_costs_the_same_for_more_rows(ci, shop, blog):
    TargetFactory(project=shop), TargetFactory(project=blog)
    one = queries_for(ci, "/api/v1/targets")
    TargetFactory.create_batch(3, project=shop)
    assert queries_for(ci, "/api/v1/targets") == one


# --- incidents, maintenance windows, rules ---------------------------------------------------


def _incident(project, key):
    rule = RuleFactory(project=project)
    signal = firing(rule, dedup_key=key, project_id=project.pk if project else None)
    [incident] = alerts_receive(signals=[signal], now=T0)
    return incident


def test_a_limited_token_works_only_its_projects_incidents(ci, shop, blog):
    mine, theirs, nobodys = _incident(shop, "a"), _incident(blog, "b"), _incident(None, "c")
    assert ids(ci.get("/api/v1/incidents")) == [mine.pk]
    assert ci.get(f"/api/v1/incidents?project={blog.pk}").json()["results"] == []
    assert ci.get(f"/api/v1/incidents/{mine.pk}").status_code == 200
    for other in (theirs, nobodys):
        assert ci.get(f"/api/v1/incidents/{other.pk}").status_code == 404
        assert ci.post(f"/api/v1/incidents/{other.pk}/acknowledge").status_code == 404
    assert ci.post(f"/api/v1/incidents/{mine.pk}/acknowledge").status_code == 200


WINDOW = {
    "name": "Patching",
    "recurrence": "once",
    "starts_at": "2026-03-01T00:00:00Z",
    "duration_minutes": 90,
    "time_zone": "UTC",
    "effect": "mute",
}


def test_a_limited_token_sees_and_writes_windows_over_its_projects_and_their_targets(ci, shop, blog):
    shop_target, blog_target = TargetFactory(project=shop), TargetFactory(project=blog)
    tag = Tag.objects.create(name="edge")
    over = {
        "shop": MaintenanceWindow.objects.create(name="s", project=shop, starts_at=T0, duration_minutes=5),
        "shop target": MaintenanceWindow.objects.create(name="t", target=shop_target, starts_at=T0, duration_minutes=5),
        "blog": MaintenanceWindow.objects.create(name="b", project=blog, starts_at=T0, duration_minutes=5),
        "tag": MaintenanceWindow.objects.create(name="g", tag=tag, starts_at=T0, duration_minutes=5),
    }
    assert ids(ci.get("/api/v1/maintenance-windows")) == sorted([over["shop"].pk, over["shop target"].pk])
    assert ci.get(f"/api/v1/maintenance-windows/{over['blog'].pk}").status_code == 404
    assert ci.delete(f"/api/v1/maintenance-windows/{over['tag'].pk}").status_code == 404

    post = lambda **scope: ci.post("/api/v1/maintenance-windows", {**WINDOW, **scope}, format="json")  # noqa: E731
    refused_outside(post(scope="project", project=blog.pk), "project", blog)
    refused_outside(post(scope="target", target=blog_target.pk), "target", blog)
    refused_outside(post(scope="tag", tag=tag.pk), "tag", None)
    assert post(scope="project", project=shop.pk).status_code == 201
    assert post(scope="target", target=shop_target.pk).status_code == 201
    moved = ci.patch(
        f"/api/v1/maintenance-windows/{over['shop'].pk}", {"scope": "target", "target": blog_target.pk}, format="json"
    )
    refused_outside(moved, "target", blog)
    assert MaintenanceWindow.objects.count() == 6


def _rule(project, **change):
    return {"name": "Slow", "kind": "metric_threshold", "project": project, "params": PARAMS, **change}


def test_a_limited_token_reads_writes_and_previews_only_its_projects_rules(ci, everyone, shop, blog):
    theirs = everyone.post("/api/v1/rules", _rule(blog.pk), format="json").json()["id"]
    made = ci.post("/api/v1/rules", _rule(shop.pk), format="json")
    assert made.status_code == 201, made.content
    mine = made.json()["id"]
    assert ids(ci.get("/api/v1/rules")) == [mine]
    assert ci.get(f"/api/v1/rules/{theirs}").status_code == 404
    assert ci.post(f"/api/v1/rules/{theirs}/preview").status_code == 404
    assert ci.post(f"/api/v1/rules/{mine}/preview").status_code == 200
    assert ci.post("/api/v1/rules/preview", _rule(shop.pk), format="json").status_code == 200
    refused_outside(ci.post("/api/v1/rules/preview", _rule(blog.pk), format="json"), "project", blog)
    refused_outside(ci.post("/api/v1/rules", _rule(blog.pk), format="json"), "project", blog)
    refused_outside(ci.post("/api/v1/rules", _rule(None), format="json"), "project", None)
    refused_outside(ci.patch(f"/api/v1/rules/{mine}", {"project": blog.pk}, format="json"), "project", blog)
    assert AlertRule.objects.filter(project=blog).count() == 1 and AlertRule.objects.count() == 2


def _window(project, n):
    return MaintenanceWindow.objects.create(name=f"w{n}", project=project, starts_at=T0, duration_minutes=5)


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/api/v1/incidents", lambda project, n: _incident(project, f"k{n}")),
        ("/api/v1/maintenance-windows", _window),
        ("/api/v1/rules", lambda project, n: RuleFactory(project=project)),
    ],
)
def test_a_limited_tokens_lists_cost_the_same_for_more_rows(ci, shop, blog, path, make):
    make(shop, 0), make(blog, 1)
    one = queries_for(ci, path)
    for n in range(2, 5):
        make(shop, n)
    assert len(ci.get(path).json()["results"]) == 4
    assert queries_for(ci, path) == one


# --- metrics, and what spans every project ---------------------------------------------------


def test_a_limited_token_queries_metrics_of_its_projects_only(ci, shop, blog):
    assert ci.get("/api/v1/metrics/query?project=shop&name=http.latency").status_code == 200
    refused_outside(ci.get("/api/v1/metrics/query?project=blog&name=http.latency"), "project", blog)


@pytest.mark.parametrize("path", ["/api/v1/channels", "/api/v1/silences", "/api/v1/overview"])
def test_what_belongs_to_no_project_refuses_a_limited_token(ci, shop, path):
    answer = ci.get(path)
    assert answer.status_code == 403
    assert f"limited to projects {shop.pk}" in answer.json()["error"]


# --- the real sentry-cli with a CI token of one project ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sentry_cli_with_a_token_of_shop_releases_and_uploads_for_shop_and_is_refused_for_blog(
    npm_bin,  # noqa: F811
    live_server,
    tmp_path,
):
    shop, _ = ProjectFactory(slug="shop"), ProjectFactory(slug="blog")
    user = UserFactory()
    role_assign(user=user, role="manager")
    token = api_token_create(user=user, scope="write", projects=[shop])
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "app.min.js").write_text(MINIFIED + "\n//# sourceMappingURL=app.min.js.map\n")
    (dist / "app.min.js.map").write_bytes(app_map())
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "SENTRY_URL": live_server.url,
        "SENTRY_AUTH_TOKEN": token.secret,
        "SENTRY_ORG": "lookout",
        "SENTRY_DISABLE_UPDATE_CHECK": "true",
    }

    def cli(project: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(npm_bin / "sentry-cli"), *args, "--project", project]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    made = cli("shop", "releases", "new", "shop@1.0")
    assert made.returncode == 0 and "Created release shop@1.0" in made.stdout + made.stderr
    assert cli("shop", "sourcemaps", "upload", "--release", "shop@1.0", "dist").returncode == 0
    assert list(ArtifactBundle.objects.values_list("project__slug", "release")) == [("shop", "shop@1.0")]

    refused = cli("blog", "releases", "new", "blog@1.0")
    assert refused.returncode != 0 and "project blog is outside" in refused.stderr
    refused = cli("blog", "sourcemaps", "upload", "--release", "blog@1.0", "dist")
    assert refused.returncode != 0 and "project blog is outside" in refused.stderr
    assert list(Release.objects.values_list("project__slug", "version")) == [("shop", "shop@1.0")]
    assert ArtifactBundle.objects.count() == 1
