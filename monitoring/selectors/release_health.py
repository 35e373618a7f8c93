"""Reading release health: crash-free sessions and users of a release."""

from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from monitoring.models import Project, Release, ReleaseHealth, ReleaseHealthUser


@dataclass(frozen=True)
class Health:
    sessions: int
    crashed: int
    errored: int
    abnormal: int
    users: int
    crashed_users: int

    @property
    def crash_free_sessions(self) -> float | None:
        return 1 - self.crashed / self.sessions if self.sessions else None

    @property
    def crash_free_users(self) -> float | None:
        return 1 - self.crashed_users / self.users if self.users else None


def release_health(*, project: Project, release: str, environment: str | None = None) -> Health:
    scope = {"project": project, "release": release}
    if environment is not None:
        scope["environment"] = environment
    sums = ReleaseHealth.objects.filter(**scope).aggregate(
        sessions=Sum("sessions"), crashed=Sum("crashed"), errored=Sum("errored"), abnormal=Sum("abnormal")
    )
    users = ReleaseHealthUser.objects.filter(**scope).aggregate(all=Count("id"), crashed=Count("id", filter=Q(crashed=True)))
    return Health(**{k: v or 0 for k, v in sums.items()}, users=users["all"], crashed_users=users["crashed"])


def latest_release(*, project: Project) -> str | None:
    """The release first seen last: what "the current release" means to an alert rule."""
    releases = Release.objects.filter(project=project).order_by("-first_seen", "-id")
    return releases.values_list("version", flat=True).first()
