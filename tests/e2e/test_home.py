import datetime

import pytest
from playwright.sync_api import expect

from cocap_data.seed import cocap_load
from tests.factories import director_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_director_logs_in_sees_the_project_and_switches_language(live_server, page, screenshot):
    project = cocap_load(start_date=datetime.date(2026, 1, 1))
    director_of(project, user__username="direttore")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
    page.get_by_label("Username").fill("direttore")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").last.click()
    expect(page.get_by_role("heading", name="Direction")).to_be_visible()
    page.get_by_role("link", name="Overview").click()

    expect(page.locator("#total-eligible-cost")).to_have_text("€ 3,087,005.13")
    expect(page.locator("#eu-contribution")).to_have_text("€ 2,469,604.10")
    expect(page.locator("#activities tbody tr")).to_have_count(10)
    page.get_by_text("Formazione di agenti locali per lo sviluppo dei distretti").click()
    expect(page.get_by_text("stage applicativo in Veneto")).to_be_visible()
    screenshot("home-en")

    page.get_by_role("button", name="IT", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", name="Attività")).to_be_visible()
    expect(page.locator("#total-eligible-cost")).to_have_text("€ 3.087.005,13")
    screenshot("home-it")
