"""Lookout settings: one module, every value from the environment with a safe default.

With nothing set, Lookout runs embedded: SQLite in WAL mode and a filesystem Celery broker
under LOOKOUT_DATA_DIR. DATABASE_URL, CELERY_BROKER_URL and CACHE_URL switch it to
PostgreSQL, Redis or RabbitMQ. Every variable is described in .env.example.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.templatetags.static import static
from django.urls import reverse_lazy
from whitenoise.compress import Compressor

from config.site import served_url

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Values already in the environment win over the file.
ENV_FILE = Path(env.str("LOOKOUT_ENV_FILE", default=str(BASE_DIR / ".env")))
if env.bool("LOOKOUT_READ_DOT_ENV", default=True):
    environ.Env.read_env(ENV_FILE)

VERSION = "0.1.0"

DATA_DIR = Path(env.str("LOOKOUT_DATA_DIR", default=str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)

# Without SECRET_KEY the portal still starts for management commands, but system check
# lookout.E001 refuses to serve with DEBUG off (see monitoring/common/checks.py).
INSECURE_SECRET_KEY = "django-insecure-lookout-development-only"
SECRET_KEY = env.str("SECRET_KEY", default="") or INSECURE_SECRET_KEY


# Without SITE_URL, URLs name where the Procfile's web process answers (LISTEN_ADDRESS and
# PORT). `manage.py start` records the address it served on in .env, so later commands print
# the same DSNs and ping URLs as the admin shows.
SITE_URL = env.str(
    "SITE_URL", default=served_url(env.str("LISTEN_ADDRESS", default="127.0.0.1"), env.int("PORT", default=8000))
).rstrip("/")
_site = urlsplit(SITE_URL)
SERVED_OVER_TLS = _site.scheme == "https"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=sorted({_site.hostname or "127.0.0.1", "127.0.0.1", "localhost"}))
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"{_site.scheme}://{_site.netloc}"])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "axes",
    "monitoring",
    "alerts",
    "backups",
]

MIDDLEWARE = [
    "monitoring.common.middleware.RequestIdMiddleware",
    "monitoring.metrics.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "monitoring.common.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A status page's custom domain (its Host header) gets that page's routes at /.
    "alerts.status.middleware.CustomDomainMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "monitoring.common.middleware.DatabaseUnavailableMiddleware",
    # Last, so it sees the outcome of the login view (django-axes' requirement).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'lookout.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions and a
    # busy timeout make concurrent writers wait for each other instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
    }
    # A file, not :memory:, so a real worker process in the tests sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-lookout.sqlite3")}
else:
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "config.postgresql"  # its health check costs no round trip
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A server that accepts but never answers must not hold a request (or /health) forever.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    if DATABASES["default"]["ENGINE"] == "config.postgresql":
        # Django turns psycopg's prepared statements off for connection poolers. Only the
        # statements run per ping and per event can be prepared (they go through
        # bound_cursor(); Django's cursors bind on the client and never are), and prepared,
        # the server parses and plans each once per connection. Empty turns it off, for a
        # pooler in transaction mode that cannot keep them (PgBouncer before 1.21).
        _prepare_after = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", int(_prepare_after) if _prepare_after else None)
# Connections are kept between requests on both engines: opening one costs a round trip
# and authentication on PostgreSQL, and on SQLite the pragmas above plus Django's function
# registrations, about 2 ms, six times what a cached public page takes to answer.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------------------
# Rate limits and health state must be shared between processes, so the embedded default
# is a file cache, not a per-process memory cache.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{DATA_DIR / 'cache'}")}
if "redis" in CACHES["default"]["BACKEND"].lower():
    _cache_timeout = env.float("CACHE_SOCKET_TIMEOUT", default=2.0)
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": _cache_timeout, "socket_timeout": _cache_timeout}
    )

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)

# --- Static files and storage ----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start until collectstatic has run
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.staticfiles.CompressedHashedStaticFiles"},
}
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# --- Auth and security -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "admin:login"
# Where a login with no safe `next` lands: the portal is the admin (Django's default,
# /accounts/profile/, is a page that does not exist here).
LOGIN_REDIRECT_URL = "admin:index"

# Admin logins are locked for AXES_COOLOFF_MINUTES, answered with 429, after AXES_FAILURE_LIMIT
# failures of one account over all addresses, or from one address over all accounts: counted
# per account and address only, each new address got fresh guesses at the same password.
# The lockout is recorded as a security event (monitoring/logins/services.py).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "monitoring.logins.services.LockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0) or None
AXES_VERBOSE = False

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    # The admin theme renders with Alpine.js, which evaluates its attributes at runtime.
    default="default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=SERVED_OVER_TLS)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SERVED_OVER_TLS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if SERVED_OVER_TLS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SERVED_OVER_TLS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SERVED_OVER_TLS)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /health/live is how load balancers probe plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]

# --- REST API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "monitoring.projects.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["monitoring.projects.api.permissions.TokenScope"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "monitoring.common.strict.StrictLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "monitoring.common.exception_handler.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lookout API",
    "DESCRIPTION": "Monitoring portal: projects, targets, telemetry, incidents.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files are served by the portal itself: no CDN, so the CSP can stay 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A rule's no-data and error policies are one choice set: one name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "RulePolicyEnum": "alerts.rules.models.Policy",
        "PublicIncidentStatusEnum": "alerts.status.models.IncidentStatus",
    },
    # Every operation documents its refusals (400, 401, 403, 404, 413, 415, 429, 503) as well.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "monitoring.common.openapi.document_error_answers",
    ],
}

# --- Health ----------------------------------------------------------------------------
HEALTH_BEAT_MAX_AGE = env.int("HEALTH_BEAT_MAX_AGE", default=120)
HEALTH_WORKER_MAX_AGE = env.int("HEALTH_WORKER_MAX_AGE", default=120)

# --- Metrics endpoint ------------------------------------------------------------------
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
PROMETHEUS_MULTIPROC_DIR = Path(env.str("PROMETHEUS_MULTIPROC_DIR", default=str(DATA_DIR / "prometheus")))

# --- Ingest keys -----------------------------------------------------------------------
# last_used_at is written at most this often per key, so ingest is not a write per request.
INGEST_KEY_TOUCH_SECONDS = env.int("INGEST_KEY_TOUCH_SECONDS", default=60)

# --- Self-monitoring -------------------------------------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="console")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "monitoring.common.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "monitoring.common.logging.JsonFormatter"},
        "console": {"format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "console",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": LOG_LEVEL, "propagate": True},
        # Every failed health check is logged by the library with a traceback; the
        # health answer already carries the reason.
        "health_check": {"level": "ERROR"},
    },
}


# --- Admin theme -----------------------------------------------------------------------
_NAV_LINKS: list = []  # every sidebar link, so an item can tell when a longer one matches instead


def _nav_active(link):
    # Unfold marks every link that is a prefix of the page's path: the Web Vitals page lives
    # under Metric series' URL and both lit up. The longest matching link alone is the page.
    # It is found once per request: asked afresh by every item, the lazy links were reversed
    # some 1,600 times per admin page, a fifth or more of the page's time.
    def active(request) -> bool:
        chosen = getattr(request, "_lookout_nav_link", None)
        if chosen is None:
            matching = [path for path in map(str, _NAV_LINKS) if request.path.startswith(path)]
            chosen = request._lookout_nav_link = max(matching, key=len) if matching else ""
        return chosen == str(link)

    return active


def _nav(title: str, items: list[tuple[str, str, str]]) -> dict:
    entries = []
    for t, icon, name in items:
        link = reverse_lazy(name)
        _NAV_LINKS.append(link)
        entries.append({"title": t, "icon": icon, "link": link, "active": _nav_active(link)})
    return {"title": title, "separator": True, "items": entries}


UNFOLD = {
    "SITE_TITLE": "Lookout",
    "SITE_HEADER": "Lookout",
    "SITE_SYMBOL": "monitoring",
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": lambda request: static("lookout/favicon.svg")},
    ],
    # "View site": the pages a team works from outside the admin.
    "SITE_URL": "/oncall/",
    "DASHBOARD_CALLBACK": "config.dashboard.dashboard_callback",
    "SHOW_HISTORY": True,
    # charts.js draws every chart built by monitoring/common/charts.py with unfold's own Chart.js.
    "SCRIPTS": [lambda request: static("lookout/copy.js"), lambda request: static("lookout/charts.js")],
    # Grouped by what a person comes to do, not by Django app; "All applications" lists the rest.
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            _nav(
                "Projects",
                [
                    ("Projects", "folder", "admin:monitoring_project_changelist"),
                    ("Ingest keys", "key", "admin:monitoring_ingestkey_changelist"),
                    ("API tokens", "token", "admin:monitoring_apitoken_changelist"),
                ],
            ),
            _nav(
                "Uptime",
                [
                    ("Targets", "monitor_heart", "admin:monitoring_target_changelist"),
                    ("Tags", "sell", "admin:monitoring_tag_changelist"),
                ],
            ),
            _nav(
                "Telemetry",
                [
                    ("Web Vitals", "speed", "admin:monitoring_web_vitals"),
                    ("Metric explorer", "query_stats", "admin:monitoring_metric_explorer"),
                    ("Metric series", "stacked_line_chart", "admin:monitoring_metricseries_changelist"),
                    ("Ingest rejections", "block", "admin:monitoring_ingestrejection_changelist"),
                ],
            ),
            _nav(
                "Errors",
                [
                    ("Issues", "bug_report", "admin:monitoring_errorissue_changelist"),
                    ("Performance", "timer", "admin:monitoring_performance"),
                    ("Classification rules", "rule", "admin:monitoring_errorclassificationrule_changelist"),
                    ("Security events", "shield", "admin:monitoring_securityevent_changelist"),
                ],
            ),
            _nav(
                "Alerts",
                [
                    ("Alert rules", "rule_settings", "admin:alerts_alertrule_changelist"),
                    ("Incidents", "notifications_active", "admin:alerts_incident_changelist"),
                    ("Silences", "notifications_off", "admin:alerts_silence_changelist"),
                    ("Maintenance windows", "construction", "admin:alerts_maintenancewindow_changelist"),
                    ("Maintenance calendar", "calendar_month", "admin:alerts_maintenance_calendar"),
                    ("Inhibit rules", "block", "admin:alerts_inhibitrule_changelist"),
                    ("Target dependencies", "account_tree", "admin:alerts_targetdependency_changelist"),
                    ("Channels", "campaign", "admin:alerts_channel_changelist"),
                    ("Delivery log", "outgoing_mail", "admin:alerts_deliveryattempt_changelist"),
                    ("Outbox", "outbox", "admin:alerts_notification_changelist"),
                    ("On-call page", "support_agent", "oncall:team"),
                    ("On-call schedules", "calendar_clock", "admin:alerts_oncallschedule_changelist"),
                    ("Escalation policies", "stairs", "admin:alerts_escalationpolicy_changelist"),
                    ("Integrations", "input", "admin:alerts_integration_changelist"),
                ],
            ),
            _nav(
                "Status pages",
                [
                    ("Status pages", "public", "admin:alerts_statuspage_changelist"),
                    ("Public incidents", "campaign", "admin:alerts_publicincident_changelist"),
                    ("Subscribers", "mark_email_read", "admin:alerts_subscriber_changelist"),
                ],
            ),
            _nav(
                "Reports",
                [
                    ("Digests", "summarize", "admin:alerts_digestsubscription_changelist"),
                    ("Digest deliveries", "forward_to_inbox", "admin:alerts_digestdelivery_changelist"),
                    ("SLA reports", "description", "admin:alerts_sla_reports"),
                ],
            ),
            _nav(
                "Backups",
                [
                    ("Plans", "backup", "admin:backups_plan_changelist"),
                    ("Runs", "history", "admin:backups_run_changelist"),
                    ("Verifications", "verified", "admin:backups_verification_changelist"),
                    ("Downloads", "download", "admin:backups_downloadlog_changelist"),
                ],
            ),
            _nav(
                "System",
                [
                    ("Processes", "memory", "admin:monitoring_pulse_changelist"),
                    ("Schedules", "schedule", "admin:django_celery_beat_periodictask_changelist"),
                    ("Users", "person", "admin:auth_user_changelist"),
                    ("Login attempts", "shield", "admin:axes_accessattempt_changelist"),
                ],
            ),
        ],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Uptime and heartbeats -------------------------------------------------------------
# Raw probe results (and minute rollups) are kept this long; hour and day rollups, which
# every uptime figure reads, much longer. Heartbeat pings keep a monthly job's last outputs.
UPTIME_RAW_RETENTION_DAYS = env.int("UPTIME_RAW_RETENTION_DAYS", default=7)
UPTIME_ROLLUP_RETENTION_DAYS = env.int("UPTIME_ROLLUP_RETENTION_DAYS", default=400)
HEARTBEAT_PING_RETENTION_DAYS = env.int("HEARTBEAT_PING_RETENTION_DAYS", default=90)
# Bytes of a ping's body kept; longer bodies are truncated and flagged, never refused.
HEARTBEAT_PING_BODY_LIMIT = env.int("HEARTBEAT_PING_BODY_LIMIT", default=10_000)
# Targets per probe task (large enough to keep a task's asyncio loop busy, small enough that
# a batch finishes well inside an interval), and probes in flight at once inside one task (a socket each).
PROBE_BATCH_SIZE = env.int("PROBE_BATCH_SIZE", default=200)
# The dispatcher claims targets due before its next tick and the worker waits for each one's
# due time, so probes start on time rather than up to a tick late. Keep it at beat's
# "dispatch-due-probes" interval (5 s).
PROBE_DISPATCH_LOOKAHEAD_SECONDS = env.float("PROBE_DISPATCH_LOOKAHEAD_SECONDS", default=5.0)
PROBE_CONCURRENCY = env.int("PROBE_CONCURRENCY", default=200)

# --- Telemetry -------------------------------------------------------------------------
# Retention per resolution: raw points, minute, hour and day rollups.
TELEMETRY_RAW_RETENTION_DAYS = env.int("TELEMETRY_RAW_RETENTION_DAYS", default=7)
TELEMETRY_MINUTE_RETENTION_DAYS = env.int("TELEMETRY_MINUTE_RETENTION_DAYS", default=30)
TELEMETRY_HOUR_RETENTION_DAYS = env.int("TELEMETRY_HOUR_RETENTION_DAYS", default=400)
# Day rollups are small (one row per series per day) and feed year-over-year views.
TELEMETRY_DAY_RETENTION_DAYS = env.int("TELEMETRY_DAY_RETENTION_DAYS", default=800)
# Points older than this are refused at ingest; anything accepted is folded into rollups.
TELEMETRY_MAX_LATENESS_SECONDS = env.int("TELEMETRY_MAX_LATENESS_SECONDS", default=86_400)
TELEMETRY_MAX_FUTURE_SECONDS = env.int("TELEMETRY_MAX_FUTURE_SECONDS", default=300)
TELEMETRY_MAX_BODY_BYTES = env.int("TELEMETRY_MAX_BODY_BYTES", default=1_048_576)
TELEMETRY_MAX_BATCH = env.int("TELEMETRY_MAX_BATCH", default=5_000)
# Per-project defaults; a project may set its own in the admin.
TELEMETRY_MAX_SERIES = env.int("TELEMETRY_MAX_SERIES", default=10_000)
TELEMETRY_MAX_TAG_VALUES = env.int("TELEMETRY_MAX_TAG_VALUES", default=1_000)
# Token bucket per ingest key: sustained requests per second and burst size.
TELEMETRY_RATE_PER_SECOND = env.float("TELEMETRY_RATE_PER_SECOND", default=100.0)
TELEMETRY_RATE_BURST = env.int("TELEMETRY_RATE_BURST", default=200)

# --- Error tracking --------------------------------------------------------------------
# Days error events are kept (on PostgreSQL whole day partitions are dropped).
ERRORS_RETENTION_DAYS = env.int("ERRORS_RETENTION_DAYS", default=90)
# Days security events (reported attacks, the portal's own lockouts) are kept.
SECURITY_EVENTS_RETENTION_DAYS = env.int("SECURITY_EVENTS_RETENTION_DAYS", default=90)
# Days sampled transactions and their spans are kept (whole day partitions on PostgreSQL).
TRACES_RETENTION_DAYS = env.int("TRACES_RETENTION_DAYS", default=30)
# Envelope size on the wire and decompressed (413 over either), and one event's size
# (an event over it is dropped from its envelope, or refused with 413 on /store/).
ERRORS_MAX_BODY_BYTES = env.int("ERRORS_MAX_BODY_BYTES", default=20 * 1024 * 1024)
ERRORS_MAX_ENVELOPE_BYTES = env.int("ERRORS_MAX_ENVELOPE_BYTES", default=20 * 1024 * 1024)
ERRORS_MAX_EVENT_BYTES = env.int("ERRORS_MAX_EVENT_BYTES", default=1024 * 1024)
# Token bucket per ingest key: envelopes per second sustained, and burst (0 = no limit).
ERRORS_RATE_PER_SECOND = env.float("ERRORS_RATE_PER_SECOND", default=200.0)
ERRORS_RATE_BURST = env.int("ERRORS_RATE_BURST", default=2_000)
# Item budgets per ingest key and data category, "category=rate/burst" comma-separated
# (e.g. "error=50/500,transaction=200/2000"); a category over its budget is dropped from
# the envelope and named in X-Sentry-Rate-Limits, so the SDK backs off that category only.
ERRORS_CATEGORY_RATE_LIMITS = env.str("ERRORS_CATEGORY_RATE_LIMITS", default="")
# A web process folds pending events into an issue's counters inline at most once per this
# interval, whichever issue (a beat tick folds the rest every 10 s); 0 folds after every event.
ERRORS_FOLD_INTERVAL_SECONDS = env.float("ERRORS_FOLD_INTERVAL_SECONDS", default=1.0)

# --- Alerts: notification delivery ----------------------------------------------------
# Email notifications go through this backend (django-environ EMAIL_URL: smtp://, smtp+tls://,
# consolemail://); the embedded default prints them to the worker's output.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"Lookout <lookout@{_site.hostname or 'localhost'}>")
# Status-page webhook subscribers are anyone on the internet: their URLs may not reach private
# or loopback addresses unless this says so (a portal whose subscribers are all internal).
STATUS_WEBHOOKS_ALLOW_PRIVATE = env.bool("STATUS_WEBHOOKS_ALLOW_PRIVATE", default=False)
# Connect and read timeout of every outbound notifier request.
ALERTS_OUTBOUND_TIMEOUT_SECONDS = env.float("ALERTS_OUTBOUND_TIMEOUT_SECONDS", default=10.0)
# A claimed notification belongs to its worker this long; past it another worker sends it
# again (same idempotency key). Must be longer than a sweep's 30 s budget plus twice the timeout.
ALERTS_DELIVERY_LEASE_SECONDS = env.int("ALERTS_DELIVERY_LEASE_SECONDS", default=60)
# Retries: exponential backoff from BACKOFF (doubling, with jitter) up to CAP, then failed.
ALERTS_DELIVERY_MAX_ATTEMPTS = env.int("ALERTS_DELIVERY_MAX_ATTEMPTS", default=10)
ALERTS_DELIVERY_BACKOFF_SECONDS = env.int("ALERTS_DELIVERY_BACKOFF_SECONDS", default=10)
ALERTS_DELIVERY_BACKOFF_CAP_SECONDS = env.int("ALERTS_DELIVERY_BACKOFF_CAP_SECONDS", default=900)
# Due notifications one delivery tick sends at most.
ALERTS_DELIVERY_BATCH = env.int("ALERTS_DELIVERY_BATCH", default=100)
# Failed attempts in a row after which a channel raises a meta-alert on the other channels.
ALERTS_CHANNEL_FAILING_THRESHOLD = env.int("ALERTS_CHANNEL_FAILING_THRESHOLD", default=5)
# --- Alert intake and paging ------------------------------------------------------------
# Largest Alertmanager webhook or events-API body accepted (413 over it).
ALERTS_INTAKE_MAX_BODY_BYTES = env.int("ALERTS_INTAKE_MAX_BODY_BYTES", default=1_048_576)

# --- Backups ---------------------------------------------------------------------------
# A plan with local storage and no folder of its own writes here.
BACKUPS_DIR = Path(env.str("BACKUPS_DIR", default=str(DATA_DIR / "backups")))
# Verification restores into a scratch database created (and dropped) on this PostgreSQL
# server; empty means the portal's own server when it is PostgreSQL. SQLite needs none.
BACKUPS_SCRATCH_DATABASE_URL = env.str("BACKUPS_SCRATCH_DATABASE_URL", default="")
# The age identity (AGE-SECRET-KEY-…) that decrypts, for verification and restore; or a file
# holding it. It is never stored in the database.
BACKUPS_IDENTITY_ENV = env.str("BACKUPS_IDENTITY_ENV", default="BACKUPS_AGE_IDENTITY")
BACKUPS_IDENTITY_FILE = env.str("BACKUPS_IDENTITY_FILE", default="")
# A plan is overdue when no success followed its latest scheduled time by this much.
BACKUPS_OVERDUE_GRACE_MINUTES = env.int("BACKUPS_OVERDUE_GRACE_MINUTES", default=180)
# A running run whose worker has not reported for this long is failed by the reaper.
BACKUPS_STALE_SECONDS = env.int("BACKUPS_STALE_SECONDS", default=600)
# Celery limits for one backup or verification: sized for dumps of hours, not seconds.
BACKUPS_TASK_SOFT_TIME_LIMIT = env.int("BACKUPS_TASK_SOFT_TIME_LIMIT", default=6 * 3600)
BACKUPS_TASK_TIME_LIMIT = env.int("BACKUPS_TASK_TIME_LIMIT", default=6 * 3600 + 300)
# The pipeline's chunk size (bytes read, compressed, encrypted and hashed at a time).
BACKUPS_CHUNK_BYTES = env.int("BACKUPS_CHUNK_BYTES", default=1024 * 1024)
BACKUPS_ZSTD_LEVEL = env.int("BACKUPS_ZSTD_LEVEL", default=3)
# Parallel jobs of pg_restore during restore and verification.
BACKUPS_RESTORE_JOBS = env.int("BACKUPS_RESTORE_JOBS", default=2)

from config.sentry import init_sentry  # noqa: E402  (needs the values above)

init_sentry(
    dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=VERSION, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE
)
