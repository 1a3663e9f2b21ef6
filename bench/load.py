"""Load test: 50 partner staff browsing and declaring progress and expenses while a director reviews them,
against gunicorn on PostgreSQL at 127.0.0.1, bounded in time. A benchmark, not a test.

Run: .venv/bin/pip install -r bench/requirements.txt
     .venv/bin/python -m bench.load [--users 50] [--ramp 25] [--seconds 60] [--database cocap_load]
                                    [--restart-db-at SECONDS]

It creates the database anew, loads COCAP with its demo data and 50 more partner users, serves the portal
with scripts/serve (gunicorn, DEBUG off, two-factor on) on a free port of 127.0.0.1 and runs locust headless:
the users log in evenly over the ramp, then the run goes on for --seconds at full load. With
--restart-db-at, PostgreSQL is restarted that many seconds into the run (the fault test). It prints
requests/s, p50/p95/p99 per page, the errors, the server's CPU per request, how busy the machine was, and
whether every record the portal confirmed is stored once.
"""

import argparse
import csv
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


def prepare(setup_path: str, users: int):
    """Run inside Django (DEBUG on, for the demo data): users, a director's authenticator, the setup file."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cocap_data.demo import DEMO_PASSWORD
    from finance.models import CostCategory
    from partners.models import Membership, Partner

    call_command("migrate", verbosity=0)
    call_command("load_cocap", demo=True, verbosity=0)
    partners = list(Partner.objects.filter(project__code="cocap"))
    User = get_user_model()
    names = []
    for index in range(users):
        partner = partners[index % len(partners)]
        user = User.objects.create_user(f"load-{index:02d}", password=DEMO_PASSWORD, first_name=f"Load {index}")
        Membership.objects.create(user=user, project=partner.project, partner=partner, role="partner_staff")
        names.append(user.username)
    director = User.objects.get(username="demo-director")
    device = TOTPDevice.objects.create(user=director, name="load test", confirmed=True)
    Path(setup_path).write_text(
        json.dumps(
            {
                "password": DEMO_PASSWORD,
                "partner_users": names,
                "director": director.username,
                "director_totp_key": device.key,
                "category": CostCategory.objects.get(code=2).pk,
                "today": timezone.localdate().isoformat(),
            }
        )
    )


def _recreate_database(database: str):
    import psycopg2
    from psycopg2 import sql

    server = psycopg2.connect(dbname="postgres", user="postgres", host="127.0.0.1", port=5432)
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    server.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(bind: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{bind}/health/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _wait_healthy(bind: str, limit: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if _healthy(bind):
            return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    return None


def _machine_cpu() -> tuple[int, int]:
    """Busy and total jiffies of the whole machine since boot (Linux)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _server_cpu_seconds(session: int) -> float:
    """CPU time of gunicorn, its workers and the task worker: every process of the server's session (Linux)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _stats(prefix: str) -> dict:
    pages = {}
    with open(f"{prefix}_stats.csv") as file:
        for row in csv.DictReader(file):
            pages[f"{row['Type']} {row['Name']}".strip()] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                "p50_ms": row["50%"],
                "p95_ms": row["95%"],
                "p99_ms": row["99%"],
            }
    failures = []
    with open(f"{prefix}_failures.csv") as file:
        for row in csv.DictReader(file):
            failures.append(f"{row['Occurrences']}x {row['Method']} {row['Name']}: {row['Error'][:120]}")
    return {"pages": pages, "failures": failures}


def _stored_once(database: str, created: dict) -> dict:
    import psycopg2

    connection = psycopg2.connect(dbname=database, user="postgres", host="127.0.0.1", port=5432)
    result = {}
    with connection.cursor() as cursor:
        for kind, table, column in (
            ("entries", "activities_progressentry", "narrative"),
            ("expenses", "finance_expenditure", "description"),
        ):
            counts = []
            for tag in created[kind]:
                cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} LIKE %s", [f"%({tag})%"])
                counts.append(cursor.fetchone()[0])
            result[kind] = {
                "confirmed": len(counts),
                "stored_once": counts.count(1),
                "missing": counts.count(0),
                "duplicated": sum(1 for c in counts if c > 1),
            }
        cursor.execute(
            "SELECT status, count(*) FROM activities_progressentry WHERE narrative LIKE '%%(load-%%' GROUP BY 1"
        )
        result["entry_statuses"] = dict(cursor.fetchall())
        cursor.execute(
            "SELECT status, count(*) FROM finance_expenditure WHERE description LIKE '%%(load-%%' GROUP BY 1"
        )
        result["expense_statuses"] = dict(cursor.fetchall())
    connection.close()
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--ramp", type=int, default=25, help="seconds over which the users log in, one by one")
    parser.add_argument("--seconds", type=int, default=60, help="seconds at full load, after the ramp")
    parser.add_argument("--restart-db-at", type=int, default=0)
    parser.add_argument("--database", default="cocap_load", help="PostgreSQL database, dropped and created anew")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="cocap-load-"))
    setup, created, prefix = scratch / "setup.json", scratch / "created.json", str(scratch / "locust")
    bind = f"127.0.0.1:{_free_port()}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{args.database}",
        "DJANGO_SETTINGS_MODULE": "cocap.settings",
        "DJANGO_MEDIA_ROOT": str(scratch / "media"),
    }

    _recreate_database(args.database)
    subprocess.run(
        [PY, "-c", f"from bench.load import prepare; prepare({str(setup)!r}, {args.users})"],
        env={**env, "DJANGO_DEBUG": "1"},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    server_log = open(scratch / "server.log", "w")  # noqa: SIM115 (open while the server runs)
    server = subprocess.Popen(
        [str(ROOT / "scripts" / "serve")],
        env={
            **env,
            "GUNICORN_BIND": bind,
            "COCAP_TWO_FACTOR": "1",
            "DJANGO_SECRET_KEY": "load-test-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
            "DJANGO_LOG_LEVEL": "WARNING",
        },
        cwd=ROOT,
        start_new_session=True,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    # Logins arrive evenly over the ramp, as people start their day, not all in the same second (the director is
    # one of the users).
    spawn_rate = (args.users + 1) / args.ramp if args.ramp else args.users + 1
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    results = {
        "users": args.users + 1,
        "ramp_seconds": args.ramp,
        "seconds_at_full_load": args.seconds,
        "gunicorn": {"cores": os.cpu_count(), "workers": gunicorn["workers"], "threads": gunicorn["threads"]},
    }
    try:
        if _wait_healthy(bind, 120) is None:
            sys.exit(f"The server did not start; see {scratch / 'server.log'}")
        locust_log = open(scratch / "locust.log", "w")  # noqa: SIM115 (open while locust runs)
        machine_before, server_before = _machine_cpu(), _server_cpu_seconds(server.pid)
        locust = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users + 1),
                "--spawn-rate",
                f"{spawn_rate:.3f}",
                "--run-time",
                f"{args.ramp + args.seconds}s",
                "--host",
                f"http://{bind}",
                "--csv",
                prefix,
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env={**env, "COCAP_LOAD_SETUP": str(setup), "COCAP_LOAD_CREATED": str(created)},
            cwd=ROOT,
            stdout=locust_log,
            stderr=subprocess.STDOUT,
        )
        if args.restart_db_at:
            time.sleep(args.restart_db_at)
            version = sorted(os.listdir("/etc/postgresql"))[-1]
            started = time.monotonic()
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            recovered = _wait_healthy(bind, 60)
            results["database_restart"] = {
                "at_second": args.restart_db_at,
                "restart_seconds": round(time.monotonic() - started - (recovered or 0), 2),
                "portal_healthy_again_after_s": recovered,
            }
        locust.wait()
        machine_after, server_after = _machine_cpu(), _server_cpu_seconds(server.pid)
        stats = _stats(prefix)
        aggregated = stats["pages"].pop("Aggregated")
        results["total"] = aggregated
        # Other work on the machine slows every page; the server's CPU per request (a POST and the page it
        # redirects to count as one, as locust counts them) hardly depends on it.
        results["server_cpu_ms_per_request"] = round(1000 * (server_after - server_before) / aggregated["requests"], 1)
        busy, total = (after - before for after, before in zip(machine_after, machine_before, strict=True))
        results["machine_cpu_busy_percent"] = round(100 * busy / total)
        results["pages"] = stats["pages"]
        results["failures"] = stats["failures"]
        results["5xx"] = sum(
            int(line.split("x ", 1)[0]) for line in stats["failures"] if re.search(r"\b5\d\d Server Error", line)
        )
        results["records"] = _stored_once(args.database, json.loads(created.read_text()))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    results["logs"] = str(scratch)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
