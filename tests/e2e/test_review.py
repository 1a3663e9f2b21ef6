import pytest
from playwright.sync_api import expect

from activities.models import ProgressEntry
from core.models import Notification

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_director_confirms_an_approval_then_goes_on_to_the_next_in_the_queue(
    demo_project, log_in, live_server, page, screenshot
):
    queue = list(ProgressEntry.objects.filter(status=ProgressEntry.Status.SUBMITTED).order_by("updated_at", "id")[:2])
    assert len(queue) == 2, "the demo leaves entries waiting for review"
    first, second = queue

    log_in("demo-director")
    page.goto(f"{live_server.url}/progress/{first.pk}/")
    expect(page.locator("#percent-context")).to_contain_text("expected by this date")
    page.get_by_label("Note to the partner").fill("Bene, avanti così.")
    page.get_by_role("button", name="Approve").click()
    # Nothing is approved yet: a page of its own asks, without any script.
    expect(page.get_by_role("button", name="Yes, approve")).to_be_visible()
    screenshot("entry-approve-confirm")
    first.refresh_from_db()
    assert first.status == ProgressEntry.Status.SUBMITTED
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("#review")).to_be_visible()

    page.get_by_label("Note to the partner").fill("Bene, avanti così.")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Yes, approve").click()
    expect(page.get_by_text("Entry approved.")).to_be_visible()
    first.refresh_from_db()
    assert (first.status, first.review_note) == (ProgressEntry.Status.APPROVED, "Bene, avanti così.")
    screenshot("entry-approved-next-in-queue")

    page.locator("#next-in-queue").get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/progress/{second.pk}/")
    expect(page.locator("#review")).to_be_visible()

    # The author is told in the portal too, and the navbar counts it.
    assert Notification.objects.filter(recipient=first.author, verb="approved", target_id=first.pk).exists()
    page.get_by_role("button", name="Log out").click()
    log_in(first.author.username)
    expect(page.locator("#unread-count")).to_be_visible()
    page.locator("#notifications-link").click()
    expect(page.locator("#notifications")).to_contain_text("approved")
    screenshot("notifications")
