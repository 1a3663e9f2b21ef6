"""gunicorn settings for the COCAP portal: `gunicorn -c gunicorn.conf.py cocap.wsgi` (what `make serve` runs)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One worker per core, each with a few threads. A page costs about 15 ms of Python, under the GIL, so a worker
# keeps at most one core busy; its threads fill the time it waits on PostgreSQL, which needs less CPU than
# that and runs on the same cores. In the load test (bench/load.py, README "Load test") more workers than
# cores (5 x 4 on 2 cores) cost a quarter more CPU per request and were no faster.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Load Django in the master once (and the views: when_ready below): a worker, also one restarted after
# max_requests, then starts serving at once instead of spending most of a second of a core on imports in
# its first request, while users wait.
preload_app = True
# Longer than the slowest request: XLSX statements of 100,000 expenses take about 5 s and SAL PDFs render
# in the task worker, never in a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then so that a slow leak cannot grow without bound. With a worker per core each one
# takes many requests: at 2000 (jitter 200) both workers of 2 cores restarted within the same two seconds of
# the load test. The wide jitter keeps restarts apart.
max_requests = 5000
max_requests_jitter = 2500
# The portal logs one line per request itself (cocap.requests); gunicorn logs only errors.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """Import the URLconf, and with it every view, form and template tag module, before the workers fork."""
    if server.cfg.preload_app:
        from django.urls import reverse

        reverse("home")
