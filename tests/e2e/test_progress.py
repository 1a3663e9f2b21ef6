import pytest
from playwright.sync_api import expect

from activities.models import ProgressEntry

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_partner_logs_progress_with_a_file_and_the_director_approves_it(
    demo_project, log_in, live_server, page, screenshot, tmp_path
):
    attendance = tmp_path / "foglio-presenze.pdf"
    attendance.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    log_in("demo-sanjuan")
    expect(page.get_by_role("heading", name="San Juan: your work")).to_be_visible()
    screenshot("dashboard-partner")
    page.locator("#my-actions").get_by_role("link", name="Record progress").first.click()
    page.get_by_label("Date").fill("2026-11-20")
    page.get_by_label("Percent complete").fill("65")
    page.get_by_label("Narrative").fill("Seminario con 18 imprenditori a San Juan.")
    page.get_by_label("Evidence files").set_input_files(str(attendance))
    screenshot("entry-form")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.locator("#evidence")).to_contain_text("foglio-presenze.pdf")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted to the directors for review.")).to_be_visible()
    entry = ProgressEntry.objects.get(narrative="Seminario con 18 imprenditori a San Juan.")
    assert entry.status == ProgressEntry.Status.SUBMITTED
    page.get_by_role("button", name="Log out").click()

    log_in("demo-director")
    expect(page.locator("#queue")).to_contain_text(entry.action.code)
    screenshot("dashboard-director")
    page.goto(f"{live_server.url}/progress/{entry.pk}/")
    page.get_by_label("Note to the partner").fill("Bene, grazie.")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Yes, approve").click()
    expect(page.get_by_text("Entry approved.")).to_be_visible()
    screenshot("entry-approved")
    entry.refresh_from_db()
    assert (entry.status, entry.reviewer.username) == (ProgressEntry.Status.APPROVED, "demo-director")

    page.goto(f"{live_server.url}/activities/{entry.action.activity.number}/")
    expect(page.locator("svg.gantt")).to_be_visible()
    screenshot("activity-detail")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/progress/{entry.pk}/")
    expect(page.locator("#narrative")).to_have_text("Seminario con 18 imprenditori a San Juan.")
    screenshot("entry-approved-phone")
