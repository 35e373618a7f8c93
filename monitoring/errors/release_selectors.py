"""Reads about releases: the rows of a version, what sentry-cli is told about one, and what a
release page shows (commits, deploys, new and regressed issues, health, adoption)."""

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Sum
from django.utils import timezone

from monitoring.errors.selectors import Health, release_health
from monitoring.models import (
    ArtifactBundleFile,
    Deploy,
    ErrorIssue,
    ErrorIssueActivity,
    ErrorIssueSeenIn,
    Project,
    Release,
    ReleaseCommit,
    ReleaseHealth,
)

ADOPTION_WINDOW = timedelta(hours=24)


def releases_of(version: str, *, projects: Sequence[Project] | None = None) -> list[Release]:
    """The rows of a version, in the projects named (every project's when None)."""
    rows = Release.objects.filter(version=version).select_related("project").order_by("project_id")
    if projects is not None:
        rows = rows.filter(project__in=projects)
    return list(rows)


def releases_list(
    *, project: Project | None = None, projects: Collection[int] | None = None, limit: int = 100
) -> list[list[Release]]:
    """The newest versions first, each as its project rows (of `projects`' ids when given)."""
    rows = Release.objects.select_related("project").order_by("-first_seen", "-id")
    if project is not None:
        rows = rows.filter(project=project)
    if projects is not None:
        rows = rows.filter(project_id__in=projects)
    versions: dict[str, list[Release]] = {}
    for release in rows[: limit * 4]:
        if release.version in versions or len(versions) < limit:
            versions.setdefault(release.version, []).append(release)
    return list(versions.values())


def release_new_issues(release: Release, *, limit: int | None = None) -> list[ErrorIssue]:
    """Issues whose first event was of this release, newest first (the first `limit`)."""
    rows = ErrorIssue.objects.filter(
        seen_in__dimension=ErrorIssueSeenIn.Dimension.RELEASE,
        seen_in__value=release.version,
        project_id=release.project_id,
        seen_in__first_seen=F("first_seen"),
    ).order_by("-first_seen")
    return list(rows if limit is None else rows[:limit])


def release_new_issue_count(releases: Sequence[Release]) -> int:
    return sum(len(release_new_issues(r)) for r in releases)


def release_regressed_issues(release: Release, *, limit: int | None = None) -> list[ErrorIssue]:
    """Issues that came back after a resolve with an event of this release, last seen first
    (the first `limit`)."""
    ids = ErrorIssueActivity.objects.filter(
        issue__project_id=release.project_id,
        action=ErrorIssueActivity.Action.REGRESSED,
        detail__release=release.version,
    ).values("issue_id")
    rows = ErrorIssue.objects.filter(pk__in=ids).order_by("-last_seen")
    return list(rows if limit is None else rows[:limit])


def release_commits(releases: Sequence[Release]) -> list[ReleaseCommit]:
    """A version's commits, newest first, each once (every project's row of the version
    holds the same list when sentry-cli set them together)."""
    seen: set[tuple[str, str]] = set()
    commits = []
    for commit in ReleaseCommit.objects.filter(release__in=releases).order_by("position", "id"):
        if (commit.repository, commit.commit_id) not in seen:
            seen.add((commit.repository, commit.commit_id))
            commits.append(commit)
    return commits


def release_last_commit(releases: Sequence[Release]) -> ReleaseCommit | None:
    return ReleaseCommit.objects.filter(release__in=releases, position=0).order_by("id").first()


def release_previous_with_commits(releases: Sequence[Release]) -> Release | None:
    """The newest older release (of the same projects) that has commits: where set-commits
    starts its range, so each release lists only its own commits."""
    if not releases:
        return None
    newest = max(r.first_seen for r in releases)
    return (
        Release.objects.filter(project__in=[r.project_id for r in releases], first_seen__lt=newest)
        .annotate(commit_count=Count("commits"))
        .filter(commit_count__gt=0)
        .order_by("-first_seen", "-id")
        .first()
    )


def release_deploys(releases: Sequence[Release]) -> list[Deploy]:
    return list(Deploy.objects.filter(release__in=releases).select_related("release__project"))


def release_adoption(release: Release, *, now: datetime | None = None) -> float | None:
    """The share of the project's sessions of the last 24 hours that ran this release (None
    without sessions): how far a rollout has gone."""
    since = ((now or timezone.now()) - ADOPTION_WINDOW).date()
    rows = ReleaseHealth.objects.filter(project_id=release.project_id, day__gte=since)
    total = rows.aggregate(n=Sum("sessions"))["n"] or 0
    mine = rows.filter(release=release.version).aggregate(n=Sum("sessions"))["n"] or 0
    return mine / total if total else None


@dataclass(frozen=True)
class ReleaseOverview:
    """What a release page shows for one project's release."""

    release: Release
    commits: list[ReleaseCommit]
    deploys: list[Deploy]
    new_issues: list[ErrorIssue]
    regressed_issues: list[ErrorIssue]
    health: Health
    adoption: float | None


def release_overview(release: Release, *, issues_limit: int | None = None) -> ReleaseOverview:
    """`issues_limit` caps each issue list: a page shows the first ones and says there are more."""
    return ReleaseOverview(
        release=release,
        commits=list(release.commits.all()),
        deploys=list(release.deploys.all()),
        new_issues=release_new_issues(release, limit=issues_limit),
        regressed_issues=release_regressed_issues(release, limit=issues_limit),
        health=release_health(project=release.project, release=release.version),
        adoption=release_adoption(release),
    )


@dataclass(frozen=True)
class ReleaseFileRow:
    id: int
    name: str
    dist: str
    sourcemap: str
    sha1: str
    size: int
    created_at: datetime


def release_files(release: Release, *, limit: int = 1000) -> list[ReleaseFileRow]:
    """The files uploaded for a release, whether one by one or in bundles, oldest first: what
    sentry-cli lists before it uploads, to skip a file the release already has."""
    rows = (
        ArtifactBundleFile.objects.filter(bundle__project_id=release.project_id, bundle__release=release.version)
        .order_by("id")
        .values_list("id", "url", "bundle__dist", "sourcemap", "content", "bundle__created_at")[:limit]
    )
    return [
        ReleaseFileRow(
            id=pk,
            name=url,
            dist=dist,
            sourcemap=sourcemap,
            sha1=hashlib.sha1(bytes(content)).hexdigest(),  # noqa: S324 what sentry-cli compares files by
            size=len(content),
            created_at=created_at,
        )
        for pk, url, dist, sourcemap, content, created_at in rows
    ]
