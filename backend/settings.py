"""Jawla settings: one module, driven by environment variables (see .env.example).

With no variables at all this is the embedded default: SQLite, a broker that needs
no server (kombu's filesystem transport), push notifications logged to the console.
`DJANGO_ENV=production` refuses to start without SECRET_KEY and turns on the
security settings that `manage.py check --deploy` asks for.
"""

import importlib.util
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from backend.content_security import content_security_policy

BASE_DIR = Path(__file__).resolve().parent.parent
# The embedded default's database, broker folders, cache and development secret key (git-ignored;
# JAWLA_VAR_DIR: elsewhere, e.g. a test's own).
VAR_DIR = Path(os.environ.get("JAWLA_VAR_DIR") or BASE_DIR / "var")

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False, parse_comments=True)

# pytest (8.2+) sets PYTEST_VERSION: tests get an isolated cache, media folder and inline tasks.
TESTING = "PYTEST_VERSION" in os.environ
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
DEBUG = env.bool("DEBUG", default=not PRODUCTION)

if PRODUCTION and not env.str("SECRET_KEY", default=""):
    raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")


def _development_secret_key() -> str:
    """A random key made on first run into var/secret_key (mode 0600) and reused: never one committed to
    the repository, where anyone could forge a session or a JWT for a development instance. Processes
    starting together agree: the file appears atomically (hard link) and the loser reads the winner's."""
    path = VAR_DIR / "secret_key"
    if path.exists() and (key := path.read_text().strip()):
        return key
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    draft = VAR_DIR / f".secret_key.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _development_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "django_celery_beat",
    "axes",
    "ninja",  # its bundled Swagger UI assets (static files), so the API docs need no CDN
    "inspections",
    "notifications",
    "enforcement",
    "analytics",
    "community",
]

MIDDLEWARE = [
    "backend.middleware.RequestIdMiddleware",
    "backend.middleware.RefuseNulMiddleware",
    "backend.middleware.RequestSizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused by django-axes into its 429 page (the API answers its own JSON 429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"

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
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'jawla.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the API processes and the Celery worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
# Analytics reads may run on a streaming replica (backend/db_routers.py says which and how lag is
# handled). The test runner treats it as a mirror of the primary's test database.
REPLICA_DATABASE_URL = env.str("REPLICA_DATABASE_URL", default="")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = env.db_url_config(REPLICA_DATABASE_URL)
    DATABASES["replica"].update(CONN_MAX_AGE=DATABASES["default"].get("CONN_MAX_AGE", 0), CONN_HEALTH_CHECKS=True)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["backend.db_routers.AnalyticsReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=30.0)
REPLICA_LAG_CHECK_SECONDS = env.float("REPLICA_LAG_CHECK_SECONDS", default=5.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache (login throttling, prepared geometries' version) ------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if TESTING and not REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Shared by every API process and the worker without a server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:  # hashing with PBKDF2's 1M rounds for every test user would dominate the suite's time
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default=SECRET_KEY)
JWT_ACCESS_LIFETIME = timedelta(seconds=env.int("JWT_ACCESS_SECONDS", default=15 * 60))
JWT_REFRESH_LIFETIME = timedelta(seconds=env.int("JWT_REFRESH_SECONDS", default=30 * 24 * 3600))
LOGIN_URL = "/dashboard/login/"

# Sign-in throttling: django-axes for every form that signs in (admin, dashboard, POST auth/token), counted
# in the database (AccessAttempt rows), so every process shares it and the window is exact.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)  # per username from one client
LOGIN_MAX_FAILURES_PER_IP = env.int("LOGIN_MAX_FAILURES_PER_IP", default=30)  # any usernames from one client
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
AXES_HANDLER = "backend.login_throttle.LoginThrottleHandler"
# Locked: a username from one client (so nobody can lock another user out from elsewhere), and a client that
# guesses across many usernames (LOGIN_MAX_FAILURES_PER_IP, applied by the handler).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
AXES_RESET_ON_SUCCESS = False  # a success must not wipe the client's failures for other usernames
AXES_CLIENT_IP_CALLABLE = "backend.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "backend.login_throttle.lockout_response"
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password"]
# The number of reverse proxies we run in front of gunicorn (nginx: 1; a load balancer before it: 2). The
# client's address is read that many hops from the right of X-Forwarded-For; 0 ignores the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Successful sign-ins (token pairs issued by POST auth/token) per window, so a flood of valid logins cannot
# take the CPU from the phones' sync (each costs a PBKDF2 hash).
TOKEN_ISSUE_WINDOW_SECONDS = env.int("TOKEN_ISSUE_WINDOW_SECONDS", default=10 * 60)
TOKEN_ISSUE_MAX_PER_USER = env.int("TOKEN_ISSUE_MAX_PER_USER", default=5)
TOKEN_ISSUE_MAX_PER_CLIENT = env.int("TOKEN_ISSUE_MAX_PER_CLIENT", default=30)

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Riyadh"
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Leaflet and the dashboard's Arabic font come from PyPI packages (no CDN, no node); django-leaflet is not an
# installed app (its admin needs GDAL), so only its bundled static folder is served.
STATICFILES_DIRS = [
    str(Path(importlib.util.find_spec("leaflet").submodule_search_locations[0]) / "static"),
    (
        "fonts/ibm-plex-sans-arabic",
        str(Path(importlib.util.find_spec("fontpkg_ibm_plex_sans_arabic").submodule_search_locations[0]) / "files"),
    ),
]
# The web clients (web/, one Vite project) are built into web/dist/<app>/ and served at /<app>/ by
# whitenoise: /field/ (the inspector's PWA; its sw.js at /field/sw.js is scoped to /field/).
# Hashed bundles under <app>/assets/ are cached for good; index.html, sw.js and the manifest for
# a minute, so a new build reaches phones at their next visit.
WEB_DIST = BASE_DIR / "web" / "dist"
WHITENOISE_ROOT = WEB_DIST
WHITENOISE_INDEX_FILE = True
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/[a-z]+/assets/.+-[\w-]{8}\.\w+$"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
if TESTING:
    MEDIA_ROOT = tempfile.mkdtemp(prefix="jawla-test-media-")
STORAGES = {
    "default": {"BACKEND": env.str("FILE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# django-storages S3 (used when FILE_STORAGE_BACKEND=storages.backends.s3.S3Storage)
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=15 * 1024 * 1024)
# Checked from the header before any pixel is decoded: a phone photo is 12 MP (48 MP sensors save 12 MP by
# default); a 49 MP PNG of 143 KB cost 1.6 s of CPU to decode.
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=24_000_000)
PHOTO_URL_SECONDS = env.int("PHOTO_URL_SECONDS", default=10 * 60)  # the signed /photos/<token> URLs
PHOTO_PRESIGNED_SECONDS = env.int("PHOTO_PRESIGNED_SECONDS", default=60)  # S3 redirects behind them
AWS_QUERYSTRING_EXPIRE = PHOTO_PRESIGNED_SECONDS

# --- domain thresholds ----------------------------------------------------------------
GEO_VERIFIED_MAX_DISTANCE_M = env.float("GEO_VERIFIED_MAX_DISTANCE_M", default=150.0)
GEO_LOW_ACCURACY_M = env.float("GEO_LOW_ACCURACY_M", default=100.0)
GEO_IMPOSSIBLE_SPEED_KMH = env.float("GEO_IMPOSSIBLE_SPEED_KMH", default=150.0)
VISIT_MAX_FUTURE_SKEW = timedelta(minutes=env.int("VISIT_MAX_FUTURE_SKEW_MINUTES", default=10))
VISIT_MAX_AGE = timedelta(days=env.int("VISIT_MAX_AGE_DAYS", default=60))
# A visit longer than this is refused (per visit, the phone keeps it): a clock error, not an inspection.
VISIT_MAX_DURATION = timedelta(hours=env.int("VISIT_MAX_DURATION_HOURS", default=12))
# A visit completes a round stop only when it finished on the round's day (Asia/Riyadh), give or take this.
ROUND_STOP_DAY_TOLERANCE = timedelta(hours=env.int("ROUND_STOP_DAY_TOLERANCE_HOURS", default=3))
VISIT_SYNC_MAX_BATCH = env.int("VISIT_SYNC_MAX_BATCH", default=200)
FINDING_DUE_DAYS = {"minor": 14, "major": 7, "critical": 1}
# The phone's delta sync re-reads this window behind its cursor, so a round committed while a sync ran is not missed.
ROUNDS_SYNC_OVERLAP_SECONDS = env.int("ROUNDS_SYNC_OVERLAP_SECONDS", default=300)
H3_RESOLUTIONS = (5, 6, 7, 8, 9)
# Analytics roll-ups (analytics/rollups.py): on PostgreSQL the visit sync only lists its visits and the
# task analytics.rollups_flush adds them every 5 s, many thousands at a time (the sync stays at plain-SQL
# speed; leadership's figures lag by at most one interval while a worker runs). On SQLite, and in tests
# unless a test turns it on, they are added in the sync's own transaction.
ROLLUPS_DEFERRED = env.bool(
    "ROLLUPS_DEFERRED", default=DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and not TESTING
)
# Stored risk scores (Establishment.risk_score, inspections/services/findings.py): on PostgreSQL the visit
# sync that changes an establishment's findings only lists it, and the task inspections.risk_flush
# recomputes the listed scores every 5 s (the score is a planning input; the ranked queue and the
# planner compute risk from the findings themselves). On SQLite, and in tests unless a test turns it
# on, the sync recomputes them in its own transaction.
RISK_DEFERRED = env.bool(
    "RISK_DEFERRED", default=DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" and not TESTING
)

# --- enforcement (penalties, objections, evidence, signed reports) --------------------
# The class and size factors are SAMPLE values for the demo; a municipality sets its own (JSON).
ENFORCEMENT_CLASS_FACTORS = env.json("ENFORCEMENT_CLASS_FACTORS", default={})
ENFORCEMENT_SIZE_FACTORS = env.json("ENFORCEMENT_SIZE_FACTORS", default={})
ENFORCEMENT_PAYMENT_DAYS = env.int("ENFORCEMENT_PAYMENT_DAYS", default=30)
ENFORCEMENT_OBJECTION_DAYS = env.int("ENFORCEMENT_OBJECTION_DAYS", default=30)
ENFORCEMENT_ATTACHMENT_MAX_BYTES = env.int("ENFORCEMENT_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024)
# A visit is sealed into the evidence chain this long after it arrived (its photos follow it);
# a photo that comes later is sealed as its own link.
EVIDENCE_SEAL_DELAY_SECONDS = env.int("EVIDENCE_SEAL_DELAY_SECONDS", default=600)
ENFORCEMENT_KEYS_DIR = env.path("ENFORCEMENT_KEYS_DIR", default=VAR_DIR / "keys")
EVIDENCE_SIGNING_KEY = env.str("EVIDENCE_SIGNING_KEY", default="")  # PEM text or a path (production)
REPORT_SIGNING_KEY = env.str("REPORT_SIGNING_KEY", default="")  # PEM path (production)
REPORT_SIGNING_CERT = env.str("REPORT_SIGNING_CERT", default="")  # PEM path (production)
PUBLIC_BASE_URL = env.str(
    "PUBLIC_BASE_URL", default="http://127.0.0.1:8000"
)  # what the report's QR opens  # stored on establishments and visits (heatmap, nearby search)

# --- celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
if CELERY_BROKER_URL.rstrip("/") == "filesystem:":
    # The transport ignores the host; naming one keeps kombu from warning "No hostname was supplied"
    # on every publish.
    CELERY_BROKER_URL = "filesystem://localhost/"
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.2,  # seconds between looks at the queue folder (backend/broker.py)
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Tests run tasks inline unless they start a real worker (tests/test_*_worker.py do).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING)
CELERY_TASK_EAGER_PROPAGATES = TESTING
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

HEALTH_PROBE_TIMEOUT_SECONDS = env.float("HEALTH_PROBE_TIMEOUT_SECONDS", default=1.0)

# --- push -----------------------------------------------------------------------------
# The push backend, by dotted path (as Django chooses EMAIL_BACKEND): a callable taking up to 500
# PushMessages and returning one PushResult each. "console" (logs messages) and "fcm" (firebase-admin
# with the credentials file below) are short names for the two that ship; FCM when credentials are set.
PUSH_BACKENDS = {"console": "notifications.push.console_send", "fcm": "notifications.fcm.send_batch"}
PUSH_BACKEND = env.str("PUSH_BACKEND", default="") or (
    "fcm" if env.str("FCM_CREDENTIALS_FILE", default="") else "console"
)
PUSH_BACKEND = PUSH_BACKENDS.get(PUSH_BACKEND, PUSH_BACKEND)
FCM_CREDENTIALS_FILE = env.str("FCM_CREDENTIALS_FILE", default="")
# FCM web push for the field app: the Firebase web app's config (JSON) and its VAPID public key.
# Both set: the app registers a web push token (POST devices, platform "web"); otherwise it polls.
FCM_WEB_CONFIG = env.json("FCM_WEB_CONFIG", default={})
FCM_WEB_VAPID_KEY = env.str("FCM_WEB_VAPID_KEY", default="")

# --- notification outbox ------------------------------------------------------------------
NOTIFICATIONS_CLAIM_SECONDS = env.int("NOTIFICATIONS_CLAIM_SECONDS", default=120)  # > the send task's time limit
NOTIFICATIONS_SWEEP_AFTER_SECONDS = env.int("NOTIFICATIONS_SWEEP_AFTER_SECONDS", default=60)
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=12)
NOTIFICATIONS_MAX_DEVICES_PER_USER = env.int("NOTIFICATIONS_MAX_DEVICES_PER_USER", default=10)

# --- dashboard map --------------------------------------------------------------------
MAP_TILE_URL = env.str("MAP_TILE_URL", default="")  # empty: the map draws on a plain background
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="")

# --- Content-Security-Policy (django-csp; backend/content_security.py) ------------------------
CONTENT_SECURITY_POLICY = content_security_policy(map_tile_url=MAP_TILE_URL, web_push=bool(FCM_WEB_CONFIG))

# --- CORS (the phone app needs none; a web client's origins are listed explicitly) ------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- security (production) ------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- logging: JSON lines with the request id ------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=PRODUCTION)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backend.middleware.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- community participation (community/) --------------------------------------------------
OPEN311_JURISDICTION_ID = env.str("OPEN311_JURISDICTION_ID", default="eastern-province.jawla.sa")
OPEN311_API_KEYS = env.list("OPEN311_API_KEYS", default=[])  # empty: POST needs no api_key
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")  # in QR codes and media URLs
CASE_MERGE_WINDOW_HOURS = env.int("CASE_MERGE_WINDOW_HOURS", default=72)
CASE_MERGE_RADIUS_M = env.float("CASE_MERGE_RADIUS_M", default=50.0)
REPORTS_PER_DEVICE = env.int("REPORTS_PER_DEVICE", default=5)  # per REPORTS_RATE_WINDOW_SECONDS
REPORTS_PER_IP = env.int("REPORTS_PER_IP", default=20)
REPORTS_RATE_WINDOW_SECONDS = env.int("REPORTS_RATE_WINDOW_SECONDS", default=3600)
# Extra establishment-risk factors from apps built on inspections (inspections imports none of them):
# {factor name: dotted path of a callable (establishment_ids) -> {establishment_id: points}}, each
# capped at inspections.domain.risk.EXTRA_FACTOR_MAX_POINTS. {} turns them off.
RISK_EXTRA_FACTORS = {"confirmed_reports": "community.selectors.risk.confirmed_report_factor"}
# Queues other apps' tasks work off, reported by GET health (inspections.services.health.backlogs):
# name -> callable(now=) -> (pending, age of the oldest in seconds or None, bound as a timedelta).
HEALTH_BACKLOGS = {"rollups": "analytics.rollups.rollups_backlog"}
# Institutional indicators (analytics.indicators): a public report case counts "closed within target"
# when its visit finished within this many days of the case's opening.
COMMUNITY_CASE_TARGET_DAYS = env.int("COMMUNITY_CASE_TARGET_DAYS", default=7)
VOLUNTEER_REWARD_SHARE = env.float("VOLUNTEER_REWARD_SHARE", default=0.25)  # of the fines; computed, never paid
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=10)
WEBHOOK_BACKOFF_BASE_SECONDS = env.float("WEBHOOK_BACKOFF_BASE_SECONDS", default=5.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_CLAIM_SECONDS = env.int("WEBHOOK_CLAIM_SECONDS", default=60)

DEMO_PASSWORD = "demo12345"
# Demo parts of apps that build on inspections, each a module with seed(*, stdout); run after its own.
DEMO_SEED_EXTRA_PARTS = ["enforcement.demo"]
