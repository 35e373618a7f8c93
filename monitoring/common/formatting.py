"""How figures are written for people, the same in pages, emails and command output."""

from datetime import timedelta


def human_duration(value: timedelta | None) -> str:
    """'42 s', '7 min 3 s', '5 h 12 min', '3 d 4 h'; '—' when there is none."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"
