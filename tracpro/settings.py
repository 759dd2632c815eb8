"""TracPro settings, read from the environment.

Production is the default: without DEBUG set, the settings refuse to start
until SECRET_KEY, ALLOWED_HOSTS, PARENT_HOST, DATABASE_URL and REDIS_URL are
given. DEBUG=1 (set by `make run`, `make test`, `make check`, `make bench`, the
Procfile and pytest.ini) turns on the development defaults that let a fresh
clone run. See docs/operations.md for every variable.
"""

import os
from pathlib import Path

import dj_database_url

import django.conf.locale
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Forgetting DEBUG must never serve a production site in development mode.
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"  # noqa: S105

# Orgs live on <subdomain>.PARENT_HOST; the bare PARENT_HOST is the root host.
PARENT_HOST = env_str("PARENT_HOST", "localhost" if DEBUG else "")
if not PARENT_HOST:
    raise ImproperlyConfigured("PARENT_HOST must be set when DEBUG is off.")
HOST_PORT = env_str("HOST_PORT", env_str("WEB_PORT", "8000") if DEBUG else "")
HOST_SCHEME = env_str("HOST_SCHEME", "http://" if DEBUG else "https://")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    [PARENT_HOST, f".{PARENT_HOST}", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [],
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_hosts",
    "django_htmx",
    "compressor",
    "smartmin",
    "axes",
    "csp",
    "tracpro.accounts",
    "tracpro.orgs",
    "tracpro.groups",
    "tracpro.contacts",
    "tracpro.polls",
    "tracpro.msgs",
    "tracpro.rapidpro",
    "tracpro.charts",
    "tracpro.dashboards",
    "tracpro.manage",
    "tracpro.messaging",
    "tracpro.home",
    "tracpro.health",
    "tracpro.indicators",
]
if DEBUG:
    # `seed_demo` and its public passwords exist only in development.
    INSTALLED_APPS.append("tracpro.demo")

MIDDLEWARE = [
    # First, so that the other middleware's writes (the session) count too.
    "tracpro.middleware.ReplicaMiddleware",
    "django_hosts.middleware.HostsRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tracpro.health.middleware.RejectNulCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tracpro.orgs.middleware.OrgMiddleware",
    "tracpro.accounts.middleware.PasswordChangeRequiredMiddleware",
    # Last: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
    "django_hosts.middleware.HostsResponseMiddleware",
]

ROOT_URLCONF = "tracpro.urls_root"
ROOT_HOSTCONF = "tracpro.hosts"
DEFAULT_HOST = "root"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tracpro" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracpro.orgs.context_processors.org",
                "tracpro.groups.context_processors.region_scope",
            ],
            "builtins": ["django.templatetags.i18n"],
        },
    }
]

WSGI_APPLICATION = "tracpro.wsgi.application"

# Databases -------------------------------------------------------------------

# The development defaults are the private servers `make run` starts (scripts/services.sh).
DEV_DATABASE_URL = f"postgres://tracpro@127.0.0.1:{env_str('TRACPRO_PG_PORT', '5433')}/tracpro"
DEV_REDIS_URL = f"redis://127.0.0.1:{env_str('TRACPRO_REDIS_PORT', '6380')}/0"

DATABASE_URL = env_str("DATABASE_URL", DEV_DATABASE_URL if DEBUG else "")
if not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_URL must be set when DEBUG is off.")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
# The sync stages each batch of up to 10,000 runs in temporary tables; with the
# default 8 MB of temp_buffers they spill to disk. Buffers are allocated as used.
# Empty sends no startup option (for poolers that refuse them; see operations.md).
DB_TEMP_BUFFERS = env_str("DB_TEMP_BUFFERS", "64MB")
if DB_TEMP_BUFFERS:
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c temp_buffers={DB_TEMP_BUFFERS}"
    )
# An optional streaming replica of the primary for the dashboards' reads of mirror
# data (tracpro/replica.py; docs/operations.md, "When one machine is not enough").
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    # Tests use the primary under both names: a test database has no replica.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["tracpro.replica.ReplicaRouter"]
# Seconds a user's requests stay on the primary after one of them wrote.
REPLICA_STICKY_SECONDS = env_int("REPLICA_STICKY_SECONDS", 10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis holds the cache and the per-org task locks; the Celery broker uses the
# next database number so that clearing the cache never drops queued tasks.
REDIS_URL = env_str("REDIS_URL", DEV_REDIS_URL if DEBUG else "")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when DEBUG is off.")


def _next_redis_db(url: str) -> str:
    base, _, db = url.rpartition("/")
    return f"{base}/{int(db or 0) + 1}" if db.isdigit() else url


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "tracpro",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# Celery ------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", _next_redis_db(REDIS_URL))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Starts, messages, replies and contact pushes have a queue (and workers) of their
# own, so a supervisor's reminder never waits behind a long sync; the syncs and the
# rest use the default queue "celery" (docs/operations.md, "Processes").
ACTIONS_QUEUE = "actions"
CELERY_TASK_ROUTES = {
    f"tracpro.rapidpro.tasks.{name}": {"queue": ACTIONS_QUEUE}
    for name in ("send_message", "archive_inbox_message", "push_contact")
}
# One beat runs these; per-org work fans out from `tracpro.orgs.tasks.fan_out`.
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "tracpro.accounts.tasks.clear_expired_sessions",
        "schedule": 24 * 60 * 60,
    },
    # Contact pushes whose task was lost with a killed worker or a broker outage.
    "requeue-stale-contact-pushes": {
        "task": "tracpro.rapidpro.tasks.requeue_stale_pushes",
        "schedule": 15 * 60,
    },
    # Starts and messages whose task was lost.
    "requeue-stale-messages": {
        "task": "tracpro.rapidpro.tasks.requeue_stale_messages",
        "schedule": 5 * 60,
    },
    # The RapidPro mirror (docs/sync.md): seconds between syncs of each kind.
    **{
        f"sync-{kind}": {
            "task": "tracpro.orgs.tasks.fan_out",
            "schedule": env_int(f"SYNC_{kind.upper()}_EVERY", seconds),
            "args": [kind],
            # A fan-out that waited longer than its interval is superseded by the next.
            "options": {"expires": env_int(f"SYNC_{kind.upper()}_EVERY", seconds)},
        }
        for kind, seconds in (
            ("runs", 2 * 60),
            ("inbox", 5 * 60),
            ("contacts", 10 * 60),
            ("flows", 60 * 60),
            ("fields", 60 * 60),
            ("groups", 60 * 60),
            ("boundaries", 24 * 60 * 60),
            # counts per poll against RapidPro's own, to find runs gone without a trace
            ("reconcile", 7 * 24 * 60 * 60),
        )
    },
}

# Auth ------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
# Paths, not URL names: both the root and the org hosts serve them, and
# smartmin uses LOGIN_URL verbatim.
LOGIN_URL = "/users/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/users/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a login while the account or the address is locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (docs/operations.md, "Lockout"): after LOGIN_FAILURE_LIMIT failed
# logins for one account, or from one address, further tries are refused for
# LOGIN_LOCKOUT_MINUTES. Attempts are kept in the database (axes_accessattempt).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tracpro.accounts.views.locked_out"
AXES_VERBOSE = False
# REMOTE_ADDR, or behind a trusted proxy the address it appended (BEHIND_PROXY below).
AXES_CLIENT_IP_CALLABLE = "tracpro.accounts.middleware.client_ip"
# Password-reset emails per address (accounts.throttle): this many per window.
PASSWORD_RESET_LIMIT = env_int("PASSWORD_RESET_LIMIT", 3)
PASSWORD_RESET_WINDOW = env_int("PASSWORD_RESET_WINDOW", 60 * 60)  # seconds
# How long a password-reset or invitation link stays valid.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_LINK_DAYS", 3) * 24 * 60 * 60
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Internationalisation ----------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("pt", _("Portuguese")),
    ("sw", _("Swahili")),
    ("ar", _("Arabic")),
    ("fa", _("Persian")),
    ("ps", _("Pashto")),
]
LANGUAGES_BIDI = ["ar", "fa", "ps"]
# Django knows every language above except Pashto.
django.conf.locale.LANG_INFO.setdefault(
    "ps", {"bidi": True, "code": "ps", "name": "Pashto", "name_local": "پښتو"}
)
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# Static files --------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "tracpro" / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "tracpro.static_finders.AppStaticFinder",
    "compressor.finders.CompressorFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Our own CSS and JS (the `{% compress %}` blocks of the templates; the vendored
# files stay as they are) are bundled and minified into CACHE/ under STATIC_ROOT,
# with hashed names. Production compresses ahead of time (`manage.py compress`
# after `collectstatic`, which writes CACHE/manifest.json) and never at request
# time; development serves the files one by one, uncompressed.
COMPRESS_ENABLED = not DEBUG
COMPRESS_OFFLINE = not DEBUG
# smartmin's templates extend the template its views name; offline, name it for them.
COMPRESS_OFFLINE_CONTEXT = {"STATIC_URL": STATIC_URL, "base_template": "base.html"}

# Email --------------------------------------------------------------------------

EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "TracPro <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Ops", email) for email in env_list("ADMINS", [])]

# Security ----------------------------------------------------------------------

# htmx takes the token from the page (hx-headers on <body>), so no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A reverse proxy (nginx, a load balancer) that terminates HTTPS must set
# X-Forwarded-Proto and overwrite any value the client sent, and append the
# client's address to X-Forwarded-For: only then set BEHIND_PROXY=1, or anyone
# could claim to use HTTPS or come from another address.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"https://*.{PARENT_HOST}"])
    # The health check is polled over plain HTTP by load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Where the demo orgs find the bundled RapidPro simulator (make run).
SIMULATOR_URL = env_str("SIMULATOR_URL", f"http://localhost:{env_str('SIMULATOR_PORT', '8001')}")

# Content-Security-Policy (django-csp): scripts, styles, images and connections
# from TracPro's own host only; no inline script or style, no eval. Each directive
# can be replaced from the environment, e.g. CSP_MEDIA_SRC="'self' https://media.example.org"
# for voice recordings served by RapidPro (docs/operations.md, "Content-Security-Policy").
CSP_DEFAULTS = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],  # Leaflet's and Chart.js's generated images
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    # Voice recordings play from where RapidPro keeps them: in development, the
    # bundled simulator; in production, list the RapidPro media hosts in CSP_MEDIA_SRC.
    "media-src": ["'self'", SIMULATOR_URL] if DEBUG else ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        name: env_list("CSP_" + name.upper().replace("-", "_"), sources)
        for name, sources in CSP_DEFAULTS.items()
    }
}

# Logging -------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "tracpro": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
        "celery": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# RapidPro ------------------------------------------------------------------------

# How the sync talks to RapidPro (docs/sync.md, "Faults"); all in seconds but the counts.
RAPIDPRO_TIMEOUT = env_float("RAPIDPRO_TIMEOUT", 30)  # per request
RAPIDPRO_MAX_ATTEMPTS = env_int("RAPIDPRO_MAX_ATTEMPTS", 5)  # failures in a row before a sync stops
RAPIDPRO_BACKOFF_BASE = env_float("RAPIDPRO_BACKOFF_BASE", 1)  # first retry; doubles each time
RAPIDPRO_BACKOFF_CAP = env_float("RAPIDPRO_BACKOFF_CAP", 60)
# A longer Retry-After stops the sync, which queues itself again for when it is over.
RAPIDPRO_MAX_WAIT = env_float("RAPIDPRO_MAX_WAIT", 120)
# Incremental syncs re-read this many seconds before their watermark: rows RapidPro
# stamped earlier may become visible late (docs/sync.md, "Late writes").
RAPIDPRO_OVERLAP = env_float("RAPIDPRO_OVERLAP", 180)
RAPIDPRO_INBOX_DAYS = env_int("RAPIDPRO_INBOX_DAYS", 30)  # inbox history fetched at first
# Each inbox pass reads again this far before its watermark (messages handled late).
RAPIDPRO_INBOX_OVERLAP = env_int("RAPIDPRO_INBOX_OVERLAP", 60 * 60)
# How often, and how far back, archived / restored / relabelled messages are picked up.
RAPIDPRO_INBOX_REFRESH_EVERY = env_int("RAPIDPRO_INBOX_REFRESH_EVERY", 60 * 60)
RAPIDPRO_INBOX_REFRESH_DAYS = env_int("RAPIDPRO_INBOX_REFRESH_DAYS", 7)

# TracPro -------------------------------------------------------------------------

# /healthz checks Postgres, Redis and the broker at most this often per process.
HEALTHZ_CACHE_SECONDS = env_float("HEALTHZ_CACHE_SECONDS", 2)
