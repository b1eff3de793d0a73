"""One settings file, driven by environment variables (see README "Configuration")."""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("XINFANG_DEBUG", False)
SECRET_KEY = os.environ.get("XINFANG_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or os.environ.get("XINFANG_ALLOW_DEV_SECRET") == "1":
        SECRET_KEY = "dev-only-insecure-secret-key-change-me-0123456789abcdef"
    else:
        raise ImproperlyConfigured("XINFANG_SECRET_KEY 未设置（生产环境必须设置密钥）")

# Personal data at rest (xinfang.core.crypto; docs/security.md "个人信息加密"): AES-GCM data key
# ring (first key encrypts) and the separate HMAC key of the blind indexes. Checked at startup.
XINFANG_DATA_KEYS = os.environ.get("XINFANG_DATA_KEYS", "")
XINFANG_INDEX_KEY = os.environ.get("XINFANG_INDEX_KEY", "")
XINFANG_OLD_INDEX_KEY = os.environ.get("XINFANG_OLD_INDEX_KEY", "")
if not XINFANG_DATA_KEYS or not XINFANG_INDEX_KEY:
    from xinfang.core.crypto import DEV_DATA_KEYS, DEV_INDEX_KEY

    if DEBUG or os.environ.get("XINFANG_ALLOW_DEV_SECRET") == "1":
        XINFANG_DATA_KEYS = XINFANG_DATA_KEYS or DEV_DATA_KEYS
        XINFANG_INDEX_KEY = XINFANG_INDEX_KEY or DEV_INDEX_KEY
    else:
        raise ImproperlyConfigured(
            "XINFANG_DATA_KEYS 或 XINFANG_INDEX_KEY 未设置（生产环境必须设置个人信息加密密钥）"
        )
from xinfang.core.crypto import parse_index_key, parse_key_ring  # noqa: E402

parse_key_ring(XINFANG_DATA_KEYS)
parse_index_key(XINFANG_INDEX_KEY)
if XINFANG_OLD_INDEX_KEY:
    parse_index_key(XINFANG_OLD_INDEX_KEY, "XINFANG_OLD_INDEX_KEY")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("XINFANG_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("XINFANG_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    # django.contrib.admin with our site (access by role + TOTP): xinfang/accounts/admin_site.py
    "xinfang.accounts.admin_apps.XinfangAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # its bundled Swagger UI files: /api/docs works offline
    "xinfang.core",
    "xinfang.org",
    "xinfang.people",
    "xinfang.cases",
    "xinfang.audit",
    "xinfang.intel",
    "xinfang.documents",
    "xinfang.notify",
    "xinfang.supervision",
    "xinfang.replies",
    "xinfang.instructions",
    "xinfang.followup",
    "xinfang.directory",
    "xinfang.reception",
    "xinfang.portal",
    "xinfang.prevention",
    "xinfang.stats",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "xinfang.accounts",
    "django_tasks",  # background tasks (django.tasks API backport); TASKS below
    "django_tasks_db",  # its database backend: queue table + manage.py db_worker
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below)
    "xinfang.core.middleware.FaultMiddleware",  # database/disk faults → 503, not 500
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "xinfang.portal.middleware.PortalNoStoreMiddleware",  # /api/portal/: never cached
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "xinfang.audit.context.AuditContextMiddleware",  # actor and IP for audit rows
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Idle/absolute session limits, logout everywhere; then the second factor (needs messages).
    "xinfang.accounts.middleware.SessionSecurityMiddleware",
    "xinfang.accounts.middleware.TwoFactorMiddleware",
    # Idempotency-Key on API writes: after the session limits and the second factor, so that a
    # replayed answer is never given to an expired, logged-out-everywhere or unverified session.
    "xinfang.core.middleware.ApiIdempotencyMiddleware",
    "axes.middleware.AxesMiddleware",  # keep last: turns a lockout into the Chinese lockout page
]

ROOT_URLCONF = "xinfang.urls"

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
                "xinfang.org.context_processors.nav",
            ],
        },
    },
]

WSGI_APPLICATION = "xinfang.wsgi.application"

# --- Database -------------------------------------------------------------------------------
# SQLite is the embedded default; DATABASE_URL selects PostgreSQL (production and CI).
SQLITE_PATH = os.environ.get("XINFANG_SQLITE_PATH", str(BASE_DIR / "var" / "xinfang.sqlite3"))
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Short OLTP queries: JIT compilation cost more than it saved in the list benchmarks
        # (bench/README.md), e.g. a content search 323 → 134 ms.
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # Durability and integrity are checked at startup (xinfang.core.checks).
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;"
                ),
                "timeout": 20,  # busy timeout, seconds
                # Take the write lock at BEGIN: no lock-upgrade deadlocks between two clerks.
                "transaction_mode": "IMMEDIATE",
            },
            "TEST": {"NAME": os.environ.get("XINFANG_SQLITE_TEST_PATH") or None},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "xinfang.accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "xinfang.accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "xinfang.accounts.validators.ChinesePatternValidator"},
    {"NAME": "xinfang.accounts.validators.PasswordHistoryValidator", "OPTIONS": {"depth": 5}},
]

# --- Accounts and sessions (xinfang/accounts; docs/security.md "账号与会话") -------------------
# Axes must come first: it refuses a locked-out login before any password is checked.
# Permissions come from role memberships only (accounts.policy.ROLE_PERMISSIONS).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "xinfang.accounts.backends.RolePermissionBackend",
]
AXES_ENABLED = env_bool("XINFANG_AXES_ENABLED", True)
AXES_FAILURE_LIMIT = 5
# Two separate criteria: 5 failures for one user name, or 5 from one address, lock.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("XINFANG_LOCKOUT_MINUTES", "30")))
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout neither count nor extend it: the release time stays fixed.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "xinfang.accounts.views.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_SENSITIVE_PARAMETERS = ["password"]
# Seconds without a request before a session ends; seconds after the password login.
ACCOUNTS_IDLE_TIMEOUT = int(os.environ.get("XINFANG_IDLE_TIMEOUT_MINUTES", "30")) * 60
ACCOUNTS_SESSION_MAX_AGE = int(os.environ.get("XINFANG_SESSION_MAX_HOURS", "12")) * 3600
SESSION_COOKIE_AGE = ACCOUNTS_SESSION_MAX_AGE
# 系统管理员/安全管理员/审计员 must use TOTP (set up on first login, verified every session).
ACCOUNTS_OTP_ENFORCED = True
# is_superuser grants every permission only in debug mode; in production it grants nothing.
ACCOUNTS_SUPERUSER_SHORTCUT = DEBUG
OTP_TOTP_ISSUER = "民声信访"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_ROOT = Path(os.environ.get("XINFANG_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("XINFANG_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

# --- HTTP security headers (docs/security.md "HTTP安全头") ------------------------------------
# Production = not debug and not the public development secret; tests and `make run` use
# plain HTTP on 127.0.0.1, so the HTTPS redirect and HSTS default off there.
_PRODUCTION = not DEBUG and os.environ.get("XINFANG_ALLOW_DEV_SECRET") != "1"
SECURE_SSL_REDIRECT = env_bool("XINFANG_SSL_REDIRECT", _PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancer probes over plain HTTP
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO,https" (set it only if the proxy
# always overwrites that header; otherwise a client could claim HTTPS).
_PROXY_SSL = os.environ.get("XINFANG_PROXY_SSL_HEADER", "").strip()
if _PROXY_SSL:
    _proxy_header, _, _proxy_value = _PROXY_SSL.partition(",")
    if not _proxy_header.strip() or not _proxy_value.strip():
        raise ImproperlyConfigured(
            "XINFANG_PROXY_SSL_HEADER 格式应为“请求头,值”，例如 HTTP_X_FORWARDED_PROTO,https"
        )
    SECURE_PROXY_SSL_HEADER = (_proxy_header.strip(), _proxy_value.strip())
SECURE_HSTS_SECONDS = int(
    os.environ.get("XINFANG_HSTS_SECONDS", str(365 * 24 * 3600) if _PRODUCTION else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("XINFANG_HSTS_INCLUDE_SUBDOMAINS", True)
# Preload is the domain owner's decision (inclusion in browsers' lists is hard to undo).
SECURE_HSTS_PRELOAD = env_bool("XINFANG_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# django-csp 4: everything from this origin only; no inline script or style, no eval, no
# plugins, no framing, forms post only here. /api/docs (Swagger UI) fits this policy too.
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
        "form-action": ["'self'"],
    }
}
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Audit log (docs/security.md "审计日志"): the promised minimum retention in days; unset keeps
# it indefinitely. The application never deletes audit rows; below 180 days is a check error.
AUDIT_RETENTION_DAYS = int(os.environ.get("XINFANG_AUDIT_RETENTION_DAYS", "0") or 0) or None

# Attachments: limits used by xinfang.cases.forms and the API.
ATTACHMENT_MAX_BYTES = int(os.environ.get("XINFANG_ATTACHMENT_MAX_BYTES", str(20 * 1024 * 1024)))
ATTACHMENT_ALLOWED_EXTENSIONS = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XINFANG_LOG_LEVEL", "WARNING")},
}

# Notifications (xinfang.notify): e-mail copies go through Django's e-mail backend — the console
# in development (printed), SMTP in production (XINFANG_EMAIL_BACKEND=
# django.core.mail.backends.smtp.EmailBackend plus EMAIL_HOST…), locmem in tests (pytest-django).
EMAIL_BACKEND = os.environ.get(
    "XINFANG_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("XINFANG_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("XINFANG_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("XINFANG_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("XINFANG_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("XINFANG_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("XINFANG_EMAIL_FROM", "minsheng@localhost")
# Base address put in front of links in e-mails (e.g. https://xf.example.gov.cn).
XINFANG_SITE_URL = os.environ.get("XINFANG_SITE_URL", "")
# Messages to petitioners (进展告知、延期告知): "database" (stored, shown on the portal) or
# "console" (also logged, phone masked). No real SMS gateway (xinfang/notify/backends.py).
XINFANG_MESSAGE_BACKEND = os.environ.get("XINFANG_MESSAGE_BACKEND", "database")
# The public portal's address printed (and QR-coded) on the 登记回执: <url>/track/?code=<查询码>.
# Unset: the default below is used and the receipt says 网上查询（即将开通） (documents/receipt.py).
XINFANG_PUBLIC_URL_SET = bool(os.environ.get("XINFANG_PUBLIC_URL", "").strip())
XINFANG_PUBLIC_URL = os.environ.get("XINFANG_PUBLIC_URL", "").strip() or "http://127.0.0.1:8000"

# The public portal (xinfang.portal, docs/portal.md). Online petitions are registered at this
# petition office (its code or division code; unset: the topmost active petition office).
XINFANG_PORTAL_OFFICE = os.environ.get("XINFANG_PORTAL_OFFICE", "").strip()
# 满意度评价 on the portal: allowed for this many days after the reply was served.
XINFANG_PORTAL_EVALUATION_DAYS = int(os.environ.get("XINFANG_PORTAL_EVALUATION_DAYS", "30"))
# The client address for rate limits: REMOTE_ADDR, or this request header set by the reverse
# proxy in front (e.g. "HTTP_X_REAL_IP"); never trust a header no proxy of yours sets.
XINFANG_CLIENT_IP_HEADER = os.environ.get("XINFANG_CLIENT_IP_HEADER", "").strip()
# Rate limits (xinfang.core.ratelimit): "<count>/<window>", windows in s/m/h/d; "0" disables.
# Each is overridable as XINFANG_RATE_<NAME upper-cased>, e.g. XINFANG_RATE_PORTAL_TRACK_IP.
_RATE_DEFAULTS = {
    "portal_track_ip": "30/10m",  # tracking attempts per client address
    "portal_track_code": "8/1h",  # tracking attempts per query code (brute force of the phone)
    "portal_submit_ip": "10/1h",  # submissions confirmed per client address
    "portal_submit_phone": "5/1d",  # submissions per phone number
    "portal_pending_ip": "30/1h",  # review pages (checked forms, attachments stored) per address
    "portal_login_ip": "20/10m",  # account logins per client address
    "portal_login_phone": "10/1h",  # account logins per phone number
    "portal_sms_phone": "3/1h",  # verification codes sent per phone number
    "portal_sms_ip": "10/1h",  # verification codes sent per client address
    "portal_act_ip": "30/1h",  # evaluations and 复查/复核 requests per client address
}
XINFANG_RATES = {
    name: os.environ.get(f"XINFANG_RATE_{name.upper()}", default)
    for name, default in _RATE_DEFAULTS.items()
}
# Largest text of a portal submission, and number of attachments.
XINFANG_PORTAL_MAX_TEXT = int(os.environ.get("XINFANG_PORTAL_MAX_TEXT", "5000"))
XINFANG_PORTAL_MAX_FILES = int(os.environ.get("XINFANG_PORTAL_MAX_FILES", "5"))

# Durability (docs/security.md "持久性与故障"): how long idempotency records are kept for
# replays (manage.py purge_idempotency), and the free disk space below which /healthz says 503.
IDEMPOTENCY_RETENTION_DAYS = int(os.environ.get("XINFANG_IDEMPOTENCY_RETENTION_DAYS", "7"))
HEALTH_MIN_FREE_BYTES = int(os.environ.get("XINFANG_HEALTH_MIN_FREE_BYTES", str(512 * 1024 * 1024)))

# Background tasks (design.md): a queue table in the same database, worked by
# `manage.py db_worker` (README "Operations"). XINFANG_TASKS_IMMEDIATE=1 runs tasks inline instead.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("XINFANG_TASKS_IMMEDIATE", False)
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# Routing model registry (docs/intel.md "模型版本与再训练"): one directory per model version —
# under MEDIA_ROOT by default so that `manage.py backup` keeps them (never served: there is no
# MEDIA_URL route) — and the public training data the first model is trained from.
INTEL_MODEL_DIR = Path(os.environ.get("XINFANG_INTEL_MODEL_DIR", str(MEDIA_ROOT / "intel-models")))
INTEL_BUNDLED_DATA = BASE_DIR / "xinfang" / "intel" / "data" / "teddy2020_train.jsonl"

# 回访: planned this many working days after a case is closed (xinfang.followup).
FOLLOWUP_AFTER_CLOSE_WORKDAYS = int(os.environ.get("XINFANG_FOLLOWUP_WORKDAYS", "10"))
