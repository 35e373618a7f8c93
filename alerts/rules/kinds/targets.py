"""What the uptime kinds share: which targets a rule watches, and how their alerts are labelled."""

from alerts.rules.kinds.base import Params
from monitoring.projects.selectors import project_slugs
from monitoring.uptime.selectors import TargetStatus, target_ids_tagged, target_statuses

SCOPE = {"target_ids": None, "tag": ""}


def scope_params(p: Params) -> dict:
    return {"target_ids": p.ids("target_ids"), "tag": p.text("tag", default="", max_length=50)}


def watched_targets(rule, *, kinds: tuple[str, ...] | None = None) -> list[TargetStatus]:
    """The rule's project's targets (every project's when it has none), narrowed by ids and tag."""
    ids = rule.params.get("target_ids")
    if rule.params.get("tag"):
        tagged = set(target_ids_tagged(tag=rule.params["tag"], project_id=rule.project_id))
        ids = [i for i in ids if i in tagged] if ids is not None else sorted(tagged)
    statuses = target_statuses(project_id=rule.project_id, target_ids=ids)
    return [s for s in statuses if kinds is None or s.kind in kinds]


def target_labels(statuses: list[TargetStatus]) -> dict[int, dict[str, str]]:
    slugs = project_slugs({s.project_id for s in statuses})
    return {
        s.target_id: {"target_id": str(s.target_id), "target": s.name, "project": slugs.get(s.project_id, "")}
        for s in statuses
    }
