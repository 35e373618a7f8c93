"""Classifying an error by severity and category, and whether it should alert, by the
first matching rule. Rules match on exception type, message, a tag and the transaction.
Pure; the rules come from the database (ErrorClassificationRule), edited in the admin."""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from monitoring.errors.fingerprints import exceptions, message_template


@dataclass(frozen=True)
class Rule:
    type_pattern: str = ""
    message_pattern: str = ""
    tag_key: str = ""
    tag_value_pattern: str = ""
    transaction_pattern: str = ""
    severity: str = ""
    category: str = ""
    should_alert: bool = False


@dataclass(frozen=True)
class Classification:
    severity: str
    category: str
    should_alert: bool


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


def _matches(pattern: str, values: list[str]) -> bool:
    return not pattern or any(_compiled(pattern).search(v) for v in values)


def _tags(event: dict[str, Any]) -> dict[str, str]:
    tags = event.get("tags")
    pairs = tags.items() if isinstance(tags, dict) else (tags if isinstance(tags, list) else [])
    return {str(p[0]): str(p[1]) for p in pairs if isinstance(p, (list, tuple)) and len(p) == 2}


# Event types of browser security reports (monitoring/errors/security.py): always of the
# security category; a matching rule still sets their severity and whether they alert.
SECURITY_TYPES = frozenset({"csp", "expectct", "hpkp"})


def classify(event: dict[str, Any], rules: list[Rule]) -> Classification | None:
    verdict = _first_match(event, rules)
    if event.get("type") in SECURITY_TYPES:
        return Classification(
            severity=verdict.severity if verdict else "medium",
            category="security",
            should_alert=verdict.should_alert if verdict else False,
        )
    return verdict


def _first_match(event: dict[str, Any], rules: list[Rule]) -> Classification | None:
    chain = exceptions(event)
    types = [str(e.get("type") or "") for e in chain]
    messages = [str(e.get("value") or "") for e in chain] + [message_template(event)]
    transaction = event.get("transaction")
    transactions = [transaction] if isinstance(transaction, str) else []
    tags = _tags(event)
    for rule in rules:
        if rule.tag_key and rule.tag_key not in tags:
            continue
        if (
            _matches(rule.type_pattern, types)
            and _matches(rule.message_pattern, messages)
            and _matches(rule.transaction_pattern, transactions)
            and (not rule.tag_key or _matches(rule.tag_value_pattern, [tags[rule.tag_key]]))
        ):
            return Classification(severity=rule.severity, category=rule.category, should_alert=rule.should_alert)
    return None
