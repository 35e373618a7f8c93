"""One security event: what happened, from where, to which endpoint and account."""

from django.db import models

from monitoring.projects.models import Project


class SecurityEvent(models.Model):
    class Kind(models.TextChoices):
        RATE_LIMIT = "rate_limit", "rate limit exceeded"
        SQL_INJECTION = "sql_injection", "SQL-injection attempt"
        XSS = "xss", "XSS attempt"
        AUTH_FAILURE = "auth_failure", "authentication failure"
        ACCOUNT_LOCKOUT = "account_lockout", "account lockout"
        CUSTOM = "custom", "custom"

    # None: the portal's own (its login lockouts), not one of the monitored applications.
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    endpoint = models.CharField(max_length=500, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    user = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # Rules count one kind over a recent window; the admin lists newest first.
        indexes = [
            models.Index(fields=["kind", "at"], name="securityevent_kind_at"),
            models.Index(fields=["at"], name="securityevent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.ip_address or 'unknown address'}"
