"""Why a target's status changed: the fixed set of causes a flip stores next to its reason.

Rules, filters and reports decide on the cause; the reason is the sentence for people and is
never parsed. Probes report the cause of each failing outcome, so this module imports nothing
from the models and probe workers can load it on its own.
"""

from django.db import models


class FlipCause(models.TextChoices):
    # What a probe saw.
    CONNECTION_FAILED = "connection_failed", "connection refused or failed"
    TIMEOUT = "timeout", "timed out"
    DNS_FAILURE = "dns_failure", "DNS lookup failed"
    DNS_MISMATCH = "dns_mismatch", "DNS answers not as expected"
    TLS_ERROR = "tls_error", "TLS handshake or certificate error"
    CERTIFICATE_EXPIRING = "certificate_expiring", "certificate expiring soon"
    CERTIFICATE_EXPIRED = "certificate_expired", "certificate expired"
    BAD_STATUS = "bad_status", "HTTP status not accepted"
    TOO_MANY_REDIRECTS = "too_many_redirects", "too many redirects"
    KEYWORD_FAILED = "keyword_failed", "keyword check failed"
    JSON_FAILED = "json_failed", "JSON check failed"
    SLOW = "slow", "slower than the degraded threshold"
    CONFIG_ERROR = "config_error", "the target's settings cannot be used"
    PROBE_ERROR = "probe_error", "the probe itself failed"
    # What a heartbeat's pings (or their absence) said.
    LATE = "late", "ping late"
    MISSING = "missing", "ping missing past the grace period"
    FAILURE_PING = "failure_ping", "the job signalled a failure"
    EXIT_CODE = "exit_code", "the job exited with a non-zero code"
    OVER_RUNTIME = "over_runtime", "run over its maximum runtime"
    UNDER_RUNTIME = "under_runtime", "run under its minimum runtime"
    # People, and the way back.
    PAUSED = "paused", "paused"
    RESUMED = "resumed", "resumed"
    RECOVERED = "recovered", "up: probes pass or pings arrive"
    # Flips stored before causes were, whose reason named none of the above.
    UNKNOWN = "unknown", "not recorded"
