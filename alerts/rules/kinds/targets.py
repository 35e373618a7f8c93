"""What the uptime kinds share: which targets a rule watches, and how their alerts are labelled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alerts.rules.kinds.base import Params
from monitoring.projects.selectors import project_slugs
from monitoring.uptime.selectors import TargetState, target_ids_tagged, target_statuses

if TYPE_CHECKING:
    from alerts.models import AlertRule

SCOPE: dict[str, Any] = {"target_ids": None, "tag": ""}


def scope_params(p: Params) -> dict[str, Any]:
    return {"target_ids": p.ids("target_ids"), "tag": p.text("tag", default="", max_length=50)}


def watched_targets(rule: AlertRule, *, kinds: tuple[str, ...] | None = None) -> list[TargetState]:
    """The rule's project's targets (every project's when it has none), narrowed by ids and tag."""
    ids = rule.params.get("target_ids")
    if rule.params.get("tag"):
        tagged = set(target_ids_tagged(tag=rule.params["tag"], project_id=rule.project_id))
        ids = [i for i in ids if i in tagged] if ids is not None else sorted(tagged)
    states = target_statuses(project_id=rule.project_id, target_ids=ids)
    return [s for s in states if kinds is None or s.kind in kinds]


def target_labels(states: list[TargetState]) -> dict[int, dict[str, str]]:
    slugs = project_slugs({s.project_id for s in states})
    return {
        s.target_id: {"target_id": str(s.target_id), "target": s.name, "project": slugs.get(s.project_id, "")}
        for s in states
    }
