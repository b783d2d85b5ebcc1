"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden on the command line or by GUNICORN_CMD_ARGS.
Why each one (docs/deployment.md says more):
- gthread workers: most of a request is waiting on PostgreSQL, so threads keep
  a worker busy without a process per connection; a slow client on a phone
  network holds a thread, not a whole worker.
- timeout 60 s: no request may run longer — imports, exports over ~50,000
  rows and demo building are background jobs (core.jobs), not requests.
- max_requests with jitter: workers are recycled one by one, so a slow leak
  never grows without bound and never all restart at once.
"""

import multiprocessing
import os

bind = os.environ.get("WANGGE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 9)))
worker_class = "gthread"
threads = int(os.environ.get("WANGGE_THREADS", 4))
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# Each worker opens its own database connections after the fork.
preload_app = False
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
