import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_observer_is_told_why_and_changes_the_password_from_the_menu(
    demo_project, log_in, live_server, page, screenshot
):
    from cocap_data.demo import DEMO_PASSWORD

    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    log_in("demo-observer")
    # As if following a link from the list of progress entries.
    page.goto(f"{live_server.url}/progress/review/", referer=f"{live_server.url}/progress/")
    expect(page.locator("#error-reason")).to_have_text("Only directors review progress.")
    screenshot("403-review-queue")
    page.get_by_role("link", name="Back to the previous page").click()
    expect(page).to_have_url(f"{live_server.url}/progress/")

    page.get_by_role("button", name="Comitato tecnico-scientifico (demo)").click()
    page.get_by_role("link", name="Change password").click()
    page.get_by_label("Old password").fill(DEMO_PASSWORD)
    page.locator("#id_new_password1").fill("osservatorio-2026-nuova")
    page.locator("#id_new_password2").fill("osservatorio-2026-nuova")
    screenshot("password-change")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    assert get_user_model().objects.get(username="demo-observer").check_password("osservatorio-2026-nuova")
    assert blocked == []
