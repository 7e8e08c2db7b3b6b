"""Settings, read from the environment.

With no environment the platform runs on a SQLite file with Celery tasks executed
eagerly in-process. ``DATABASE_URL`` switches to PostgreSQL, ``CELERY_BROKER_URL``
to Redis with real workers. ``DJANGO_DEBUG=false`` with ``DJANGO_SECRET_KEY`` set
gives production settings that pass ``manage.py check --deploy``.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "territories",
    "kitchens",
    "associations",
    "meals",
    "costing",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "territories.navigation.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and env_bool(
    "PASSERELLE_SQLITE_CONCURRENT", False
):
    # `make run` serves pages while seed_demo writes the pilot year in another process: readers
    # never wait on the writer (write-ahead log, synced at its checkpoints rather than at every
    # commit), a write begins by taking the lock (so two writers queue rather than fail), and
    # waits up to a minute for it.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 60,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses a username from an address after too many.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Sign-in links e-mailed to volunteers (territories.sign_in_links).
    "sesame.backends.ModelBackend",
]
# A sign-in link works once (it carries the last login, which signing in changes), expires after
# PASSERELLE_SIGN_IN_LINK_HOURS, and dies with a password change; it is bound to one
# membership, and refused once that membership is removed (territories.sign_in_links).
SESAME_MAX_AGE = int(float(os.environ.get("PASSERELLE_SIGN_IN_LINK_HOURS", "4")) * 3600)
SESAME_ONE_TIME = True
SESAME_INVALIDATE_ON_PASSWORD_CHANGE = True
AXES_FAILURE_LIMIT = int(os.environ.get("PASSERELLE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # failures are still logged; no banner on every command
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Signed conventions are PDFs of a few pages; anything larger is refused.
CONVENTION_MAX_BYTES = 10 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token first: its "WWW-Authenticate: Token" makes a missing or dead token a 401.
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only, and the schema says so: a client generated from it sends JSON. The one
    # write that carries a file (a partnership's convention) adds multipart on its viewset.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "territories.api_schema.PasserelleAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "territories.api_base.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "territories.throttles.TokenClientThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("PASSERELLE_API_ANON_RATE", "30/minute"),
        "token": os.environ.get("PASSERELLE_API_TOKEN_RATE", "600/minute"),
        # Online answers to a survey's public link (evaluation/survey_limits.py).
        "survey_client": os.environ.get("PASSERELLE_SURVEY_CLIENT_RATE", "3/minute"),
        "survey_client_hour": os.environ.get("PASSERELLE_SURVEY_CLIENT_HOURLY", "30/hour"),
        "survey_link": os.environ.get("PASSERELLE_SURVEY_LINK_HOURLY", "300/hour"),
    },
}
# API tokens (django-rest-knox): one per device, stored hashed, each with an expiry; the header
# stays "Authorization: Token <key>". Revoked on logout, by their owner, and all at once when the
# password changes or the account is deactivated (territories/tokens.py).
KNOX_TOKEN_MODEL = "territories.ApiToken"  # noqa: S105 (a model name, not a secret)
# knox's own migrations create its table even when its model is swapped for ours; that table,
# which nothing uses, references auth_user, so PostgreSQL refused to empty auth_user between
# transactional tests (TRUNCATE of a referenced table). Without them no such table is made.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=int(os.environ.get("PASSERELLE_API_TOKEN_DAYS", "30"))),
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Passerelle API",
    "DESCRIPTION": "Partenariats territoriaux entre cuisines centrales et associations d'aide alimentaire.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: no CDN, no inline script from elsewhere.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name get their own component names.
    "ENUM_NAME_OVERRIDES": {
        "SurveyKindEnum": "evaluation.models.Survey.Kind",
        "SurveyQuestionKindEnum": "evaluation.models.SurveyQuestion.Kind",
        "ReportKindEnum": "evaluation.models.Report.Kind",
        "BudgetCategoryEnum": "costing.finance_models.BudgetCategory",
        "JournalCategoryEnum": "evaluation.models.JournalEntry.Category",
        "RevenueReceiverEnum": "costing.finance_models.Revenue.Receiver",
    },
}

# Rate-limit counters and cached indicator results must be shared by every web process of a
# deployment: CACHE_URL names a Redis database for them (not the broker's: tests clear the cache).
# Without it each process keeps its own, which is enough for one process (the demo, the tests).
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# Task outcomes that matter (reports, roll-ups) are stored in the database, not in a result backend.
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
# A write must not hang when the broker is down: give up publishing quickly (the caller logs it).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Without a broker, tasks run in the calling process so the demo needs no Redis.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message a worker took but never acknowledged (the worker died) goes back to the queue after
# this many seconds; it must exceed the longest task, or a running task is delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
}
CELERY_TIMEZONE = TIME_ZONE
# Pending work lives in the database (docs/architecture.md, "Pending work"): stale roll-up days,
# reports and imports. Every PASSERELLE_SWEEP_SECONDS the sweepers send again what was not taken
# within PASSERELLE_RESEND_AFTER_SECONDS; a worker holds a report or an import under a lease of
# PASSERELLE_LEASE_SECONDS, renewed while it works, and one left PASSERELLE_MAX_ATTEMPTS times by a
# stopped worker is marked failed.
PASSERELLE_SWEEP_SECONDS = float(os.environ.get("PASSERELLE_SWEEP_SECONDS", "60"))
PASSERELLE_RESEND_AFTER_SECONDS = float(os.environ.get("PASSERELLE_RESEND_AFTER_SECONDS", "180"))
PASSERELLE_LEASE_SECONDS = float(os.environ.get("PASSERELLE_LEASE_SECONDS", "300"))
PASSERELLE_MAX_ATTEMPTS = int(os.environ.get("PASSERELLE_MAX_ATTEMPTS", "3"))
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "sweep-stale-days": {
        "task": "costing.tasks.sweep_stale_days",
        "schedule": PASSERELLE_SWEEP_SECONDS,
    },
    "sweep-reports": {
        "task": "evaluation.tasks.sweep_reports",
        "schedule": PASSERELLE_SWEEP_SECONDS,
    },
    "sweep-record-imports": {
        "task": "meals.tasks.sweep_record_imports",
        "schedule": PASSERELLE_SWEEP_SECONDS,
    },
    # Offers whose response deadline passed: closed once each, their kitchen told (meals.offers).
    "expire-offers": {
        "task": "meals.offers.tasks.expire_offers",
        "schedule": PASSERELLE_SWEEP_SECONDS,
    },
    # Pickup rounds (meals.rounds): slots planned four weeks ahead, the volunteers' reminders the
    # day before, the alerts of slots with nobody 48 and 24 hours ahead (each once per slot).
    "generate-round-slots": {
        "task": "meals.rounds.tasks.generate_round_slots",
        "schedule": crontab(hour=4, minute=10),
    },
    "send-round-reminders": {
        "task": "meals.rounds.tasks.send_round_reminders",
        "schedule": crontab(minute=5),
    },
    "send-round-alerts": {
        "task": "meals.rounds.tasks.send_round_alerts",
        "schedule": crontab(minute=20),
    },
    "rebuild-recent-rollups": {
        "task": "costing.tasks.rebuild_recent_rollups",
        "schedule": crontab(hour=2, minute=30),
    },
    "remind-unpicked-batches": {
        "task": "meals.tasks.remind_unpicked_batches",
        "schedule": crontab(hour=8, minute=0),
    },
    "habilitation-alerts": {
        "task": "associations.tasks.send_habilitation_alerts",
        "schedule": crontab(hour=7, minute=30),
    },
    "delete-orphan-files": {
        "task": "territories.tasks.delete_orphan_files",
        "schedule": crontab(hour=3, minute=15),
    },
}

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
# Absolute links in emails.
SITE_URL = os.environ.get("PASSERELLE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Passerelle <noreply@passerelle.local>")

# No inline script or style anywhere: pages load their assets from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
