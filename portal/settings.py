"""Settings of the patient portal, read top-down by topic.

Everything that differs between a laptop, CI and production is read from the
environment through the typed readers of `portal/env.py` (every variable is listed
in `.env.example`). With no environment at all the portal runs in local development
mode: DEBUG on, SQLite in ./data, a generated secret key kept in ./data so sessions
survive restarts, the ESIA emulator on.
"""

import datetime
import secrets
from pathlib import Path
from typing import Any

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.api_settings import (
    API_CORS_ALLOW_HEADERS,
    API_CORS_EXPOSE_HEADERS,
    API_CORS_URLS_REGEX,
    oauth2_provider_settings,
)
from portal.database_settings import databases_from_env
from portal.env import env_bool, env_float, env_int, env_list, env_rate, env_str
from portal.template_settings import templates

# Lets generic Django classes be subscripted at run time (``ModelAdmin[Slot]``), as the
# type checker reads them (mypy --strict).
django_stubs_ext.monkeypatch()

# --- Mode, paths and the secret key -----------------------------------------------------
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

# The ESIA emulator is a fake identity provider: anyone can log in as anyone. It is on in
# development only; a server with DEBUG off refuses to start with it unless the operator
# states in so many words that this is a test stand (docs/esia.md).
ESIA_EMULATOR_ENABLED = env_bool("ESIA_EMULATOR_ENABLED", DEBUG)
ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION = env_bool(
    "ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION", False
)
if ESIA_EMULATOR_ENABLED and not DEBUG and not ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION:
    raise ImproperlyConfigured(
        "ESIA_EMULATOR_ENABLED with DEBUG off: the ESIA emulator lets anyone log in as "
        "anyone. Set ESIA_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION=1 only on a test stand."
    )

# The SMSC emulator (docs/notifications.md) accepts every SMS and delivers none: on in
# development only, and on a server with DEBUG off only on a stated test stand.
SMSC_EMULATOR_ENABLED = env_bool("SMSC_EMULATOR_ENABLED", DEBUG)
SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION = env_bool(
    "SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION", False
)
if SMSC_EMULATOR_ENABLED and not DEBUG and not SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION:
    raise ImproperlyConfigured(
        "SMSC_EMULATOR_ENABLED with DEBUG off: the SMSC emulator swallows every SMS. "
        "Set SMSC_EMULATOR_ON_TEST_STAND_NOT_PRODUCTION=1 only on a test stand."
    )

# --- Applications and middleware ----------------------------------------------------------
INSTALLED_APPS = [
    # The admin, behind the workspace's two factors (portal/staff/admin_site.py).
    "portal.staff.admin_apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "django_ratelimit",
    "axes",
    "portal.core",
    "portal.identity",
    "portal.directory",
    "portal.staff",
    "portal.patients",
    "portal.audit",
    "portal.journal",
    "portal.referrals",
    "portal.scheduling",
    "portal.demo",
    # Django's Tasks API (the django-tasks backport) and its database queue: the outbox.
    "django_tasks",
    "django_tasks_db",
    "portal.notifications",
    # «Запись при открытии дня»: a newly opened day given out by a draw (docs/fair-release.md).
    "portal.release",
    # The waitlist and the offers of a held time (docs/waitlist.md).
    "portal.waitlist",
    # The cabinet home: what matters now for the person acted for (portal/cabinet).
    "portal.cabinet",
    # «Вызов врача на дом» (docs/home-visits.md).
    "portal.home_visits",
    # The FHIR R4 API; django-oauth-toolkit is its authorization server.
    "oauth2_provider",
    "corsheaders",
    "portal.api",
    # With an emulator off its app is not even installed.
    *(["portal.esia_emulator"] if ESIA_EMULATOR_ENABLED else []),
    *(["portal.smsc_emulator"] if SMSC_EMULATOR_ENABLED else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Browser apps of registered clients call the API from their own origins (docs/api.md,
    # «CORS»); before the session: these answers never depend on a cookie.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # With a replica: a read-only page the primary cannot answer is read from the replica
    # (docs/operations.md, «Degraded mode»); inside the session, around everything else.
    "portal.core.degraded.ReplicaReadsMiddleware",
    "portal.core.middleware.SlidingSessionMiddleware",
    # Django's LocaleMiddleware, short while LANGUAGES has one entry (portal.core.middleware).
    "portal.core.middleware.OneLanguageLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "portal.core.middleware.NumeroJoinMiddleware",  # «№ 1» on pages: docs/accessibility.md
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware and django-otp's OTPMiddleware in one, not lazy:
    # request.user, and request.user.is_verified() (whether the session gave the staff's
    # second factor).
    "portal.core.middleware.UserMiddleware",
    # Every response to a logged-in user: Cache-Control no-store (docs/security.md).
    "portal.core.middleware.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages, so a session ended by its absolute lifetime can say why.
    "portal.core.middleware.AbsoluteSessionLifetimeMiddleware",
    # After it: a session that ended while the browser was away says so once.
    "portal.core.middleware.ExpiredSessionNoticeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the settings' policy built once (portal.core.middleware).
    "portal.core.middleware.ContentSecurityPolicyMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Staff password logins locked out after repeated failures (django-axes).
    "axes.middleware.AxesMiddleware",
    # Last, so that a database outage anywhere above answers 503 "try again".
    "portal.core.outage.DatabaseUnavailableMiddleware",
    # With DEBUG on (make run), the portal's own 404 instead of the URL pattern listing.
    "portal.core.middleware.PortalNotFoundInDebugMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
# The admin lives at a configurable, non-default path so scanners do not find it.
ADMIN_PATH = env_str("ADMIN_PATH", "staff-admin/").strip("/") + "/"

TEMPLATES = templates(BASE_DIR)  # portal/template_settings.py


# --- Database -----------------------------------------------------------------------------
# Degraded mode (docs/operations.md): no wait for PostgreSQL is unbounded, so a hung or
# dead primary gives the 503 page within seconds instead of holding every worker until
# gunicorn kills it (portal/core/postgresql, issue 24).
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 2)
# Longer than SCHEDULING_LOCK_TIMEOUT_MS (5 s), so a lock wait ends as «busy» (check E010).
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 8000)
DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = env_int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60000)


DATABASES = databases_from_env(
    DATA_DIR,
    connect_timeout=DB_CONNECT_TIMEOUT,
    statement_timeout_ms=DB_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_ms=DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
)
DATABASE_ROUTERS = ["portal.core.dbrouter.PrimaryReplicaRouter"]
# Reads leave a replica alone once it is this far behind the primary, and each process
# asks it how far it is at most once per REPLICA_CHECK_SECONDS.
REPLICA_MAX_LAG_SECONDS = env_float("REPLICA_MAX_LAG_SECONDS", 5.0)
REPLICA_CHECK_SECONDS = env_float("REPLICA_CHECK_SECONDS", 2.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Region: language and time --------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский"))]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
# Datetimes are stored in UTC and shown in the region's time (UTC+8).
TIME_ZONE = "Asia/Irkutsk"
USE_I18N = True
USE_TZ = True
PORTAL_REGION_NAME = env_str("PORTAL_REGION_NAME", "Иркутская область")

# --- Static files (served by the portal itself through WhiteNoise, no CDN) ---------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Without collectstatic (development, tests) WhiteNoise finds files in the apps.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}

# --- Users and the ESIA login (docs/esia.md) ---------------------------------------------
AUTH_USER_MODEL = "identity.User"
# Citizens log in from the cabinet's «Войти через ЕСИА» page; staff through the admin's own.
LOGIN_URL = "identity:cabinet"
# Staff password logins (the admin, the workspace): django-axes hooks authenticate()
# itself, so every password login is covered whichever view calls it. Locked by account
# OR by address after STAFF_LOGIN_FAILURE_LIMIT failures until the cool-off has passed,
# even with the right password; failures are kept in the database (they hold with Redis
# down). Citizens log in through ESIA and never call authenticate().
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.identity.backends.UserAndPatientBackend",  # user + patient in one read
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("STAFF_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("STAFF_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "portal.core.http.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.core.views.staff_locked_out"
AXES_HTTP_RESPONSE_CODE = 429
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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
    "addresses kid_fullname kid_birthdate kid_gender kid_snils kid_medical_doc",
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
# A slow ESIA: every ESIA call of one login callback (token exchange, person, each
# child's documents) ends within this many seconds in total, well under gunicorn's
# worker timeout (30 s in docs/operations.md), so a slow ESIA never kills a worker.
ESIA_LOGIN_DEADLINE_SECONDS = env_float("ESIA_LOGIN_DEADLINE_SECONDS", 10.0)
ESIA_RETRY_AFTER_SECONDS = env_int("ESIA_RETRY_AFTER_SECONDS", 60)
# At most this many logins of one host wait for ESIA at once; a slow ESIA must leave the
# other workers free (portal/identity/login_slots.py). About half of gunicorn's workers.
ESIA_CONCURRENT_LOGINS = max(1, env_int("ESIA_CONCURRENT_LOGINS", 2))
ESIA_LOGIN_SLOT_WAIT_SECONDS = env_float("ESIA_LOGIN_SLOT_WAIT_SECONDS", 2.0)
ESIA_LOGIN_SLOTS_DIR = DATA_DIR / "esia-login-slots"
# Binding the code to the browser (docs/esia.md): every login sends a nonce kept in the
# session; an id_token carrying another nonce is refused. Whether ESIA echoes it is not
# documented, so an id_token WITHOUT one is accepted unless this is on (the emulator
# always echoes it; turn it on once the test stand is seen to do the same).
ESIA_NONCE_REQUIRED = env_bool("ESIA_NONCE_REQUIRED", False)
ESIA_MIN_AGE = env_int("ESIA_MIN_AGE", 14)
# The emulator's own `iss`, key and certificate (its switch is at the top).
ESIA_EMULATOR_ISSUER = env_str("ESIA_EMULATOR_ISSUER", "http://127.0.0.1:8001/")
ESIA_EMULATOR_KEY = _esia_file("ESIA_EMULATOR_KEY", "emulator.key.pem")
ESIA_EMULATOR_CERT = _esia_file("ESIA_EMULATOR_CERT", "emulator.cert.pem")

# --- Sessions, cookies and HTTPS (docs/security.md) ----------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 3600)
# Idle timeout: SlidingSessionMiddleware pushes the expiry forward at most once a minute.
SESSION_TOUCH_INTERVAL = env_int("SESSION_TOUCH_INTERVAL", 60)
# Absolute lifetime besides the idle one: a session ends this long after the login however
# active it is (portal.core.middleware.AbsoluteSessionLifetimeMiddleware).
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600)
REDIS_URL = env_str("REDIS_URL", "")
# With Redis, sessions are read from the cache (written through to the database);
# a per-process memory cache would serve stale sessions across workers, so not without it.
# portal.core.sessions is Django's cached_db, reading the directory's generation along.
SESSION_ENGINE = "portal.core.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "portal.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto. The client's address
# then comes from the header the proxy writes, trusted only on requests from
# TRUSTED_PROXIES (portal.core.http.client_ip; rate limits, lockouts and the journal use
# it); `check --deploy` refuses BEHIND_TLS_PROXY without both (portal.core.checks).
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP

# No inline scripts or styles anywhere: every asset is a file served by the portal.
# Logout is a form POST answered by a redirect to ESIA: form-action covers redirects.
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
        "form-action": ["'self'", *CSP_EXTRA_FORM_ACTIONS, ESIA_BASE_URL],
    }
}

# --- Cache and rate limits (docs/security.md) ----------------------------------------------
# Redis when REDIS_URL is set (several app servers share the counters), otherwise a
# per-process memory cache that is fine for one process. Redis down (docs/security.md):
# the cache fails soft, sessions live on in the database (cached_db) and rate limits fail
# OPEN (an outage must not lock every citizen out of booking); a hanging Redis costs one
# short wait per process every CACHE_RETRY_SECONDS, not one per call.
CACHE_RETRY_SECONDS = env_float("CACHE_RETRY_SECONDS", 5.0)
_REDIS_TIMEOUT = env_float("REDIS_TIMEOUT_SECONDS", 0.5)
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "portal.core.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": _REDIS_TIMEOUT, "socket_timeout": _REDIS_TIMEOUT},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    "directory": {"BACKEND": "portal.directory.cache.DirectoryFragmentCache"},  # per process
}
RATELIMIT_FAIL_OPEN = True
RATELIMIT_VIEW = "portal.core.views.too_many_requests"
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
# Django's own Redis backend increments atomically, it is just not on the library's list;
# the memory cache is a deliberate single-process default (docs/operations.md).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001", "django_ratelimit.E003"]
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
# Probing other people's ids (a switch into a stranger's child, a journal URL): only
# refusals count, per user and per address; a victim's journal gets at most one
# "refused" row per prober per hour (portal.core.ratelimits).
RATE_REFUSAL_USER = env_rate("RATE_REFUSAL_USER", "10/10m")
RATE_REFUSAL_IP = env_rate("RATE_REFUSAL_IP", "30/10m")
# A clerk's searches of the registry (booking by phone): each shows names and birth dates,
# so a clerk gets what a busy registry window needs, not the region's registry.
RATE_REGISTRY_SEARCH_USER = env_rate("RATE_REGISTRY_SEARCH_USER", "120/h")

# --- Logging --------------------------------------------------------------------------------
LOGGING: dict[str, Any] = {
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
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request URL at INFO: ESIA URLs carry codes, secrets and the oid.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # smpplib logs each connect at INFO and each PDU (numbers, texts) in hex at DEBUG.
        "portal.notifications.smpp.wire": {"level": "WARNING"},
        # The dev server's request log goes through the same redaction: URLs carry ids.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- The portal's own rules (docs/domain.md) -----------------------------------------------
# Children can be added and booked for until this age.
CHILD_MAX_AGE = env_int("CHILD_MAX_AGE", 14)
# How long a booking waits for a row lock before answering "busy, try again"
# (docs/concurrency.md).
SCHEDULING_LOCK_TIMEOUT_MS = env_int("SCHEDULING_LOCK_TIMEOUT_MS", 5000)
# Days of slots generated ahead (the demo and `generate_slots` default).
SCHEDULING_HORIZON_DAYS = env_int("SCHEDULING_HORIZON_DAYS", 14)
# Seconds the «Ближайшее свободное время» ranking is shared between requests (0 = off).
NEAREST_CACHE_SECONDS = env_int("NEAREST_CACHE_SECONDS", 2)
DIRECTORY_CACHE_SECONDS = env_int("DIRECTORY_CACHE_SECONDS", 300)  # directory/cache.py
# How many active guardians one child may have on the portal (docs/domain.md, «Relatives»).
GUARDIANS_PER_CHILD_MAX = env_int("GUARDIANS_PER_CHILD_MAX", 4)
# A fair-release draw that stopped half-way this long ago (its worker died) is finished by
# the next `release_draws` with its stored seed and inputs (docs/fair-release.md).
RELEASE_DRAW_RESUME_SECONDS = env_int("RELEASE_DRAW_RESUME_SECONDS", 300)
# A draw's follow-up (the losers on the waitlist, their messages) waits out the opening's
# burst, so the task worker leaves the CPU to the patients' pages then (docs/fair-release.md).
RELEASE_FOLLOW_UP_DELAY_SECONDS = env_int("RELEASE_FOLLOW_UP_DELAY_SECONDS", 15)
# Days a referral stays valid unless its issuer sets another date (docs/referrals.md).
REFERRAL_VALID_DAYS = env_int("REFERRAL_VALID_DAYS", 30)
# A patient is reminded this many days before an unused referral expires.
REFERRAL_EXPIRY_REMINDER_DAYS = env_int("REFERRAL_EXPIRY_REMINDER_DAYS", 3)

# --- later areas (notifications, api, workspace) ---
# The clinic workspace (docs/workspace.md): staff log in with a password and a TOTP code.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "portal.workspace"]
# request.user.is_verified(), whether this session gave the second factor: django-otp's
# OTPMiddleware runs inside portal.core.middleware.UserMiddleware (MIDDLEWARE above).
# Argon2 for new and re-hashed passwords; the others stay to verify older hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# The issuer an authenticator app shows next to the account.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Портал пациента")
# How long a correct password waits for its TOTP code before the login starts over.
WORKSPACE_PENDING_LOGIN_SECONDS = env_int("WORKSPACE_PENDING_LOGIN_SECONDS", 300)
# Staff login attempts (password and code steps) per client address.
RATE_STAFF_LOGIN_IP = env_rate("RATE_STAFF_LOGIN_IP", "20/10m")

# --- Version for the visually impaired (docs/accessibility.md) ----------------------------
# (issue 16) The version for the visually impaired (portal.core.accessibility) keeps its
# choices in this cookie, not in the session, so it works before logging in.
ACCESSIBILITY_COOKIE_NAME = env_str("ACCESSIBILITY_COOKIE_NAME", "portal_a11y")
ACCESSIBILITY_COOKIE_DAYS = env_int("ACCESSIBILITY_COOKIE_DAYS", 365)
# With DEBUG on (make run) a wrong address shows the portal's Russian 404, not Django's
# technical page listing every URL pattern; DEBUG_TECHNICAL_404=1 brings that page back.
DEBUG_TECHNICAL_404 = env_bool("DEBUG_TECHNICAL_404", False)

# --- SMS over SMPP (docs/notifications.md) ---------------------------------------------
# The SMSC the portal binds to as a transceiver. Defaults: the emulator of `make run`.
SMPP_HOST = env_str("SMPP_HOST", "127.0.0.1")
SMPP_PORT = env_int("SMPP_PORT", 2775)
SMPP_SYSTEM_ID = env_str("SMPP_SYSTEM_ID", "portal")
SMPP_PASSWORD = env_str("SMPP_PASSWORD", "portal" if DEBUG else "")
# The sender shown on the phone: an alphanumeric name (up to 11 characters) or a number.
SMPP_SOURCE_ADDR = env_str("SMPP_SOURCE_ADDR", "Portal38")
# Bound on every socket operation, so a dead SMSC never stalls a worker.
SMPP_TIMEOUT_SECONDS = env_int("SMPP_TIMEOUT_SECONDS", 10)
SMPP_ENQUIRE_LINK_SECONDS = env_int("SMPP_ENQUIRE_LINK_SECONDS", 30)
SMSC_EMULATOR_CONTROL_PORT = env_int("SMSC_EMULATOR_CONTROL_PORT", 2776)
SMSC_EMULATOR_MESSAGES_FILE = DATA_DIR / "smsc-emulator" / "messages.json"


# --- Notifications: the outbox, e-mail, reminders (docs/notifications.md) -----------------
# Django's Tasks API (the django-tasks backport) with its database backend: the queue lives
# in the portal's own database, so SQLite runs it too. Workers: `manage.py tasks_worker`.
# E-mail has its own queue and worker: a hung relay must not hold up SMS, offers or draws
# (docs/notifications.md, «A hung relay»).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "email"],
    }
}

# Outgoing mail: any SMTP relay. The defaults reach the local sink of `make run`.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
# The backend the outbox worker sends with. Kept apart from EMAIL_BACKEND because the
# test runner swaps EMAIL_BACKEND for an in-memory one and the outbox tests need real SMTP.
NOTIFICATIONS_EMAIL_BACKEND = env_str(
    "NOTIFICATIONS_EMAIL_BACKEND", "portal.notifications.smtp_backend.EightBitMimeBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 8025)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Портал пациента <noreply@portal.localhost>")
# The domain of the Message-IDs the outbox makes (stable per message: the dedupe key).
NOTIFICATIONS_MESSAGE_ID_DOMAIN = env_str("NOTIFICATIONS_MESSAGE_ID_DOMAIN", "portal.localhost")
# The portal's public address, for links in e-mails and SMS.
NOTIFICATIONS_PORTAL_URL = env_str("NOTIFICATIONS_PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

# SMS go over SMPP (the smsc emulator block above); SMPP_HOST="" writes no SMS at all.

# Delivery: retries with exponential backoff (base · 2^(attempt-1), capped), then failed.
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 8)
NOTIFICATIONS_RETRY_BASE_SECONDS = env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 30)
NOTIFICATIONS_RETRY_MAX_SECONDS = env_int("NOTIFICATIONS_RETRY_MAX_SECONDS", 3600)
# A message a worker took and never acknowledged (the worker died) is retried after this.
# After the relay timed out, e-mail is deferred without asking it for this long.
NOTIFICATIONS_SMTP_REST_SECONDS = env_int("NOTIFICATIONS_SMTP_REST_SECONDS", 60)
NOTIFICATIONS_LEASE_SECONDS = env_int("NOTIFICATIONS_LEASE_SECONDS", 300)
# The sweep re-enqueues a due message whose task has not run this long after it should have.
NOTIFICATIONS_SWEEP_GRACE_SECONDS = env_int("NOTIFICATIONS_SWEEP_GRACE_SECONDS", 120)

# Reminders, in the region's time: the evening before and a few hours before; nothing
# in the quiet hours (a reminder due then moves to their end, or is skipped if too late).
NOTIFICATIONS_EVENING_REMINDER_AT = datetime.time.fromisoformat(
    env_str("NOTIFICATIONS_EVENING_REMINDER_AT", "18:00")
)
NOTIFICATIONS_SOON_REMINDER_HOURS = env_int("NOTIFICATIONS_SOON_REMINDER_HOURS", 2)
NOTIFICATIONS_QUIET_START = datetime.time.fromisoformat(
    env_str("NOTIFICATIONS_QUIET_START", "22:00")
)
NOTIFICATIONS_QUIET_END = datetime.time.fromisoformat(env_str("NOTIFICATIONS_QUIET_END", "08:00"))
# A reminder moved out of the quiet hours must still come this long before the visit.
NOTIFICATIONS_MIN_LEAD_MINUTES = env_int("NOTIFICATIONS_MIN_LEAD_MINUTES", 30)
# Guardians hear this many days ahead that a child turns CHILD_MAX_AGE.
NOTIFICATIONS_COMING_OF_AGE_DAYS = env_int("NOTIFICATIONS_COMING_OF_AGE_DAYS", 30)

# --- Offers of a held time: rebook after a clinic's cancel, the waitlist (docs/waitlist.md)
# An offered slot is held for the patient this long: nobody else can book it meanwhile.
WAITLIST_OFFER_HOLD_MINUTES = env_int("WAITLIST_OFFER_HOLD_MINUTES", 120)
# ...but never closer than this to the slot's start, so a declined or lapsed offer still
# leaves time for someone else to come; a slot whose hold would end before
# WAITLIST_OFFER_MIN_MINUTES from now is too soon to offer and stays free for the wizard.
WAITLIST_OFFER_MARGIN_MINUTES = env_int("WAITLIST_OFFER_MARGIN_MINUTES", 60)
WAITLIST_OFFER_MIN_MINUTES = env_int("WAITLIST_OFFER_MIN_MINUTES", 15)
# How far ahead a waitlist entry's date range may reach.
WAITLIST_MAX_DAYS = env_int("WAITLIST_MAX_DAYS", 90)
# Development: the local SMTP sink's mailbox, shown on the emulators' development page.
NOTIFICATIONS_DEV_MAILBOX = Path(
    env_str("NOTIFICATIONS_DEV_MAILBOX", "") or DATA_DIR / "dev-mailbox"
)
# --- The FHIR R4 API and the OAuth 2.0 server for patient apps (docs/api.md) -------------
# The base of the portal's own code systems and identifiers. Clients store these codes:
# set it once per deployment to the public FHIR base URL and never change it.
FHIR_SYSTEM_BASE = env_str("FHIR_SYSTEM_BASE", "http://127.0.0.1:8000/fhir").rstrip("/")
FHIR_CAPABILITY_DATE = env_str("FHIR_CAPABILITY_DATE", "2026-12-01")
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 20)
API_PAGE_MAX = env_int("API_PAGE_MAX", 100)
RATE_API_TOKEN = env_rate("RATE_API_TOKEN", "120/m")
RATE_API_TOKEN_WRITE = env_rate("RATE_API_TOKEN_WRITE", "20/10m")
# CORS for the API's paths and the OAuth 2.0 server's settings (portal/api_settings.py).
CORS_URLS_REGEX = API_CORS_URLS_REGEX
CORS_ALLOW_HEADERS = API_CORS_ALLOW_HEADERS
CORS_EXPOSE_HEADERS = API_CORS_EXPOSE_HEADERS
CORS_PREFLIGHT_MAX_AGE = 600
OAUTH2_PROVIDER = oauth2_provider_settings(debug=DEBUG)
