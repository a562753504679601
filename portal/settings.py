"""Settings of the patient portal.

Everything that differs between a laptop, CI and production is read from the
environment (see `.env.example`). With no environment at all the portal runs in
local development mode: DEBUG on, SQLite in ./data, a generated secret key kept
in ./data so sessions survive restarts.
"""

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("PORTAL_DATA_DIR", str(BASE_DIR / "data")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    configured = env_str("SECRET_KEY", "")
    if configured:
        return configured
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Development only: a random key persisted next to the SQLite database.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "django_ratelimit",
    "portal.core",
    "portal.identity",
    "portal.directory",
    "portal.patients",
    "portal.audit",
    "portal.scheduling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.core.middleware.SlidingSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.patients.context_processors.acting",
            ],
        },
    },
]


def _databases() -> dict:
    url = env_str("DATABASE_URL", "")
    if not url:
        url = f"sqlite:///{DATA_DIR / 'portal.sqlite3'}"
    db = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the
        # busy timeout instead of failing mid-transaction with "database is locked".
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        db["CONN_MAX_AGE"] = 0
    else:
        db.setdefault("OPTIONS", {})
        db["CONN_HEALTH_CHECKS"] = True
        test_name = env_str("TEST_DATABASE_NAME", "")
        if test_name:
            db["TEST"] = {"NAME": test_name}
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский"))]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
TIME_ZONE = "Asia/Irkutsk"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Without collectstatic (development, tests) WhiteNoise finds files in the apps.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- Security (docs/security.md) ---------------------------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 3600)
# Idle timeout: SlidingSessionMiddleware pushes the expiry forward at most once a minute.
SESSION_TOUCH_INTERVAL = env_int("SESSION_TOUCH_INTERVAL", 60)
# With Redis, sessions are read from the cache (written through to the database);
# a per-process memory cache would serve stale sessions across workers, so not without it.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if env_str("REDIS_URL", "")
    else "django.contrib.sessions.backends.db"
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto.
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP

# No inline scripts or styles anywhere: every asset is a file served by the portal.
CSP_EXTRA_FORM_ACTIONS = env_list("CSP_EXTRA_FORM_ACTIONS", [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", *CSP_EXTRA_FORM_ACTIONS],
    }
}

# Caches and rate limits: Redis when REDIS_URL is set (several app servers share the
# counters), otherwise a per-process memory cache that is fine for one process.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CSRF_FAILURE_VIEW = "portal.core.views.csrf_failure"
RATELIMIT_VIEW = "portal.core.views.too_many_requests"
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
# Django's own Redis backend increments atomically, it is just not on the library's list;
# the memory cache is a deliberate single-process default (docs/operations.md).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001", "django_ratelimit.E003"]

# The portal's own rules (DESIGN.md §4).
CHILD_MAX_AGE = env_int("CHILD_MAX_AGE", 14)
PORTAL_REGION_NAME = env_str("PORTAL_REGION_NAME", "Иркутская область")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "portal.core.logfilters.RedactPersonalData"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Booking (portal.scheduling, issue 5) -------------------------------------------
# How long a booking waits for a row lock before answering "busy, try again" (docs/concurrency.md).
SCHEDULING_LOCK_TIMEOUT_MS = env_int("SCHEDULING_LOCK_TIMEOUT_MS", 5000)
# Days of slots generated ahead (the demo and `generate_slots` default).
SCHEDULING_HORIZON_DAYS = env_int("SCHEDULING_HORIZON_DAYS", 14)
# Seconds the «Ближайшее свободное время» ranking is shared between requests (0 = off).
NEAREST_CACHE_SECONDS = env_int("NEAREST_CACHE_SECONDS", 2)

# --- ESIA login and the ESIA emulator (issue 3; docs/esia.md) -------------------------
from typing import cast  # noqa: E402 - kept inside this block to leave the shared header alone

# Defaults point at the built-in emulator on http://127.0.0.1:8001 with development keys
# that `manage.py esia_dev_keys` generates into PORTAL_DATA_DIR/esia-dev/.
ESIA_DEV_DIR = DATA_DIR / "esia-dev"


def _esia_file(name: str, default_name: str) -> Path:
    """A key/certificate path; empty or unset means the development file."""
    return Path(env_str(name, "") or ESIA_DEV_DIR / default_name)


ESIA_BASE_URL = env_str("ESIA_BASE_URL", "http://127.0.0.1:8001").rstrip("/")
# The `iss` of ESIA's tokens: http and a trailing slash even for the https hosts.
ESIA_ISSUER = env_str("ESIA_ISSUER", "http://127.0.0.1:8001/")
ESIA_CLIENT_ID = env_str("ESIA_CLIENT_ID", "PORTAL_PACIENTA_DEV")
ESIA_REDIRECT_URI = env_str("ESIA_REDIRECT_URI", "http://127.0.0.1:8000/login/esia/callback/")
ESIA_LOGOUT_REDIRECT_URL = env_str("ESIA_LOGOUT_REDIRECT_URL", "http://127.0.0.1:8000/")
ESIA_SCOPES = env_str(
    "ESIA_SCOPES",
    "openid fullname birthdate gender snils id_doc medical_doc email mobile contacts "
    "kid_fullname kid_birthdate kid_gender kid_snils kid_medical_doc",
)
# ESIA's certificate (PEM or DER) that signs its tokens.
ESIA_CERT = _esia_file("ESIA_CERT", "emulator.cert.pem")
# "gost-file": key + certificate files, pure Python; "command": ESIA_SIGNER_COMMAND.
ESIA_SIGNER = env_str("ESIA_SIGNER", "gost-file")
ESIA_CLIENT_KEY = _esia_file("ESIA_CLIENT_KEY", "client.key.pem")
ESIA_CLIENT_CERT = _esia_file("ESIA_CLIENT_CERT", "client.cert.pem")
ESIA_SIGNER_COMMAND = env_str("ESIA_SIGNER_COMMAND", "")
ESIA_SIGNER_REVERSE = env_bool("ESIA_SIGNER_REVERSE", False)
ESIA_TIMEOUT_SECONDS = env_int("ESIA_TIMEOUT_SECONDS", 10)
ESIA_MIN_AGE = env_int("ESIA_MIN_AGE", 14)

# The emulator is a fake identity provider: anyone can log in as anyone. It is on in
# development only; a server with DEBUG off refuses to start with it unless the
# operator states in so many words that this is a test stand.
ESIA_EMULATOR_ENABLED = env_bool("ESIA_EMULATOR_ENABLED", DEBUG)
ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION = env_bool(
    "ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION", False
)
if ESIA_EMULATOR_ENABLED and not DEBUG and not ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION:
    raise ImproperlyConfigured(
        "ESIA_EMULATOR_ENABLED with DEBUG off: the ESIA emulator lets anyone log in as "
        "anyone. Set ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION=1 only on a test stand."
    )
if ESIA_EMULATOR_ENABLED:
    INSTALLED_APPS.append("portal.esia_emulator")
# Logout is a form POST answered by a redirect to ESIA: CSP form-action covers redirects.
_form_action = cast(dict, CONTENT_SECURITY_POLICY["DIRECTIVES"])["form-action"]
_form_action.append(ESIA_BASE_URL)
# httpx logs every request URL at INFO: ESIA URLs carry codes, secrets and the person's oid.
cast(dict, LOGGING["loggers"]).update(
    {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}}
)
ESIA_EMULATOR_ISSUER = env_str("ESIA_EMULATOR_ISSUER", "http://127.0.0.1:8001/")
ESIA_EMULATOR_KEY = _esia_file("ESIA_EMULATOR_KEY", "emulator.key.pem")
ESIA_EMULATOR_CERT = _esia_file("ESIA_EMULATOR_CERT", "emulator.cert.pem")


# --- Hardening (issue 7; docs/security.md) -------------------------------------------
from portal.env import env_rate  # noqa: E402 - kept inside this block

# Rate limits (portal.core.ratelimits): "count/period", period s, m, h or d with an
# optional multiplier ("5/10m"). Per-IP limits are generous because a clinic or a
# mobile operator may put many people behind one address.
RATE_LOGIN_START_IP = env_rate("RATE_LOGIN_START_IP", "30/m")
RATE_LOGIN_CALLBACK_IP = env_rate("RATE_LOGIN_CALLBACK_IP", "30/m")
RATE_BOOKING_USER = env_rate("RATE_BOOKING_USER", "10/10m")
RATE_BOOKING_IP = env_rate("RATE_BOOKING_IP", "100/10m")
RATE_CANCEL_USER = env_rate("RATE_CANCEL_USER", "10/10m")
RATE_CANCEL_IP = env_rate("RATE_CANCEL_IP", "100/10m")
# Relative additions and own-policy entry share one counter: each try tests a policy
# number against the registry, so this caps how fast anyone can guess.
RATE_RELATIVE_USER = env_rate("RATE_RELATIVE_USER", "10/h")
# Behind a reverse proxy the client address is in a header the proxy sets, e.g.
# HTTP_X_REAL_IP (never a header the client can set itself).
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY", "") or None
# A database outage during a request answers 503 "try again" (portal.core.outage).
MIDDLEWARE.append("portal.core.outage.DatabaseUnavailableMiddleware")


# --- security (issue 11; docs/security.md) ---------------------------------------------
# Kept last and self-contained: it only adds to what the blocks above define.
import datetime  # noqa: E402 - kept inside this block
from typing import Any  # noqa: E402 - kept inside this block

from portal.env import env_float  # noqa: E402 - kept inside this block

# A slow ESIA: every ESIA call of one login callback (token exchange, person, each
# child's documents) ends within this many seconds in total, well under gunicorn's
# worker timeout (30 s in docs/operations.md), so a slow ESIA never kills a worker.
ESIA_LOGIN_DEADLINE_SECONDS = env_float("ESIA_LOGIN_DEADLINE_SECONDS", 10.0)
ESIA_RETRY_AFTER_SECONDS = env_int("ESIA_RETRY_AFTER_SECONDS", 60)

# Redis down (docs/security.md, "Redis down"): the cache fails soft. Sessions are read
# from Redis and written through to the database (cached_db), so they survive on the
# database alone; rate limits fail OPEN (a Redis outage must not lock every citizen
# out of booking); staff lockouts (django-axes) live in the database and hold regardless.
# Short socket timeouts: a hanging Redis costs one such wait per process every
# CACHE_RETRY_SECONDS, not one per call.
CACHE_RETRY_SECONDS = env_float("CACHE_RETRY_SECONDS", 5.0)
_REDIS_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": env_float("REDIS_TIMEOUT_SECONDS", 0.5),
    "socket_timeout": env_float("REDIS_TIMEOUT_SECONDS", 0.5),
}
if REDIS_URL:
    cast(dict, CACHES["default"]).update(
        {"BACKEND": "portal.core.cache.FailSoftRedisCache", "OPTIONS": _REDIS_OPTIONS}
    )
RATELIMIT_FAIL_OPEN = True

# Personal responses are never cached: every response to a logged-in user gets
# Cache-Control: no-store and Pragma: no-cache (portal.core.middleware).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "portal.core.middleware.PrivateResponseMiddleware",
)

# Behind the reverse proxy the client's address comes from the header the proxy writes,
# trusted only on requests from TRUSTED_PROXIES (portal.core.http.client_ip; the rate
# limits and the audit journal use it). `check --deploy` refuses BEHIND_TLS_PROXY
# without both (portal.core.checks). RATELIMIT_IP_META_KEY above is no longer read.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

# Probing other people's ids (a switch into a stranger's child, a journal URL): only
# refusals count, per user and per address; and a victim's journal gets at most one
# "refused" row per prober per hour (portal.core.ratelimits).
RATE_REFUSAL_USER = env_rate("RATE_REFUSAL_USER", "10/10m")
RATE_REFUSAL_IP = env_rate("RATE_REFUSAL_IP", "30/10m")

# Staff logins (the admin today, the workspace later): django-axes hooks authenticate()
# itself, so every password login is covered, whichever view calls it. Locked by
# account OR by address after AXES_FAILURE_LIMIT failures, until AXES_COOLOFF_TIME has
# passed, even with the right password; failures are kept in the database (they hold
# with Redis down). Citizens log in through ESIA and never call authenticate().
INSTALLED_APPS.append("axes")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AXES_FAILURE_LIMIT = env_int("STAFF_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("STAFF_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "portal.core.http.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.core.views.staff_locked_out"
AXES_HTTP_RESPONSE_CODE = 429

# Binding the code to the browser (docs/esia.md): every login sends a nonce kept in the
# session; an id_token carrying another nonce is refused. Whether ESIA echoes it is not
# documented, so an id_token WITHOUT one is accepted unless this is on (the emulator
# always echoes it; turn it on once the test stand is seen to do the same).
ESIA_NONCE_REQUIRED = env_bool("ESIA_NONCE_REQUIRED", False)

# Absolute session lifetime besides the idle one: a session ends this long after the
# login however active it is (portal.core.middleware.AbsoluteSessionLifetimeMiddleware,
# after the messages middleware so it can say why).
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "portal.core.middleware.AbsoluteSessionLifetimeMiddleware",
)
# The dev server's request log (runserver's `django.server`) goes through the same
# redaction as everything else: its lines carry URLs, and URLs carry codes and ids.
cast(dict, LOGGING["loggers"])["django.server"] = {
    "handlers": ["console"],
    "level": "INFO",
    "propagate": False,
}
