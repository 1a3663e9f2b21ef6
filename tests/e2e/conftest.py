import datetime
import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls of the tests are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("COCAP_SCREENSHOTS", Path(__file__).resolve().parents[2] / "screenshots"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's chromium, with no network of its own beyond the live server."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under screenshots/ for a person to look at."""

    def take(name):
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture
def demo_project(transactional_db):
    """Load COCAP with its demo partners and users, as `make run` does."""
    from cocap_data.demo import cocap_load_demo
    from cocap_data.seed import cocap_load

    project = cocap_load(start_date=datetime.date(2026, 1, 1))
    cocap_load_demo(project=project, today=datetime.date(2026, 11, 25))
    return project


@pytest.fixture
def log_in(page, live_server):
    """Log a demo user in through the login form."""
    from cocap_data.demo import DEMO_PASSWORD

    def submit(username):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").last.click()

    return submit
