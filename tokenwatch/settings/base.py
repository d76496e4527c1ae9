"""Settings from the environment (12-factor).

With nothing set, tokenwatch runs on SQLite under var/ and Celery runs tasks
in-process (eager), so `make run` needs nothing but Python. Set DATABASE_URL and
CELERY_BROKER_URL to run on PostgreSQL with real workers.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# Plain constants (no Django imports): the API's one timestamp format is defined where it is explained.

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("TOKENWATCH_VAR_DIR", BASE_DIR / "var"))
# The embedded default database (DATABASE_URL unset): the demo data `make demo` loads and `make run` serves.
EMBEDDED_DATABASE = VAR_DIR / "tokenwatch.sqlite3"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The development default is deliberately unusable in production: production.py
# refuses to start without SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-do-not-deploy")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.common",
    "apps.api_common",
    "django_celery_beat",
    "apps.sources",
    "apps.catalog",
    "apps.pricing",
    "apps.benchmarks",
    "apps.probes",
    "apps.market",
    "apps.quality",
    "apps.fx",
    "apps.alerts",
    "apps.dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tokenwatch.urls"
WSGI_APPLICATION = "tokenwatch.wsgi.application"

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

if not os.environ.get("DATABASE_URL"):
    # The embedded default keeps its SQLite file in var/, which a fresh checkout lacks.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{EMBEDDED_DATABASE}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # A persistent connection that died with a database restart is replaced before the request uses it,
        # instead of failing that request with a 500 (issue 12).
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and (
    os.environ.get("DB_SERVER_SIDE_BINDING", "1") != "0"
):
    # Server-side binding lets psycopg prepare a statement once it has run DB_PREPARE_THRESHOLD
    # times on a connection; the API's list queries are a handful of shapes over a six-table
    # join whose planning costs as much as running it (~1.5 ms), so a prepared page query
    # halves the database's share of a request. DB_SERVER_SIDE_BINDING=0 goes back to
    # client-side binding (e.g. behind a PgBouncer that cannot keep prepared statements).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": int(os.environ.get("DB_PREPARE_THRESHOLD", "5"))}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend whose health check polls the socket and sends SELECT 1 only when the server said
    # something unasked (a restart's termination notice, EOF): no round trip per request (issue 14).
    DATABASES["default"]["ENGINE"] = "apps.common.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout + IMMEDIATE transactions let the dev server and workers share the
    # file: a writer waits for the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve app static files straight from the finders too, so `make run` needs no
# collectstatic; production serves the collected, hashed copies.
WHITENOISE_USE_FINDERS = True
# Cached for a year by browsers: files whose name carries their content's hash (the manifest storage in
# production) and vendored libraries whose name carries their release
# (static/vendor/plotly-scatter-bar-4.1.1.min.js), so `make run` serves the 1 MB plotly.js once per browser too.
# Others (charts.js, app.css without a manifest) keep WhiteNoise's short default.
WHITENOISE_IMMUTABLE_FILE_TEST = r"(/vendor/[^/]+-\d+\.\d+\.\d+\.min\.js|\.[0-9a-f]{12}\.[^/.]+)$"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
# No broker configured: run tasks in-process so the app works with nothing installed.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 10 * 60
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Redis redelivers an unacknowledged message (its worker died) after the visibility timeout: just above the
# longest task time limit, not Redis's default hour. The sweep (apps.sources.tasks.sweep_work) catches what
# the broker lost outright.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 5 * 60}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- tokenwatch -------------------------------------------------------------
# Fetching from private/loopback addresses is refused unless this is set (SSRF guard).
TOKENWATCH_FETCH_ALLOW_PRIVATE = env_bool("TOKENWATCH_FETCH_ALLOW_PRIVATE", False)
TOKENWATCH_FETCH_MAX_BYTES = int(os.environ.get("TOKENWATCH_FETCH_MAX_BYTES", str(20 * 1024 * 1024)))
# Anonymous read access to pages and API (demo); production.py forces it off.
TOKENWATCH_PUBLIC_API = env_bool("TOKENWATCH_PUBLIC_API", False)
TOKENWATCH_BLEND_INPUT_RATIO = 3  # blended price = (3*input + 1*output) / 4 by default
TOKENWATCH_BLEND_OUTPUT_RATIO = 1
# Routing advice (apps/routing): a speed measured longer ago than this is stale, not trusted for an SLA.
TOKENWATCH_ADVICE_MAX_AGE_DAYS = int(os.environ.get("TOKENWATCH_ADVICE_MAX_AGE_DAYS", "30"))
# A converted figure of day D uses the last ECB rate on or before D, refused when older than this (apps.fx).
TOKENWATCH_FX_MAX_AGE_DAYS = int(os.environ.get("TOKENWATCH_FX_MAX_AGE_DAYS", "7"))
# Speed probes (apps/probes): hosts a probe target may reach although the SSRF guard would refuse them
# (loopback, LAN); any other host must resolve to public addresses. Hard limits per run (README "Probes").
TOKENWATCH_PROBE_ALLOWED_HOSTS = env_list("TOKENWATCH_PROBE_ALLOWED_HOSTS")
TOKENWATCH_PROBE_MAX_REQUESTS = int(os.environ.get("TOKENWATCH_PROBE_MAX_REQUESTS", "1000"))
TOKENWATCH_PROBE_MAX_CONCURRENCY = int(os.environ.get("TOKENWATCH_PROBE_MAX_CONCURRENCY", "64"))
TOKENWATCH_PROBE_MAX_INPUT_TOKENS = int(os.environ.get("TOKENWATCH_PROBE_MAX_INPUT_TOKENS", "32000"))
TOKENWATCH_PROBE_MAX_OUTPUT_TOKENS = int(os.environ.get("TOKENWATCH_PROBE_MAX_OUTPUT_TOKENS", "4096"))
TOKENWATCH_PROBE_MAX_TOTAL_TOKENS = int(os.environ.get("TOKENWATCH_PROBE_MAX_TOTAL_TOKENS", "2000000"))
TOKENWATCH_PROBE_MAX_WALL_S = float(os.environ.get("TOKENWATCH_PROBE_MAX_WALL_S", "480"))
TOKENWATCH_PROBE_READ_TIMEOUT_S = float(os.environ.get("TOKENWATCH_PROBE_READ_TIMEOUT_S", "30"))
# Watches and alerts (apps/alerts, README "Watches and alerts"). Webhooks go to HTTPS URLs on public addresses;
# a host listed here may also be reached over plain http and on private or loopback addresses.
TOKENWATCH_WEBHOOK_ALLOWED_HOSTS = env_list("TOKENWATCH_WEBHOOK_ALLOWED_HOSTS")
TOKENWATCH_WEBHOOK_TIMEOUT_S = float(os.environ.get("TOKENWATCH_WEBHOOK_TIMEOUT_S", "10"))
TOKENWATCH_ALERT_MAX_TRIES = int(os.environ.get("TOKENWATCH_ALERT_MAX_TRIES", "6"))
# Retry n waits backoff x 2^(n-1) seconds: 30 s, 1 min, 2 min, 4 min, 8 min with the defaults.
TOKENWATCH_ALERT_RETRY_BACKOFF_S = float(os.environ.get("TOKENWATCH_ALERT_RETRY_BACKOFF_S", "30"))
TOKENWATCH_SITE_URL = os.environ.get("TOKENWATCH_SITE_URL", "http://localhost:8000")  # links in alerts
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tokenwatch <alerts@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Tasks run in-process (the embedded default) would print Celery's "Task ... succeeded" line into every
        # `manage.py ingest` and `make run`; a worker's log keeps them.
        **({"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {}),
    },
}

# --- REST API (owned by the API work: tokenwatch/api_router.py, apps/*/api/) ---
# Throttle counters must be shared by every process that serves requests, or 4 gunicorn workers allow
# 4x the limit (issue 12). They live in the "throttle" cache: Redis when CACHE_URL is set, else a table
# in the database (created by migrate), which every worker and machine already shares; its incr is made
# atomic by apps.api_common.cache. Redis is not taken from CELERY_BROKER_URL by default: a cache clear()
# would FLUSHDB the broker's queue. The "default" cache stays per process (LocMem) without CACHE_URL.
_REDIS_CACHE_URL = os.environ.get("CACHE_URL", "") if os.environ.get("CACHE_URL", "").startswith(
    ("redis://", "rediss://")) else ""
if os.environ.get("CACHE_URL") and not _REDIS_CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// or rediss:// URL, got {os.environ['CACHE_URL']!r}")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_CACHE_URL}
        if _REDIS_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tokenwatch"}
    ),
    "throttle": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_CACHE_URL,
         "KEY_PREFIX": "throttle"}
        if _REDIS_CACHE_URL
        # A counter row lives for its window; over MAX_ENTRIES rows the expired ones are deleted first, so
        # live counters are culled only past ~10,000 clients a minute (use Redis long before that).
        else {"BACKEND": "apps.api_common.cache.AtomicDatabaseCache", "LOCATION": "tokenwatch_cache",
              "OPTIONS": {"MAX_ENTRIES": 10_000}}
    ),
}
RATELIMIT_USE_CACHE = "throttle"  # django-ratelimit counts the throttles' windows in it
# Anonymous clients are keyed by REMOTE_ADDR. Behind a reverse proxy that is the proxy: name the request.META
# key holding one client address that the proxy sets (e.g. HTTP_X_REAL_IP), never one a client can send.
RATELIMIT_IP_META_KEY = os.environ.get("RATELIMIT_IP_META_KEY") or None


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate such as 120/min; "off" turns the throttle off."""
    import re

    value = os.environ.get(name, "") or default
    if value.lower() == "off":
        return None
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 120/min (per s, min, hour or day) or off, got {value!r}")
    return value


TOKENWATCH_API_THROTTLE_RATES = {
    "anon": env_rate("TOKENWATCH_API_THROTTLE_ANON", "120/min"),  # per client address
    "user": env_rate("TOKENWATCH_API_THROTTLE_USER", "1200/min"),  # per user, i.e. per API token
}
# Dashboard pages for anonymous visitors (the public demo), per client address; signed-in users are not held.
TOKENWATCH_PAGE_THROTTLE_ANON = env_rate("TOKENWATCH_PAGE_THROTTLE_ANON", "120/min")
# Dashboard pages kept per version of the data (apps.dashboard.pagecache); 0 computes every page per request.
TOKENWATCH_PAGE_CACHE = env_bool("TOKENWATCH_PAGE_CACHE", True)
TOKENWATCH_API_PAGE_SIZE = 100
TOKENWATCH_API_MAX_PAGE_SIZE = 1000

REST_FRAMEWORK: dict = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated request gets 401 with WWW-Authenticate: Token.
        "apps.api_common.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.api_common.permissions.PublicReadStaffWrite"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api_common.throttling.AnonThrottle",
                                 "apps.api_common.throttling.UserThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "apps.api_common.renderers.FastJSONRenderer",
        "apps.api_common.renderers.CSVRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.api_common.renderers.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "apps.api_common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api_common.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    # One timestamp format for every date-time the API writes (2025-02-06T02:56:03.000000Z): see
    # apps/common/timestamps.py for why microseconds, always six digits. Serializers hand the datetime itself
    # to the renderers (None), which write it with timestamp_text: DRF's strftime would write the year 962 as
    # "962", not the four digits RFC 3339 (and the schema's date-time) require.
    "DATETIME_FORMAT": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS: dict = {
    "TITLE": "tokenwatch API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (BASE_DIR / "apps" / "api_common" / "schema_description.md").read_text(encoding="utf-8"),
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # API docs work with no internet: Swagger UI and ReDoc are served from drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No outside request from the docs: Swagger UI's default shows a badge fetched from validator.swagger.io,
    # and ReDoc's theme names web fonts that only its Google Fonts link (dropped in templates/api/redoc.html)
    # would load; the system's fonts instead.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_UI_SETTINGS": {"theme": {"typography": {
        "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
        "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
                                   "sans-serif"},
    }}},
    "ENUM_NAME_OVERRIDES": {
        "ProviderKindEnum": "apps.catalog.models.Provider.Kind",
        "AliasStatusEnum": "apps.catalog.models.ModelAlias.Status",
        "SnapshotParseStatusEnum": "apps.sources.models.Snapshot.Status",
        "IngestRunStatusEnum": "apps.sources.models.IngestRun.Status",
        "IngestRunTriggerEnum": "apps.sources.models.IngestRun.Trigger",
        "SourceFormatEnum": "apps.sources.models.Source.Format",
    },
}
