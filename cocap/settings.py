"""Settings for the COCAP portal, read from the environment (and an optional .env file)."""

import datetime
from pathlib import Path

import bootstrap
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# GENERAL
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Production must be given a secret key: there is no default outside DEBUG.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-only-for-debug" if DEBUG else environ.Env.NOTSET)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
ROOT_URLCONF = "cocap.urls"
WSGI_APPLICATION = "cocap.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# DATABASES
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Keep connections between requests, but check them first: after a database restart the next request
# reconnects by itself instead of failing on a dead connection.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server's threads and the SAL worker share the file. A request's transaction (ATOMIC_REQUESTS)
    # begun deferred reads first, and fails at once with "database is locked" when it then has to write while
    # another holds the write lock; IMMEDIATE takes that lock at the start, waiting up to `timeout` seconds
    # for it. In WAL mode readers and the writer do not block one another. OPTIONS in DATABASE_URL win.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "timeout": 20,
        **DATABASES["default"].get("OPTIONS", {}),
    }

# APPS
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks_db",
    "cocap",
    "core",
    "partners",
    "activities",
    "finance",
    "reports",
    "cocap_data",
]

# MIDDLEWARE
MIDDLEWARE = [
    "cocap.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise, so static files stay cacheable; before the session, to see the cookie it sets.
    "cocap.middleware.PrivateCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login but those marked @login_not_required (login, password reset, health, language).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cocap.two_factor.TwoFactorMiddleware",
    # Before any view reads the body; after the user and the language, for the page that says why.
    "cocap.middleware.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

# TEMPLATES
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "core.context_processors.notifications",
            ],
        },
    },
]
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# AUTHENTICATION
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id first (cocap/hashers.py says why); PBKDF2 still verifies the passwords stored before it, and Django
# rehashes each with Argon2id when its owner next logs in.
PASSWORD_HASHERS = [
    "cocap.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hour, as registration/locked_out.html says
AXES_RESET_ON_SUCCESS = True
# Lock the account for the address it was attacked from, not for everyone: partners share office addresses,
# and nobody can lock a colleague out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address, through django-ipware. Each proxy appends the address it got the request from to
# X-Forwarded-For, so behind N proxies (AXES_IPWARE_PROXY_COUNT=N) the client is the Nth address from the right;
# whatever stands left of it the client wrote itself. ipware counts only the proxies named after the client
# ("client, proxy2"), one fewer than N, and in its strict mode would drop a header with more addresses, putting
# whoever sends one on the proxy's own address. Connected directly (N=0), the header is the client's own word.
_PROXIES = env.int("AXES_IPWARE_PROXY_COUNT", default=0)
if _PROXIES < 0:
    raise ImproperlyConfigured("AXES_IPWARE_PROXY_COUNT is the number of proxies in front of the portal: 0 or more.")
AXES_IPWARE_PROXY_COUNT = _PROXIES - 1 if _PROXIES else None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if _PROXIES else ["REMOTE_ADDR"]
IPWARE_STRICT = False
AXES_USERNAME_CALLABLE = "cocap.login.attempt_username"
# Directors and administrators confirm each login with a TOTP code (cocap/two_factor.py); off by default only
# for the demo server of `make run`.
COCAP_TWO_FACTOR = env.bool("COCAP_TWO_FACTOR", default=not DEBUG)
OTP_TOTP_ISSUER = "COCAP"
# The admin shows no one's authenticator key or QR code: whoever saw one could make that user's codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)

# INTERNATIONALIZATION
LANGUAGE_CODE = "it"
LANGUAGES = [("it", _("Italian")), ("es", _("Spanish")), ("pt", _("Portuguese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates day/month/year (cocap/formats/en); the other languages keep Django's formats.
FORMAT_MODULE_PATH = ["cocap.formats"]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

# STATIC AND MEDIA
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", Path(bootstrap.__path__[0]))]
# Uploaded evidence and receipts are served only through permission-checked views, never as static.
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# TASKS
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# SECURITY
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # The proxy's health check talks plain HTTP to the backend.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    # Off only for a trial on plain HTTP at 127.0.0.1 (make serve); behind the HTTPS proxy they stay on.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# EMAIL
# The console in development; SMTP in production, from DJANGO_SMTP_* (mail goes to directors and partners).
if env("DJANGO_EMAIL_BACKEND", default="smtp" if not DEBUG else "console") == "console":
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("DJANGO_SMTP_HOST", default="localhost"),
                "port": env.int("DJANGO_SMTP_PORT", default=587),
                "username": env("DJANGO_SMTP_USER", default=""),
                "password": env("DJANGO_SMTP_PASSWORD", default=""),
                "use_tls": env.bool("DJANGO_SMTP_USE_TLS", default=True),
                "timeout": 20,
            },
        }
    }
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="cocap-portal@localhost")

# LOGGING
# One line per request (cocap.requests) with the user id and status; errors with their traceback, and by
# mail to ADMINS when DEBUG is off.
ADMINS = env.list("DJANGO_ADMINS", default=[])
SERVER_EMAIL = env("DJANGO_SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"production": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line"},
        "mail_admins": {"class": "django.utils.log.AdminEmailHandler", "level": "ERROR", "filters": ["production"]},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"handlers": ["console", "mail_admins"], "level": "ERROR", "propagate": False},
        # The request log already says each request's status.
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # WeasyPrint reports each layout step at INFO; its warnings (a refused URL, a CSS error) still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# COCAP
# The seed text does not give the project's start date; it is a setting the loader reads.
COCAP_START_DATE = datetime.date.fromisoformat(env("COCAP_START_DATE", default="2026-01-01"))
# Evidence and receipts: the largest file accepted, in bytes.
COCAP_UPLOAD_MAX_BYTES = env.int("COCAP_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# The portal's address, for links in notification mail.
COCAP_SITE_URL = env("COCAP_SITE_URL", default="http://127.0.0.1:8000")

# ACCOUNTS, ERROR PAGES AND REQUEST LIMITS
CSRF_FAILURE_VIEW = "cocap.views.csrf_failure"
# The rate limits (cocap/ratelimit.py) live in a database table, so that every gunicorn worker counts the
# same requests; migrate creates it (cocap/migrations). Nothing else uses a cache.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "limits": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cocap_cache",
        # Culling drops entries in key order, live counters too: keep it for far more keys than an hour's use.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}
# Password reset links: each address, and each client address, may ask so many times an hour.
COCAP_PASSWORD_RESETS_PER_ADDRESS = env.int("COCAP_PASSWORD_RESETS_PER_ADDRESS", default=3)
COCAP_PASSWORD_RESETS_PER_CLIENT = env.int("COCAP_PASSWORD_RESETS_PER_CLIENT", default=10)
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60
# The largest request body, in bytes, files included: one form with many large files is refused with a page
# that says so, before it is read. The proxy in front must accept at least this much.
COCAP_UPLOAD_MAX_REQUEST_BYTES = env.int("COCAP_UPLOAD_MAX_REQUEST_BYTES", default=25 * 1024 * 1024)
