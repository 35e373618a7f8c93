"""Waking a worker right after a commit, so a page waits for no beat tick.

A nudge only saves time: every piece of work it points at is also found by a beat tick
(due outbox rows, due notification rounds), so a broker that is down when the nudge is
sent costs latency, never the page, and must not fail the write that made it.
"""

import logging
from typing import Any

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def nudge_after_commit(task: str, *, args: list[Any] | None = None, queue: str) -> None:
    transaction.on_commit(lambda: _send(task, args or [], queue))


def _send(task: str, args: list[Any], queue: str) -> None:
    try:
        current_app.send_task(task, args=args, queue=queue)
    except Exception:
        log.warning("could not enqueue %s; its beat tick will do the work", task, exc_info=True)
