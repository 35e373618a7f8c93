"""Releases, their commits and deploys, written as `sentry-cli` asks (monitoring/errors/release_api.py).

Sentry keeps one release per organisation, listing its projects; Lookout keeps one row per
project, so every write names the rows it touches: those of the projects the request
lists, or every project's row of the version when it lists none (as `finalize` and
`deploys new` do). Each write is one transaction: a refused commit list leaves the old one.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from monitoring.errors.events import storable
from monitoring.models import Deploy, Project, Release, ReleaseCommit

# What Sentry refuses as a version: names that read as paths or as special words.
RESERVED_VERSIONS = frozenset({"", ".", "..", "latest"})
MAX_COMMITS = 1000
VERSION_LENGTH = 250  # Release.version's column


class InvalidRelease(ValueError):
    """Bad input; `field` names what was wrong, as the API's answer does."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def release_version_check(version: object) -> str:
    if not isinstance(version, str):
        raise InvalidRelease("version", "version must be a string")
    if version.strip() in RESERVED_VERSIONS or version != version.strip():
        raise InvalidRelease("version", f"version {version!r} is not allowed (empty, '.', '..', 'latest' or padded)")
    if len(version) > VERSION_LENGTH:
        raise InvalidRelease("version", f"version is longer than {VERSION_LENGTH} characters")
    if any(c in version for c in "/\\\n\t\r\x00"):
        raise InvalidRelease("version", "version may not contain slashes, tabs, newlines or NUL")
    return version


@dataclass(frozen=True)
class CommitIn:
    repository: str
    commit_id: str
    message: str = ""
    author_name: str = ""
    author_email: str = ""
    timestamp: datetime | None = None


def release_upsert(
    *,
    projects: Sequence[Project],
    version: str,
    at: datetime,
    url: str | None = None,
    date_released: datetime | None = None,
) -> tuple[list[Release], bool]:
    """The version's row in each project, made if missing; whether any was made. A row an
    event already made keeps its first_seen: the release existed from then."""
    release_version_check(version)
    created = False
    rows = []
    with transaction.atomic():
        for project in projects:
            release, made = Release.objects.get_or_create(
                project=project, version=version, defaults={"first_seen": at, "url": url or ""}
            )
            created |= made
            _apply(release, url=url, date_released=date_released)
            rows.append(release)
    return rows, created


def _apply(release: Release, *, url: str | None, date_released: datetime | None) -> None:
    fields = []
    if url is not None and url != release.url:
        release.url = url
        fields.append("url")
    if date_released is not None and release.date_released != date_released:
        release.date_released = date_released
        fields.append("date_released")
    if fields:
        release.save(update_fields=fields)


def release_update(
    *,
    releases: Iterable[Release],
    url: str | None = None,
    date_released: datetime | None = None,
    commits: Sequence[CommitIn] | None = None,
) -> None:
    """`releases finalize` (date_released) and `set-commits` (commits, newest first): all
    the rows or none."""
    if commits is not None and len(commits) > MAX_COMMITS:
        raise InvalidRelease("commits", f"at most {MAX_COMMITS} commits a request")
    with transaction.atomic():
        for release in releases:
            _apply(release, url=url, date_released=date_released)
            if commits is not None:
                _commits_set(release, commits)


def _commits_set(release: Release, commits: Sequence[CommitIn]) -> None:
    """The release's commits become `commits`: set-commits sends the whole range each time."""
    ReleaseCommit.objects.filter(release=release).delete()
    seen = set()
    rows = []
    for position, commit in enumerate(commits):
        key = (commit.repository, commit.commit_id)
        if key in seen:
            continue  # the same commit twice: keep its newest place
        seen.add(key)
        rows.append(
            ReleaseCommit(
                release=release,
                position=position,
                repository=commit.repository,
                commit_id=commit.commit_id,
                message=storable(commit.message[:10_000]),
                author_name=storable(commit.author_name[:128]),
                author_email=storable(commit.author_email[:256]),
                timestamp=commit.timestamp,
            )
        )
    ReleaseCommit.objects.bulk_create(rows)


def release_delete(*, releases: Iterable[Release]) -> int:
    """Forget the rows (their commits and deploys go with them); events keep their version."""
    ids = [r.pk for r in releases]
    return Release.objects.filter(pk__in=ids).delete()[1].get(Release._meta.label, 0)


def deploy_create(
    *,
    releases: Iterable[Release],
    environment: str,
    name: str = "",
    url: str = "",
    date_started: datetime | None,
    date_finished: datetime,
) -> list[Deploy]:
    if not environment or len(environment) > 64 or any(c in environment for c in "/\n\t\x00"):
        raise InvalidRelease("environment", "environment is required: 1-64 characters, no slashes or newlines")
    if date_started is not None and date_started > date_finished:
        raise InvalidRelease("dateStarted", "dateStarted is after dateFinished")
    rows = [
        Deploy(
            release=release,
            environment=environment,
            name=storable(name[:250]),
            url=url[:500],
            date_started=date_started,
            date_finished=date_finished,
        )
        for release in releases
    ]
    with transaction.atomic():
        return Deploy.objects.bulk_create(rows)
