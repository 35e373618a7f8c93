"""How long this process has been running, read from the clock only (no I/O per answer)."""

import os
import time

_BOOT_CLOCK = getattr(time, "CLOCK_BOOTTIME", None)  # Linux only


def _now() -> float:
    return time.clock_gettime(_BOOT_CLOCK) if _BOOT_CLOCK is not None else time.monotonic()


def _process_start() -> float:
    """The process start on the clock of `_now`: from /proc once where it exists.

    Reading /proc gives the real process age although Django imports this module lazily,
    on the first request of each gunicorn worker; elsewhere the import moment stands in.
    """
    if _BOOT_CLOCK is None:
        return _now()
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            # Field 22 counts clock ticks since boot; the command name (field 2) may hold
            # spaces, so count from its closing parenthesis.
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return _now()


_STARTED = _process_start()


def process_uptime_seconds() -> float:
    return max(0.0, _now() - _STARTED)
