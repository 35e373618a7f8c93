"""What other parts of the portal know about an issue, shown on the issue page as links.

`monitoring` must never import `alerts` (the alert engine reads monitoring, not the other
way round), yet a person on an issue page wants the incidents that issue opened. So the page
asks this registry, and whoever knows something about issues registers a provider here from
its own AppConfig.ready(): today `alerts` registers its incidents
(alerts/incidents/issue_links.py). A deployment without `alerts` simply shows no section.

A provider takes the issue and returns at most `limit` links, newest first, in a bounded
number of queries (the issue page's query count is pinned in its tests).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from monitoring.models import ErrorIssue


@dataclass(frozen=True)
class RelatedLink:
    label: str  # what a person reads: "#12 New issue: KeyError …"
    url: str  # site-relative
    status: str  # a word or two: "triggered", "resolved"
    at: datetime | None  # when it started, for ordering and the "when" column


@dataclass(frozen=True)
class RelatedLinks:
    heading: str  # the section's title on the page: "Incidents"
    links: list[RelatedLink]


Provider = Callable[[ErrorIssue, int], list[RelatedLink]]

_PROVIDERS: dict[str, tuple[str, Provider]] = {}
# An issue that paged every day for a year must not fill its page: the newest say enough.
LINKS_SHOWN = 10


def register_issue_links(key: str, *, heading: str, provider: Provider) -> None:
    """Register (or replace, so a second ready() call is harmless) the provider under `key`."""
    _PROVIDERS[key] = (heading, provider)


def error_issue_related_links(issue: ErrorIssue, *, limit: int = LINKS_SHOWN) -> list[RelatedLinks]:
    """Every registered provider's links for the issue, one section each, in registration order."""
    return [RelatedLinks(heading, provider(issue, limit)) for heading, provider in _PROVIDERS.values()]
