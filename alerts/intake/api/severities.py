"""Outside severity words to Lookout's severities."""

from alerts.models import Severity

WORDS = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
    "error": Severity.HIGH,
    "high": Severity.HIGH,
    "major": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "warn": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "info": Severity.LOW,
    "low": Severity.LOW,
    "none": Severity.LOW,
}


def severity_from(word: str | None, *, default: str) -> str:
    return WORDS.get((word or "").strip().lower(), default)
