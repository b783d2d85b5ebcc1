"""Defaults. Overridden by instance/config.py, then by the environment
(DATABASE_URL, and WANGGE_<KEY> for any key below), then by create_app(config)."""

import datetime as _dt
import json

ENV_NAME = "development"  # "production" refuses a default secret key
SECRET_KEY = None  # generated into instance/secret_key on first run
SQLALCHEMY_DATABASE_URI = None  # instance/wangge.sqlite unless DATABASE_URL is set
# pool_pre_ping: a connection that the database dropped (a restart, a killed
# backend, a failover) is noticed and replaced before a request uses it.
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
LOAD_ENTRY_POINTS = True  # third-party plugins from the `wangge.plugins` entry points
PLUGINS = None  # built-in plugins to load: None for all, or a list such as ["affairs"]
TIMEZONE = "Asia/Shanghai"
BABEL_DEFAULT_LOCALE = "zh_CN"
LANGUAGES = ("zh_CN", "en")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
# "Keep me signed in" lasts this long (seconds when set by WANGGE_REMEMBER_COOKIE_DURATION).
REMEMBER_COOKIE_DURATION = _dt.timedelta(days=14)
# Strict-Transport-Security sent in production (core.headers); 0 sends none.
HSTS_MAX_AGE = 365 * 24 * 3600
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

# Rate limits (Flask-Limiter). In memory by default; with REDIS_URL set,
# shared by every gunicorn worker and host.
REDIS_URL = None
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_HEADERS_ENABLED = False
LOGIN_RATE_LIMIT = "10 per 5 minutes"

# How many reverse proxies (nginx, a load balancer) stand in front of the app.
# Their X-Forwarded-For/-Proto are believed, nobody else's: the client address
# goes into the audit log and keys the login rate limit.
TRUSTED_PROXIES = 0

UPLOAD_FOLDER = None  # instance/uploads by default
MAX_CONTENT_LENGTH = 32 * 1024 * 1024

# Uploaded .xlsx files are checked before parsing (core.excel.read_rows).
XLSX_MAX_UNPACKED = 64 * 1024 * 1024  # bytes, all members together once unzipped
XLSX_MAX_MEMBERS = 300  # files inside the zip
XLSX_MAX_SHARED_STRINGS = 300_000  # distinct texts in the workbook

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)

PER_PAGE = 20  # rows per page of the long lists (a phone screen or two; 每页20条)


def parse_env(value: str):
    """WANGGE_* values: JSON when they parse as JSON (numbers, true, lists), else text."""
    try:
        return json.loads(value)
    except ValueError:
        return value

# Background jobs (core.jobs, huey). The queue's store: Redis when REDIS_URL is
# set, else an SQLite file under the instance folder (JOBS_SQLITE_PATH).
JOBS_BACKEND = None  # "sqlite" or "redis" to choose explicitly
JOBS_SQLITE_PATH = None  # instance/jobs-queue.sqlite
JOBS_QUEUE_NAME = "wangge"  # consumers and web processes of one site share it
JOBS_IMMEDIATE = False  # run each job inside start() (tests)
JOBS_WORKERS = 2  # threads per consumer
JOBS_MAX_DELAY = 1.0  # seconds an idle consumer waits at most before polling the queue again
JOBS_KEEP_DAYS = 30  # a job's upload and result file are deleted this long after it ended
JOBS_STALE_AFTER = 900  # seconds without a heartbeat before a running job counts as failed
