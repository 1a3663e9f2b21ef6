"""The demo stack of `make run` under concurrent use: runserver and the SAL PDF worker on one SQLite file.

scripts/run-demo starts it exactly as `make run` does, on a scratch database file and media folder; three
users, each with a cookie session of their own, log in through the login form and browse, declare and review
while the worker renders a SAL, as a team trying the demo together would.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from cocap_data.demo import DEMO_PASSWORD, DEMO_RECEIPT
from finance.models import Expenditure

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = ["demo-veneto", "demo-sanjuan"]
ROUNDS = 3
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# What a submitted expense needs, and the checks a director ticks to verify one.
RECEIPT = DEMO_RECEIPT
CHECKLIST = list(Expenditure.CHECKLIST)
# The environment of the person running the suite, less what would point the stack elsewhere (the suite's own
# settings module, DATABASE_URL of a PostgreSQL run, a secret key that turns DEBUG off in manage.py).
OWN_VARIABLES = re.compile(r"^(DJANGO_|DATABASE_URL$|COCAP_|AXES_)")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def stack(tmp_path):
    """Start scripts/run-demo on a scratch SQLite file; yield its base URL and database path; stop it all."""
    database = tmp_path / "db.sqlite3"
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not OWN_VARIABLES.match(name)}
    env.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_MEDIA_ROOT=str(tmp_path / "media"))
    log_path = tmp_path / "stack.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 (the repository's own script)
            [str(ROOT / "scripts" / "run-demo"), f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, log_path)
        yield base, database, log_path
    finally:
        _stop(process, log_path)


def _stop(process, log_path):
    """Stop the script, runserver, the worker and their reloaders' children: they share one process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        left = subprocess.run(["ps", "-o", "pid,stat,etime,args", "-g", str(process.pid)], capture_output=True)  # noqa: S603, S607
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail(f"SIGTERM left the stack running:\n{left.stdout.decode()}\n{log_path.read_text()[-3000:]}")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _wait_healthy(base, process, log_path, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"scripts/run-demo ended with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/health/", timeout=5) as response:  # noqa: S310 (http://127.0.0.1)
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"scripts/run-demo did not answer /health/ in {seconds} s:\n{log_path.read_text()[-3000:]}")


class _EachRedirectApart(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        # Every redirect is a request of its own: the browser follows it, so that it is counted and checked.
        return None


def _multipart(fields, files):
    """Encode a form with files as multipart/form-data: (body, content type)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, values in fields.items():
        for value in values if isinstance(values, list | tuple) else [values]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Browser:
    """One user's cookie session; every request goes into the shared `log` as (method, path, status)."""

    def __init__(self, base, log):
        self.base, self.log, self.token = base, log, ""
        jar = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(jar, _EachRedirectApart())

    def _send(self, method, path, data=None, files=None):
        headers = {"Accept-Language": "en"}
        if files:
            body, headers["Content-Type"] = _multipart(data, files)
        else:
            body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                status, headers, text = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            status, headers, text = error.code, error.headers, error.read().decode()
        self.log.append((method, path, status))
        return status, headers.get("Location", ""), text

    def get(self, path):
        """Return the page's text; remember its CSRF token for the next form sent."""
        status, _location, text = self._send("GET", path)
        token = CSRF.search(text)
        self.token = token.group(1) if token else self.token
        return text if status == 200 else ""

    def post(self, path, fields, files=None):
        """Send a form (with `files`: name -> (filename, bytes)) with the last CSRF token seen; follow the redirect.

        Return the redirect's target and its text.
        """
        status, location, _text = self._send("POST", path, {**fields, "csrfmiddlewaretoken": self.token}, files)
        return (location, self.get(location)) if status == 302 else ("", "")

    def log_in(self, username):
        """Log in through the login form; return the home page, or "" when the login failed."""
        self.get("/login/")
        location, home = self.post("/login/", {"username": username, "password": DEMO_PASSWORD})
        return home if location == "/" else ""


def _first(pattern, text):
    match = re.search(pattern, text)
    return match.group(1) if match else None


def _partner(browser, username, ledger, problems):
    """Log in, browse, declare an expense and a progress entry and submit both; log out. ROUNDS times."""
    for number in range(ROUNDS):
        tag = f"stack-{username}-{number}"
        home = browser.log_in(username)
        if not home:
            problems.append(f"{username}: login {number} failed")
            continue
        for path in ("/activities/", "/progress/", "/expenses/", "/finance/"):
            browser.get(path)
        form = browser.get("/expenses/new/")
        day = _first(r'name="date_incurred" value="([\d-]+)"', form)
        category = _first(
            r'<select name="category"[^>]*>\s*<option value=""[^>]*>[^<]*</option>\s*<option value="(\d+)"', form
        )
        fields = {
            "date_incurred": day,
            "category": category,
            "description": f"Seminar transport ({tag})",
            "supplier": "Transportes Sur",
            "document_ref": f"F-{number}",
            "amount": "125.50",
        }
        receipt = {"receipts": ("ticket.pdf", RECEIPT)}
        _declare(browser, "/expenses/new/", fields, "Submitted for verification.", ledger, tag, files=receipt)
        action = _first(r"/actions/(\d+)/progress/new/", home)
        browser.get(f"/actions/{action}/progress/new/")
        fields = {"date": day, "percent_complete": str(20 + number), "narrative": f"Seminar with the partners ({tag})"}
        _declare(
            browser, f"/actions/{action}/progress/new/", fields, "Submitted to the directors for review.", ledger, tag
        )
        browser.post("/logout/", {})


def _declare(browser, form_path, fields, submitted, ledger, tag, files=None):
    """Save the draft through its form, then submit it; note its tag as submitted once the portal says so."""
    location, _detail = browser.post(form_path, fields, files)
    if re.fullmatch(r"/(expenses|progress)/\d+/", location):
        ledger["drafts"].append(location)
        _location, page = browser.post(f"{location}submit/", {})
        if submitted in page:
            ledger["submitted"][location] = tag


def _director(browser, partners_done, ledger, problems):
    """Prepare and approve a period's SAL, then review what the partners submit until they stop."""
    if not browser.log_in("demo-director"):
        problems.append("demo-director: login failed")
        return
    listing = browser.get("/sal/")
    location, page = browser.post(_first(r'action="(/sal/periods/\d+/new/)"', listing), {"language": "en"})
    # The headings that stray from plan are explained in the financial report before approval.
    financial = browser.get(f"{location}financial/")
    explained = dict.fromkeys(re.findall(r'name="(explanation_\d+)"', financial), "Explained in the stack test.")
    amounts = dict.fromkeys(("other_donors_eur", "in_kind_eur", "interest_eur", "forecast_eur"), "0")
    revision = _first(r'name="revision" value="(\d+)"', financial)
    _detail, page = browser.post(f"{location}financial/", {"revision": revision, **amounts, **explained})
    revision = _first(r'id="approve-form">.*?name="revision" value="(\d+)"', page.replace("\n", " "))
    _location, page = browser.post(f"{location}approve/", {"revision": revision, "confirmed": "on"})
    if "SAL approved" in page:
        ledger["sal"] = int(location.strip("/").split("/")[-1])
    while True:
        last_pass = partners_done.is_set()
        queue = browser.get("/progress/review/")
        for index, pk in enumerate(re.findall(r'href="/progress/(\d+)/"', queue)):
            decision, note = ("approve", "") if index % 2 == 0 else ("return", "Add the attendance list.")
            browser.get(f"/progress/{pk}/")
            _location, page = browser.post(f"/progress/{pk}/{decision}/", {"note": note, "confirmed": "on"})
            if "Entry approved." in page or "Entry returned to the partner." in page:
                ledger["reviewed"][f"/progress/{pk}/"] = {"approve": "approved", "return": "returned"}[decision]
        submitted = browser.get("/expenses/?status=submitted")
        for pk in re.findall(r'href="/expenses/(\d+)/"', submitted):
            browser.get(f"/expenses/{pk}/")
            _location, page = browser.post(f"/expenses/{pk}/verify/", {"note": "", "checklist": CHECKLIST})
            if "Expense verified." in page:
                ledger["reviewed"][f"/expenses/{pk}/"] = "verified"
        if last_pass:
            return
        time.sleep(0.2)


def _start(user, *args, problems):
    """Run a user in a thread; an exception of the test's own ends up among the problems, not lost."""

    def guarded():
        try:
            user(*args, problems)
        except Exception as error:
            problems.append(f"{user.__name__}: {error!r}")

    thread = threading.Thread(target=guarded)
    thread.start()
    return thread


def _query(database, sql, params=()):
    """Read the stack's database file while it runs."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)) as connection:
        return connection.execute(sql, params).fetchall()


# The expenses and entries the users created, by the address of their page.
STORED = """
    SELECT '/expenses/' || id || '/', description, status FROM finance_expenditure WHERE description LIKE '%stack-%'
    UNION ALL
    SELECT '/progress/' || id || '/', narrative, status FROM activities_progressentry WHERE narrative LIKE '%stack-%'
"""
SAL = "SELECT status, pdf_status FROM reports_progressreport WHERE id = ?"


def test_three_users_and_the_worker_share_the_demo_database_without_a_server_error(stack, record_property):
    base, database, log_path = stack
    log, problems = [], []
    ledger = {"drafts": [], "submitted": {}, "reviewed": {}, "sal": None}
    partners_done = threading.Event()
    started = time.monotonic()

    director = _start(_director, Browser(base, log), partners_done, ledger, problems=problems)
    partners = [_start(_partner, Browser(base, log), username, ledger, problems=problems) for username in PARTNERS]
    for thread in partners:
        thread.join()
    partners_done.set()
    director.join()
    seconds = time.monotonic() - started

    server_errors = [entry for entry in log if entry[2] >= 500]
    print(f"\n{len(log)} requests from 3 users in {seconds:.1f} s, {len(server_errors)} answered 5xx")
    record_property("requests", len(log))
    record_property("server_errors", len(server_errors))
    assert server_errors == [], log_path.read_text()[-5000:]
    assert len(log) >= 100
    assert problems == []
    assert [status for _method, _path, status in log if status >= 400] == []

    # Every expense and entry the portal confirmed is stored once, with the status its last confirmed step gave it.
    assert len(ledger["submitted"]) == len(ledger["drafts"]) == 2 * len(PARTNERS) * ROUNDS
    stored = {location: (text, status) for location, text, status in _query(database, STORED)}
    assert stored.keys() == ledger["submitted"].keys()
    for location, tag in ledger["submitted"].items():
        text, status = stored[location]
        assert tag in text
        assert status == ledger["reviewed"].get(location, "submitted")
    assert {status for _text, status in stored.values()} >= {"approved", "returned", "verified"}

    # The worker rendered the SAL approved while the others wrote.
    assert ledger["sal"] is not None
    deadline = time.monotonic() + 60
    while _query(database, SAL, [ledger["sal"]])[0][1] in ("queued", "rendering") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _query(database, SAL, [ledger["sal"]]) == [("approved", "ready")]
