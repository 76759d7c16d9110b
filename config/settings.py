"""Tessera settings: the one place that reads the environment (see .env.example for every variable)."""
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
#: Run from a source checkout (manage.py beside config/), not from an installed package (`pip install .`), whose code
#: is in site-packages: an installed Tessera reads the .env of the directory it starts in and writes nothing beside
#: its code (its SQLite file and collected static files go under DATA_DIR).
CHECKOUT = (BASE_DIR / "manage.py").is_file()

env = environ.Env()
environ.Env.read_env((BASE_DIR if CHECKOUT else Path.cwd()) / ".env", overwrite=False)

# Data the platform writes at run time lives outside the code tree: TESSERA_DATA_DIR, by default the user's data
# directory (XDG_DATA_HOME, else ~/.local/share) /tessera. Migrations never touch the code tree (BASE_DIR).
DATA_DIR = Path(env.str("TESSERA_DATA_DIR", default="")
                or Path(env.str("XDG_DATA_HOME", default="") or Path.home() / ".local" / "share") / "tessera")
#: Where the embedded default's SQLite file and collected static files go: the checkout, or DATA_DIR when installed.
LOCAL_FILES = BASE_DIR if CHECKOUT else DATA_DIR


def set_in_environment(**values: Any) -> dict[str, Any]:
    """The keys of a TESSERA_* namespace whose variable is set; the others keep the owning app's default."""
    return {key: value for key, value in values.items() if value is not None}


# --- Core -------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Reverse proxies of ours in front of the app; X-Forwarded-For is believed only that far (apps/platform/client_ip.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
VERSION = "0.1.0"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "oauth2_provider",  # client applications' OAuth2 (apps/accounts/oauth.py)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_q",
    "apps.platform",
    "apps.accounts",
    "apps.tenants",
    "apps.audit",
    "apps.tasks",
    "apps.jobs",
    "apps.migrations_app",
    "apps.events",
    "apps.webhooks",
    "apps.projects",
    "apps.agents",
    "apps.issues",
    "apps.pulls",
    "apps.github",
    "apps.analytics",
    "apps.demo",
    # After django.contrib.admin, so explicit admin.py registrations are known before generated ones.
    "apps.api",
]
INSTALLED_APPS += env.list("EXTRA_INSTALLED_APPS", default=[])

MIDDLEWARE = [
    "apps.platform.metrics.MetricsMiddleware",
    "apps.platform.request_context.RequestIDMiddleware",
    # Inside RequestIDMiddleware so its line carries the id; outside the rest so the duration covers them.
    "apps.platform.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
# Requests over this size are refused with 413 (in the error envelope under /api/).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=1024 * 1024)

# --- Transport security -------------------------------------------------------------
if TRUSTED_PROXY_COUNT:  # behind our own TLS-terminating proxies, which say whether the client used HTTPS
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG

# --- Operations ----------------------------------------------------------------------------
# Bearer token Prometheus sends to /metrics; platform admins and staff may read it without one.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- CORS (django-cors-headers) ---------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = env.bool("CORS_ALLOW_CREDENTIALS", default=False)
if "*" in CORS_ALLOWED_ORIGINS:
    if CORS_ALLOW_CREDENTIALS:
        raise ImproperlyConfigured("CORS_ALLOWED_ORIGINS='*' cannot be combined with CORS_ALLOW_CREDENTIALS.")
    CORS_ALLOWED_ORIGINS, CORS_ALLOW_ALL_ORIGINS = [], True
CORS_ALLOW_METHODS = env.list("CORS_ALLOW_METHODS", default=["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"])
CORS_ALLOW_HEADERS = env.list("CORS_ALLOW_HEADERS", default=[
    "accept", "authorization", "content-type", "x-api-key", "x-request-id", "x-tenant-id"])
CORS_EXPOSE_HEADERS = ["X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After"]
CORS_URLS_REGEX = r"^/(api|health|metrics|openapi\.json)"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],  # an install carries them beside config/ (pyproject.toml)
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

# --- Data stores --------------------------------------------------------------
# SQLite file on the embedded default; PostgreSQL (or any URL Django supports) through DATABASE_URL.
DATABASES = {"default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{LOCAL_FILES / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not CHECKOUT:
    DATA_DIR.mkdir(parents=True, exist_ok=True)  # SQLite creates its file, not the directory
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool, not persistent connections: under ASGI every request runs in a thread of its own, so a
    # per-thread persistent connection would be opened and closed for each request.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2), "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.int("DB_POOL_TIMEOUT", default=10)}
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str("TEST_DATABASE_NAME", default="test_tessera")
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker cluster write to the same file: WAL lets readers go on while one writes,
    # and IMMEDIATE transactions queue writers instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE", "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Every key Tessera keeps in Redis starts with this: the cache, the request metrics, the channel layer's groups and
# the job queue, so deployments (or test runs) that share one Redis database never see each other's keys.
REDIS_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="tessera")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": REDIS_KEY_PREFIX,
                          # Fail in seconds, not minutes, when Redis is unreachable (rate limits, readiness).
                          "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_KEY_PREFIX}:asgi"}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Background work (django-q2) ------------------------------------------------------
# Each TESSERA_* namespace below holds only what the environment sets; the owning app's conf.py holds every key's
# default and what it means (apps/jobs/conf.py here), and `manage.py check` reports a key it does not know.
TESSERA_JOBS = set_in_environment(
    STALE_AFTER_SECONDS=env.int("JOB_STALE_AFTER_SECONDS", default=None),
    REHAND_AFTER_SECONDS=env.int("JOB_REHAND_AFTER_SECONDS", default=None),
)
# apps/events/conf.py: how long a process gathers committed events before it queues their relay.
TESSERA_EVENTS = set_in_environment(
    HANDOFF_WINDOW_SECONDS=env.float("EVENTS_HANDOFF_WINDOW_SECONDS", default=None),
)
# apps/webhooks/conf.py: receivers on these networks (CIDR) are delivered to although they are not public.
TESSERA_WEBHOOKS = set_in_environment(
    ALLOWED_NETWORKS=[net for net in env.list("WEBHOOK_ALLOWED_NETWORKS", default=[]) if net] or None,
    DISABLE_AFTER_FAILURES=env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=None),
    SECRETS_KEY=env.str("WEBHOOK_SECRETS_KEY", default="") or None,
)
# The broker's hard limit on one task; jobs stop themselves earlier, at their own timeout.
JOB_HARD_TIMEOUT = env.int("JOB_HARD_TIMEOUT", default=3600)
Q_CLUSTER = {
    "name": REDIS_KEY_PREFIX,  # the queue's Redis keys are django_q:<name>:*
    "workers": env.int("JOB_WORKERS", default=2),
    "timeout": JOB_HARD_TIMEOUT,
    "retry": JOB_HARD_TIMEOUT + 60,
    "max_attempts": 1,  # the job runner retries what is worth retrying, with backoff
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 100,
    "poll": 0.2,
    "label": "Background tasks (django-q2)",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Migration engine ------------------------------------------------------------------
# apps/migrations_app/conf.py: where migrations may go. An empty list variable means the default, never "anywhere".
TESSERA_MIGRATIONS = set_in_environment(
    ALLOWED_ROOTS=[root for root in env.list("MIGRATION_ALLOWED_ROOTS", default=[]) if root] or None,
    ALLOWED_DB_HOSTS=[host for host in env.list("MIGRATION_ALLOWED_DB_HOSTS", default=[]) if host] or None,
    ALLOW_PASSWORDLESS=[host for host in env.list("MIGRATION_ALLOW_PASSWORDLESS", default=[]) if host] or None,
    BACKUP_ROOT=env.str("MIGRATION_BACKUP_ROOT", default="") or None,
    SECRETS_KEY=env.str("MIGRATION_SECRETS_KEY", default="") or None,
)
# apps/agents/conf.py: the external agent service behind issue_resolver and custom agents.
TESSERA_AGENTS = set_in_environment(
    SERVICE_URL=env.str("AGENT_SERVICE_URL", default="") or None,
    SERVICE_SECRET=env.str("AGENT_SERVICE_SECRET", default="") or None,
    SERVICE_ACCOUNT=env.str("AGENT_SERVICE_ACCOUNT", default="") or None,
    CALLBACK_BASE_URL=env.str("AGENT_CALLBACK_BASE_URL", default="") or None,
)
# apps/github/conf.py: the GitHub OAuth app (sign-in), a token for syncing, and GitHub's base URLs.
TESSERA_GITHUB = set_in_environment(
    CLIENT_ID=env.str("GITHUB_CLIENT_ID", default="") or None,
    CLIENT_SECRET=env.str("GITHUB_CLIENT_SECRET", default="") or None,
    TOKEN=env.str("GITHUB_TOKEN", default="") or None,
    API_URL=env.str("GITHUB_API_URL", default="") or None,
    OAUTH_URL=env.str("GITHUB_OAUTH_URL", default="") or None,
    CALLBACK_URL=env.str("GITHUB_CALLBACK_URL", default="") or None,
)
# apps/projects/conf.py: directories whose git repositories projects may use by path (self-hosted deployments).
TESSERA_PROJECTS = set_in_environment(
    LOCAL_REPOSITORY_ROOTS=[root for root in env.list("PROJECT_REPOSITORY_ROOTS", default=[]) if root] or None,
)

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Every password sign-in (token endpoint, admin, browsable API) goes through the one sign-in service.
AUTHENTICATION_BACKENDS = ["apps.accounts.backends.SignInBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env.bool("FAST_PASSWORD_HASHER", default=False):
    # Test runs only: Argon2 costs ~50 ms per hash, which dominates a suite that logs in hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Access tokens carry a digest of the password hash, so a password change kills them at once.
    "CHECK_REVOKE_TOKEN": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
}

# OAuth2 for registered client applications (django-oauth-toolkit; apps/accounts/oauth.py): the authorization-code
# flow at /auth/authorize and /auth/token. A person consents on a page, signed in with a session (LOGIN_URL); the
# application gets at most the scopes that person holds. Client secrets are stored hashed.
LOGIN_URL = "rest_framework:login"
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "apps.accounts.oauth.TesseraScopes",
    "OAUTH2_VALIDATOR_CLASS": "apps.accounts.oauth.TesseraOAuth2Validator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()),
    # RFC 9700 (OAuth 2.0 Security BCP), adopted ahead of DOT 4.0: no implicit or password grant, PKCE by S256
    # only, tokens never in a query string, `iss` in authorization responses, tokens stored hashed, a replayed
    # refresh token revokes its family, and redirect URIs over HTTPS only.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# --- REST framework and the generator ------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Before the JWT one: it takes only bearer tokens that are no JWT (those of client applications).
        "apps.accounts.authentication.ClientApplicationAuthentication",
        "apps.accounts.authentication.BearerTokenAuthentication",
        "apps.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Ours: every malformed body (too deeply nested JSON included) is a 400, never a 500.
    "DEFAULT_PARSER_CLASSES": ["apps.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "apps.api.schema.ResourceAutoSchema",
    "EXCEPTION_HANDLER": "apps.api.exception_handler.envelope_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# apps/api/conf.py: the generator's knobs. The resolvers are this project's wiring.
TESSERA_API = {
    **set_in_environment(
        PAGE_SIZE=env.int("API_PAGE_SIZE", default=None),
        MAX_PAGE_SIZE=env.int("API_MAX_PAGE_SIZE", default=None),
        DEFAULT_THROTTLE=env.str("API_DEFAULT_THROTTLE", default=None),  # "" turns the limit off
        ANON_THROTTLE=env.str("API_ANON_THROTTLE", default=None),
        RESOURCES=env.json("API_RESOURCES", default=None),
    ),
    "TENANT_RESOLVER": "apps.tenants.selectors.tenant_for_access",
    "SCOPE_RESOLVER": "apps.accounts.scopes.scopes_for_access",
}
# Told about every 403 and 429 as `fn(event, request, details)` (apps/platform/security_events.py): the audit trail.
SECURITY_EVENT_HANDLER = "apps.audit.services.security_event_record"

# apps/accounts/conf.py: sign-in limits.
TESSERA_ACCOUNTS = set_in_environment(
    LOGIN_RATE_PER_EMAIL=env.str("LOGIN_RATE_PER_EMAIL", default=None),
    LOGIN_RATE_PER_IP=env.str("LOGIN_RATE_PER_IP", default=None),
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Tessera API",
    "DESCRIPTION": "Multi-tenant REST API generated from one declaration per resource.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "apps.tasks.models.Task.Status",
        "TaskPriorityEnum": "apps.tasks.models.Task.Priority",
        "PlatformRoleEnum": "apps.accounts.models.User.Role",
        "MembershipRoleEnum": "apps.tenants.models.Membership.Role",
        "JobStatusEnum": "apps.jobs.models.Job.Status",
        "JobLogLevelEnum": "apps.jobs.models.JobLog.Level",
        "MigrationStatusEnum": "apps.migrations_app.models.MigrationRun.Status",
        "MigrationLogLevelEnum": "apps.migrations_app.models.MigrationLog.Level",
    },
    # Swagger UI draws only the operations in view, so with a few hundred of them an operation is reached by its
    # link (`/api/docs/#/<tag>/<operationId>`, deepLinking) or by the tag filter box, not by scrolling a long page.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "deepLinking": True, "filter": True},
    # The docs pages load pinned copies from drf-spectacular-sidecar through WhiteNoise, never a CDN, so they work
    # offline and in air-gapped deployments; templates/drf_spectacular/redoc.html drops ReDoc's web fonts too.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "apps.jobs.params_schema.add_job_params_components"],
}

# --- Static files, i18n ------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = LOCAL_FILES / "staticfiles"
WHITENOISE_USE_FINDERS = True
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging -------------------------------------------------------------------------
# One JSON object per line on stderr, each with the request id; "tessera.requests" is the access log and
# "tessera.audit" the security events (also stored in AuditLog). Lines are formatted and written by a thread of
# their own (BackgroundStreamHandler), so no request waits on its log line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.platform.request_log.RequestIDFilter"}},
    "formatters": {"json": {"()": "apps.platform.request_log.JsonFormatter"}},
    "handlers": {"console": {"()": "apps.platform.request_log.BackgroundStreamHandler", "formatter": "json",
                             "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "tessera.requests": {"level": "INFO"},
                "tessera.audit": {"level": "INFO"}},
}
