"""The part of Sentry's web API that `sentry-cli releases` and `sentry-cli deploys` call,
under /api/0/ with an API token (`Authorization: Bearer lkt_…`; a write-scoped token for
writes). Lookout is one organisation: any organisation slug in a path names it, so
`SENTRY_ORG` may be anything (`lookout` reads best). Projects are named by slug or id.

Answers are Sentry's shapes, trimmed to the fields sentry-cli reads; errors are Sentry's
{"detail": …}, naming the field. Unknown body fields are ignored, as Sentry ignores them:
newer sentry-cli versions send fields older servers do not know.
"""

from datetime import UTC, datetime
from typing import Any

from django.db import DataError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.errors import release_selectors as selectors
from monitoring.errors.services.releases import (
    CommitIn,
    InvalidRelease,
    deploy_create,
    release_delete,
    release_update,
    release_upsert,
    release_version_check,
)
from monitoring.models import ApiToken, Deploy, ErrorIssueSeenIn, Project, Release, ReleaseCommit
from monitoring.projects.api.scoping import limited_message, outside_token, token_projects


class Invalid(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST


def _sentry_errors(exc: Exception, context: dict) -> Response | None:
    """Sentry's error shape, {"detail": …}, which sentry-cli prints."""
    if isinstance(exc, InvalidRelease):
        return Response({"detail": f"{exc.field}: {exc}"}, status=400)
    if isinstance(exc, DataError):
        return Response({"detail": "a value of this request does not fit the database"}, status=400)
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, exceptions.NotAuthenticated) else {}
        return Response({"detail": detail}, status=exc.status_code, headers=headers)
    return None


@extend_schema(exclude=True)  # Sentry's API, documented by Sentry; not part of Lookout's schema
class SentryApiView(APIView):
    # A project-limited token (a CI job's) works here within its projects: every view narrows
    # releases and files to them, and refuses naming a project outside them.
    scopes_by_project = True

    def get_exception_handler(self):
        return _sentry_errors

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated("Authorization: send an API token as 'Authorization: Bearer lkt_…'.")
        raise exceptions.PermissionDenied(message or "this token may not do that")


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise Invalid("the body must be a JSON object")
    return request.data


def _text(body: dict, field: str, limit: int) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(f"{field}: a string of at most {limit} characters")
    return value


def _time(body: dict, field: str) -> datetime | None:
    value = body.get(field)
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise Invalid(f"{field}: an ISO 8601 date and time")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _projects(request: Request, body: dict, *, required: bool) -> list[Project] | None:
    names = body.get("projects")
    if names is None and not required:
        return None
    if not isinstance(names, list) or not names or not all(isinstance(n, (str, int)) for n in names):
        raise Invalid("projects: a non-empty list of project slugs or ids")
    found = []
    for name in names:
        lookup = {"pk": int(name)} if isinstance(name, int) or str(name).isdigit() else {"slug": name}
        project = Project.objects.filter(**lookup).first()
        if project is None:
            raise Invalid(f"projects: no project {name!r}")
        if outside_token(request, [project.pk]):
            raise exceptions.PermissionDenied(f"projects: {limited_message(request, [name])}")
        found.append(project)
    return found


def _in_path(request: Request, project: str | None) -> list[Project] | None:
    """The project a /api/0/projects/<org>/<project>/… path names, checked as a body's would be."""
    return None if project is None else _projects(request, {"projects": [project]}, required=True)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _commit_json(commit: ReleaseCommit) -> dict[str, Any]:
    return {
        "id": commit.commit_id,
        "message": commit.message,
        "dateCreated": _iso(commit.timestamp),
        "author": {"name": commit.author_name, "email": commit.author_email},
        "repository": {"name": commit.repository},
    }


def _deploy_json(deploy: Deploy) -> dict[str, Any]:
    return {
        "id": str(deploy.pk),
        "environment": deploy.environment,
        "name": deploy.name or None,
        "url": deploy.url or None,
        "dateStarted": _iso(deploy.date_started),
        "dateFinished": _iso(deploy.date_finished),
    }


def _release_json(rows: list[Release]) -> dict[str, Any]:
    """One version over the projects that have it, as Sentry's release."""
    last_commit = selectors.release_last_commit(rows)
    deploys = selectors.release_deploys(rows)
    last_event = (
        ErrorIssueSeenIn.objects.filter(
            dimension=ErrorIssueSeenIn.Dimension.RELEASE,
            value=rows[0].version,
            issue__project__in=[r.project_id for r in rows],
        )
        .order_by("-last_seen")
        .values_list("last_seen", flat=True)
        .first()
    )
    released = [r.date_released for r in rows if r.date_released]
    return {
        "version": rows[0].version,
        "shortVersion": rows[0].version,
        "url": next((r.url for r in rows if r.url), None),
        "dateCreated": _iso(min(r.first_seen for r in rows)),
        "dateReleased": _iso(min(released)) if released else None,
        "lastEvent": _iso(last_event),
        "newGroups": selectors.release_new_issue_count(rows),
        "projects": [{"id": r.project.pk, "slug": r.project.slug, "name": r.project.name} for r in rows],
        "lastCommit": _commit_json(last_commit) if last_commit else None,
        "commitCount": len(selectors.release_commits(rows)),
        "deployCount": len(deploys),
        "lastDeploy": _deploy_json(deploys[0]) if deploys else None,
        "status": "open",
    }


def _scoped(request: Request, rows: list[Release]) -> list[Release]:
    """The rows of the token's projects (all of them for a token that is not limited)."""
    limited = token_projects(request)
    return rows if limited is None else [r for r in rows if r.project_id in limited]


def _rows(request: Request, version: str, projects: list[Project] | None = None) -> list[Release]:
    rows = _scoped(request, selectors.releases_of(version, projects=projects))
    if not rows:
        raise exceptions.NotFound(f"release {version!r} not found")
    return rows


def _commits(body: dict) -> list[CommitIn] | None:
    """`commits` (set-commits from local git) or `refs` (a head commit per repository)."""
    commits, refs = body.get("commits"), body.get("refs")
    if commits is None and refs is None:
        return None
    parsed = []
    for field, entries, id_key in (("commits", commits, "id"), ("refs", refs, "commit")):
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise Invalid(f"{field}: a list")
        for n, entry in enumerate(entries):
            where = f"{field}[{n}]"
            if not isinstance(entry, dict):
                raise Invalid(f"{where}: an object")
            commit_id = _text(entry, id_key, 64)
            if not commit_id:
                raise Invalid(f"{where}.{id_key}: the commit's id is required (at most 64 characters)")
            parsed.append(
                CommitIn(
                    repository=_text(entry, "repository", 200) or "",
                    commit_id=commit_id,
                    message=_text(entry, "message", 100_000) or "",
                    author_name=_text(entry, "author_name", 1000) or "",
                    author_email=_text(entry, "author_email", 1000) or "",
                    timestamp=_time(entry, "timestamp"),
                )
            )
    return parsed


class AuthInfoView(SentryApiView):
    """GET /api/0/: who the token is (`sentry-cli info`)."""

    def get(self, request: Request) -> Response:
        token = request.auth
        scopes = ["project:read", "org:read"]
        if not isinstance(token, ApiToken) or token.allows_writes:
            scopes += ["project:releases", "project:write", "org:write"]
        user = request.user
        email = getattr(user, "email", "")
        return Response({"user": {"id": str(user.pk), "email": email}, "auth": {"scopes": scopes}})


class ReleasesView(SentryApiView):
    """GET, POST /api/0/organizations/<org>/releases/ (`releases new`, `releases list`), and
    /api/0/projects/<org>/<project>/releases/."""

    def get(self, request: Request, org: str, project: str | None = None) -> Response:
        scope = None
        if project is not None:
            scope = Project.objects.filter(slug=project).first()
            if scope is None or outside_token(request, [scope.pk]):
                raise exceptions.NotFound(f"project {project!r} not found among this token's projects")
        versions = selectors.releases_list(project=scope, projects=token_projects(request))
        return Response([_release_json(rows) for rows in versions])

    def post(self, request: Request, org: str, project: str | None = None) -> Response:
        body = _body(request)
        version = release_version_check(body.get("version"))
        # sentry-cli 2 (as the bundler plugins run it) names its one project in the path.
        projects = _in_path(request, project) or _projects(request, body, required=True) or []
        started = _time(body, "dateStarted") or timezone.now()
        rows, created = release_upsert(
            projects=projects,
            version=version,
            at=started,
            url=_text(body, "url", 500),
            date_released=_time(body, "dateReleased"),
        )
        commits = _commits(body)
        if commits is not None:
            release_update(releases=rows, commits=commits)
        # Sentry answers 208 when the release was there already; sentry-cli takes either.
        return Response(_release_json(rows), status=201 if created else 208)


class ReleaseView(SentryApiView):
    """GET, PUT, DELETE /api/0/organizations/<org>/releases/<version>/ (`finalize`, `set-commits`),
    and /api/0/projects/<org>/<project>/releases/<version>/ (sentry-cli 2 with one project)."""

    def get(self, request: Request, org: str, version: str, project: str | None = None) -> Response:
        return Response(_release_json(_rows(request, version, _in_path(request, project))))

    def put(self, request: Request, org: str, version: str, project: str | None = None) -> Response:
        body = _body(request)
        projects = _in_path(request, project) or _projects(request, body, required=False)
        rows = _rows(request, version, projects)
        release_update(
            releases=rows,
            url=_text(body, "url", 500),
            date_released=_time(body, "dateReleased"),
            commits=_commits(body),
        )
        return Response(_release_json(_rows(request, version, projects)))

    def delete(self, request: Request, org: str, version: str, project: str | None = None) -> Response:
        release_delete(releases=_rows(request, version, _in_path(request, project)))
        return Response(status=204)


class ReleaseCommitsView(SentryApiView):
    def get(self, request: Request, org: str, version: str) -> Response:
        return Response([_commit_json(c) for c in selectors.release_commits(_rows(request, version))])


class PreviousWithCommitsView(SentryApiView):
    """Where `set-commits` starts: the last commit of the newest older release with commits.
    `{}` when there is none, exactly: sentry-cli refuses any other field in that answer."""

    def get(self, request: Request, org: str, version: str) -> Response:
        previous = selectors.release_previous_with_commits(_scoped(request, selectors.releases_of(version)))
        return Response(_release_json([previous]) if previous else {})


class DeploysView(SentryApiView):
    """GET, POST /api/0/organizations/<org>/releases/<version>/deploys/ (`deploys new`, `deploys list`)."""

    def get(self, request: Request, org: str, version: str) -> Response:
        return Response([_deploy_json(d) for d in selectors.release_deploys(_rows(request, version))])

    def post(self, request: Request, org: str, version: str) -> Response:
        body = _body(request)
        environment = _text(body, "environment", 64)
        if not environment:
            raise Invalid("environment: required")
        rows = _rows(request, version, _projects(request, body, required=False))
        finished = _time(body, "dateFinished") or timezone.now()
        deploys = deploy_create(
            releases=rows,
            environment=environment,
            name=_text(body, "name", 250) or "",
            url=_text(body, "url", 500) or "",
            date_started=_time(body, "dateStarted"),
            date_finished=finished,
        )
        return Response(_deploy_json(deploys[0]), status=201)


class ReposView(SentryApiView):
    """No repository integrations: sentry-cli then takes commits from the local git checkout."""

    def get(self, request: Request, org: str) -> Response:
        return Response([])
