"""Django settings, all derived from ``yapdns.config`` (environment variables).

Application data (users, sensors, tokens, sessions) lives in Django's
database: ``<data dir>/app.sqlite3`` by default, or the PostgreSQL database
named by YAPDNS_DATABASE_URL. DNS records live in the record store
(``yapdns.storage``), opened from the same setting.
"""

from __future__ import annotations

import datetime as dt

import dj_database_url

from yapdns import config
from yapdns.core.errors import ConfigurationError
from yapdns.core.private import private_file
from yapdns.server.monitoring.logs import logging_config
from yapdns.storage.prune_rules import parse_rules

DATA_DIR = config.data_dir()
SECRET_KEY = config.secret_key()
DEBUG = config.get_bool("YAPDNS_DEBUG")
ALLOWED_HOSTS = config.allowed_hosts()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "yapdns.server.accounts",
    "yapdns.server.sensors",
    "yapdns.server.ingest",
    "yapdns.server.query",
    "yapdns.server.compat",
    "yapdns.server.dashboard",
    "yapdns.server.detection",
    "yapdns.server.monitoring",
    "yapdns.server.workers",
    "yapdns.server.enrichment",
    "django_tasks",
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    "yapdns.server.monitoring.middleware.RequestMonitorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yapdns.server.security.AllowedMethodsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yapdns.server.security.SecurityHeadersMiddleware",
    "yapdns.server.security.RequireAuthenticationMiddleware",
    "yapdns.server.query.strict.UnknownParametersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yapdns.server.urls"
WSGI_APPLICATION = "yapdns.server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yapdns.server.dashboard.context.viewer",
            ],
        },
    },
]

_URL = config.database_url()
if _URL:
    DATABASES = {"default": dj_database_url.parse(_URL, conn_max_age=60, conn_health_checks=True)}
    DATABASES["default"].setdefault("OPTIONS", {}).pop("schema", None)
else:
    private_file(DATA_DIR / "app.sqlite3")  # owner-only before SQLite creates it (and its -wal, -shm) 0644
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "app.sqlite3"),
            # IMMEDIATE: a transaction takes the write lock when it begins, so a busy database is waited for
            # (timeout); a deferred one that reads and then writes fails at once with "database is locked".
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 30,
                        "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background jobs (server/workers): Django's tasks framework, stored in the application database above, so
# `yapdns worker` needs no other service. See docs/development.md, "Adding a background job".
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out clients before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]

# Login rate limit (django-axes, state in the application database, so it holds
# across gunicorn workers): a username from one client address, or one client
# address over any usernames, with too many failures is locked out for the
# cool-off time; never a username by itself, which would let anyone lock its
# owner out from elsewhere. See docs/dashboard.md.
AXES_FAILURE_LIMIT = config.get_int("YAPDNS_LOGIN_FAILURE_LIMIT")
AXES_COOLOFF_TIME = dt.timedelta(seconds=config.get_int("YAPDNS_LOGIN_COOLOFF_SECONDS"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = False  # a login of ones own must not wipe the failures counted against others from that address
AXES_LOCKOUT_CALLABLE = "yapdns.server.dashboard.auth.locked_out"
AXES_CLIENT_IP_CALLABLE = "yapdns.server.dashboard.auth.client_ip"
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Ingest bodies are read by the ingest view itself, bounded by YAPDNS_MAX_INGEST_BYTES.
MAX_INGEST_BYTES = config.get_int("YAPDNS_MAX_INGEST_BYTES")
MAX_INGEST_DECOMPRESSED_BYTES = config.get_int("YAPDNS_MAX_INGEST_DECOMPRESSED_BYTES")
MAX_INGEST_RECORDS = config.get_int("YAPDNS_MAX_INGEST_RECORDS")
BULK_MAX_QUERIES = config.get_int("YAPDNS_BULK_MAX_QUERIES")
BULK_MAX_ROWS = config.get_int("YAPDNS_BULK_MAX_ROWS")
REQUEST_TIME_BUDGET = config.get_int("YAPDNS_REQUEST_TIME_BUDGET")
TRUSTED_PROXIES = frozenset(a.strip() for a in config.get("YAPDNS_TRUSTED_PROXIES").split(",") if a.strip())
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
RESULTS_MAX = config.get_int("YAPDNS_RESULTS_MAX")
OFFSET_MAX = config.get_int("YAPDNS_OFFSET_MAX")
SESSION_QUOTA_DAILY = config.get_int("YAPDNS_SESSION_QUOTA_DAILY")
SESSION_QUOTA_BURST = config.parse_rate(config.get("YAPDNS_SESSION_QUOTA_BURST"), "YAPDNS_SESSION_QUOTA_BURST")
RETENTION_RULES = parse_rules([config.get("YAPDNS_RETENTION_RULES")], 0)  # checked at start, not at the first prune
FLEX_TIME_BUDGET = config.get_int("YAPDNS_FLEX_TIME_BUDGET")
CIRCL_MAX_ROWS = config.get_int("YAPDNS_CIRCL_MAX_ROWS")

# Security: cookies are HttpOnly and SameSite; secure flags and HSTS when served over TLS.
_TLS = config.get("YAPDNS_TLS").strip().lower()
SERVED_OVER_TLS = _TLS in ("1", "true", "yes", "on")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SERVED_OVER_TLS
CSRF_COOKIE_SECURE = SERVED_OVER_TLS
SECURE_HSTS_SECONDS = 31536000 if SERVED_OVER_TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SERVED_OVER_TLS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SERVED_OVER_TLS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
# yapdns.W012 (server/deploy_checks.py) replaces W008: redirecting to HTTPS is the TLS proxy's job; preloading
# HSTS (W021) is an operator's commitment to the browsers' lists, not a default.
SILENCED_SYSTEM_CHECKS = ["security.W008", "security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOG_FORMAT = config.get("YAPDNS_LOG_FORMAT").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ConfigurationError(f"YAPDNS_LOG_FORMAT must be 'plain' or 'json', got {LOG_FORMAT!r}")
JSON_ACCESS_LOG = LOG_FORMAT == "json"
LOGGING = logging_config(LOG_FORMAT)
METRICS_TOKEN = config.get("YAPDNS_METRICS_TOKEN").strip()
