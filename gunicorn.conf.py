"""gunicorn settings for the COCAP portal: `gunicorn -c gunicorn.conf.py cocap.wsgi` (what `make serve` runs)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Pages are database-bound: a few workers per core, with threads for the waits on PostgreSQL.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Longer than the slowest request: XLSX statements of 100,000 expenses take about 5 s and SAL PDFs render
# in the task worker, never in a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then so that a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# The portal logs one line per request itself (cocap.requests); gunicorn logs only errors.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
