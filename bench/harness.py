"""A scratch database with COCAP and its demo data, and timers for the benchmarks in bench/.

Benchmarks are scripts, not tests: run them with `.venv/bin/python -m bench.<name>`. They use the
test settings on a throw-away SQLite file unless DATABASE_URL names another database.
"""

import contextlib
import datetime
import os
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

SCRATCH = Path(tempfile.gettempdir()) / "cocap-bench.sqlite3"


def setup_django():
    """Configure Django on a fresh scratch database, migrated."""
    if "DATABASE_URL" not in os.environ:
        SCRATCH.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocap.settings_test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def load_cocap_demo(today=datetime.date(2026, 11, 25)):
    """Load COCAP with its demo data as of `today`; return the project."""
    from cocap_data.demo import cocap_load_demo
    from cocap_data.seed import cocap_load

    project = cocap_load(start_date=datetime.date(2026, 1, 1))
    cocap_load_demo(project=project, today=today)
    return project


@contextlib.contextmanager
def measure(label, results):
    """Record the wall time and the peak Python memory of the block under `label`."""
    tracemalloc.start()
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    results[label] = {"seconds": round(elapsed, 3), "peak_mib": round(peak / 2**20, 1)}


def time_request(client, url, repeat=20):
    """Return the median and p95 milliseconds of GET `url` and the queries of one request."""
    from django.db import connection

    # Django clears its query log when a request starts, so count through an execute wrapper instead.
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
        "queries": len(queries),
        "bytes": len(response.content),
    }


def timed(function, repeat=1):
    """Call `function` `repeat` times; return its last result and the best wall time in seconds."""
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return result, round(best, 3)


def peak_mib(function):
    """Return the peak Python memory of one call of `function`, in MiB."""
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / 2**20, 1)
