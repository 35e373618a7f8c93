from django.db import models


class Pulse(models.Model):
    """The last sign of life of a background process: beat's ticks, each worker's timer."""

    class Kind(models.TextChoices):
        BEAT = "beat"
        WORKER = "worker"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=255, help_text="Hostname of the worker, or 'beat'.")
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="pulse_unique_per_process")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"
