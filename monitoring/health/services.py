from datetime import datetime

from monitoring.models import Pulse


def pulse_record(*, kind: str, name: str, at: datetime) -> None:
    Pulse.objects.update_or_create(kind=kind, name=name, defaults={"last_seen_at": at})


def pulse_prune(*, older_than: datetime) -> int:
    deleted, _ = Pulse.objects.filter(last_seen_at__lt=older_than).delete()
    return deleted
