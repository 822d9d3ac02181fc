"""Harmonie settings: one module, values from the environment.

Safe defaults give the embedded mode (SQLite under var/, DEBUG off unless asked).
Production sets HARMONIE_SECRET_KEY, DATABASE_URL, HARMONIE_ALLOWED_HOSTS and
HARMONIE_PRODUCTION=1 (secure cookies, HSTS).
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HARMONIE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


PRODUCTION = env_bool("HARMONIE_PRODUCTION")
DEBUG = env_bool("HARMONIE_DEBUG")
SECRET_KEY = os.environ.get("HARMONIE_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("HARMONIE_SECRET_KEY doit être défini en production.")
    SECRET_KEY = "insecure-embedded-mode-only-" + "x" * 40

ALLOWED_HOSTS = os.environ.get("HARMONIE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(
    ","
)
CSRF_TRUSTED_ORIGINS = [
    origin for origin in os.environ.get("HARMONIE_CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "dsfr",
    # Serves the OpenAPI page's own Swagger files (no CDN).
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "harmonie.accounts",
    "harmonie.referential",
    "harmonie.marking",
    "harmonie.audit",
    "harmonie.dashboard",
    "harmonie.harmonisation",
    "harmonie.statistics",
    "harmonie.validation",
    "harmonie.fairness",
    # Above marking and harmonisation: why each final mark is what it is (R-TRUST-1).
    "harmonie.explanation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The app serves its own front-end files: academies run on closed networks.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy (django-csp): before anything renders a template, which may
    # read request.csp_nonce.
    "csp.middleware.CSPMiddleware",
    # Refuses NUL bytes, lone surrogates, deep JSON and oversized bodies before any view
    # (harmonie/edge.py); /api/v1 errors in the API format.
    "harmonie.edge.EdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.htmx (django-htmx); an htmx request that needs a login gets HX-Redirect to the
    # login page and back to the screen it came from, not the login page in a fragment.
    "django_htmx.middleware.HtmxMiddleware",
    "harmonie.htmx.HtmxLoginRedirectMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends sessions opened through the identity provider after HARMONIE_OIDC_SESSION_TTL.
    "harmonie.accounts.middleware.OidcSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "harmonie" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                # dsfr's SITE_CONFIG, kept in the cache (harmonie/dashboard/site_config.py).
                "harmonie.dashboard.site_config.site_config",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'harmonie.sqlite3'}"),
        conn_max_age=int(os.environ.get("HARMONIE_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker share the embedded database.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "harmonie" / "static"]
# Only production collects static files; the embedded mode serves them from the apps.
STATIC_ROOT = (
    Path(os.environ.get("HARMONIE_STATIC_ROOT", BASE_DIR / "static_collected"))
    if PRODUCTION or os.environ.get("HARMONIE_STATIC_ROOT")
    else None
)
# Embedded mode serves static files straight from the apps; production runs
# collectstatic and serves STATIC_ROOT with compressed, cache-busted names.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("HARMONIE_STATIC_COMPRESS", True)
            else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        )
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("HARMONIE_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# Scans imported with a session are copied under this folder; page images rendered
# from them are cached beside.
SCANS_ROOT = Path(os.environ.get("HARMONIE_SCANS_ROOT", VAR_DIR / "scans"))

TASKS = {
    "default": {
        "BACKEND": os.environ.get("HARMONIE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "delivery", "zips"],
    }
}

CACHES = {
    "default": {
        # Django's RedisCache, its client built once per connection pool (harmonie/cache.py).
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
        if not os.environ.get("REDIS_URL")
        else "harmonie.cache.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", "harmonie"),
    }
}
if not os.environ.get("REDIS_URL"):
    # Linked choices are cached per list and filter: Django's default of 300 entries would
    # cull them while a few coordinators browse (docs/decisions.md, "Scale").
    CACHES["default"]["OPTIONS"] = {
        "MAX_ENTRIES": int(os.environ.get("HARMONIE_CACHE_ENTRIES", "5000"))
    }
else:
    # Sessions read from the shared cache, written through to the database: one Redis
    # read instead of a query on every request. Only with a shared cache: one process's
    # memory would keep a session that a sign-out in another process ended.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Login throttling (R-ACC-1): failures per (username, address) and per username (any
# address) within the window; never per address alone (an academy's proxy is one address).
LOGIN_THROTTLE_ATTEMPTS = int(os.environ.get("HARMONIE_LOGIN_THROTTLE_ATTEMPTS", "5"))
LOGIN_THROTTLE_USERNAME_ATTEMPTS = int(
    os.environ.get("HARMONIE_LOGIN_THROTTLE_USERNAME_ATTEMPTS", "20")
)
# The client address is REMOTE_ADDR unless a trusted reverse proxy sets this header
# (e.g. "X-Forwarded-For": its last address is the one the proxy saw).
TRUSTED_PROXY_HEADER = os.environ.get("HARMONIE_TRUSTED_PROXY_HEADER", "")
# Live API tokens per user: creating one more revokes the oldest.
API_TOKENS_PER_USER = int(os.environ.get("HARMONIE_API_TOKENS_PER_USER", "10"))
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("HARMONIE_LOGIN_THROTTLE_WINDOW", "300"))
API_TOKEN_TTL_SECONDS = int(os.environ.get("HARMONIE_API_TOKEN_TTL", str(12 * 3600)))

# Remote systems (API.md §3): the stand-ins by default, the real systems in production.
RESULTS_SYSTEM_URL = os.environ.get("HARMONIE_RESULTS_URL", "http://127.0.0.1:8101")
PAYROLL_SYSTEM_URL = os.environ.get("HARMONIE_PAYROLL_URL", "http://127.0.0.1:8102")

# Bad input (API.md §2): caps refused at once with a French message (harmonie/edge.py,
# scenarios, filters, annotations).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("HARMONIE_MAX_BODY_BYTES", str(2_621_440)))
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("HARMONIE_MAX_FIELDS", "5000"))
HARMONIE_JSON_MAX_DEPTH = 16
HARMONIE_SCENARIOS_MAX = int(os.environ.get("HARMONIE_SCENARIOS_MAX", "100"))
HARMONIE_FILTER_VALUES_MAX = int(os.environ.get("HARMONIE_FILTER_VALUES_MAX", "500"))
CSRF_FAILURE_VIEW = "harmonie.edge.csrf_failure"

# Sign-in (docs/decisions.md, "Sign-in"; README, "Sign-in through the identity provider").
# Local accounts (username and password) serve the embedded mode; production turns them
# off and signs staff in through the academy's OpenID Connect provider (ProConnect or
# its own), configured by HARMONIE_OIDC_*. mozilla-django-oidc reads the OIDC_* names.
LOCAL_LOGIN = env_bool("HARMONIE_LOCAL_LOGIN", True)
OIDC_DISCOVERY_URL = os.environ.get("HARMONIE_OIDC_DISCOVERY_URL", "")
# Explicit endpoints, each overriding the discovery document's.
OIDC_OP_ISSUER = os.environ.get("HARMONIE_OIDC_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("HARMONIE_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("HARMONIE_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("HARMONIE_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("HARMONIE_OIDC_JWKS_ENDPOINT", "")
OIDC_OP_END_SESSION_ENDPOINT = os.environ.get("HARMONIE_OIDC_END_SESSION_ENDPOINT", "")
OIDC_RP_CLIENT_ID = os.environ.get("HARMONIE_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("HARMONIE_OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = os.environ.get("HARMONIE_OIDC_SCOPES", "openid email given_name usual_name uid")
OIDC_RP_SIGN_ALGO = os.environ.get("HARMONIE_OIDC_SIGN_ALGO", "RS256")
# The claim that names the user, and the Harmonie field it must equal (email or username).
OIDC_USER_CLAIM = os.environ.get("HARMONIE_OIDC_USER_CLAIM", "email")
OIDC_USER_FIELD = os.environ.get("HARMONIE_OIDC_USER_FIELD", "email")
if OIDC_USER_FIELD not in {"email", "username"}:
    raise RuntimeError("HARMONIE_OIDC_USER_FIELD vaut « email » ou « username ».")
OIDC_PROVIDER_NAME = os.environ.get("HARMONIE_OIDC_PROVIDER_NAME", "ProConnect")
# Whom a refused person should contact, shown on the refusal page.
OIDC_CONTACT = os.environ.get(
    "HARMONIE_OIDC_CONTACT", "la division des examens et concours (DEC) de votre académie"
)
# A session opened through the provider lasts this long, then the user signs in again.
OIDC_SESSION_TTL_SECONDS = int(os.environ.get("HARMONIE_OIDC_SESSION_TTL", str(8 * 3600)))
OIDC_TIMEOUT = int(os.environ.get("HARMONIE_OIDC_TIMEOUT", "10"))
OIDC_TOKEN_USE_BASIC_AUTH = env_bool("HARMONIE_OIDC_TOKEN_BASIC_AUTH")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_CREATE_USER = False
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the logout at the provider
if os.environ.get("HARMONIE_OIDC_ACR_VALUES"):
    OIDC_AUTH_REQUEST_EXTRA_PARAMS = {"acr_values": os.environ["HARMONIE_OIDC_ACR_VALUES"]}
AUTHENTICATION_BACKENDS = [
    *(["django.contrib.auth.backends.ModelBackend"] if LOCAL_LOGIN else []),
    "harmonie.accounts.oidc.OidcBackend",
]

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# No inline script anywhere (every script is a static file; DSFR's own loader gets the
# nonce), no inline style either: sizes set from data-* attributes by harmonie/app.js, htmx's
# indicator styles off. Django's admin (embedded mode only) is left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("HARMONIE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("HARMONIE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HARMONIE_LOG_LEVEL", "INFO")},
}
