import pytest
from django.contrib.auth import get_user_model

from activities.models import ProgressEntry
from finance.models import Budget, Expenditure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PORTAL_PAGES = [
    "/",
    "/overview/",
    "/activities/",
    "/activities/4/",
    "/progress/",
    "/progress/review/",
    "/expenses/",
    "/finance/",
    "/finance/budget/",
    "/sal/",
    "/sal/verify/",
    "/notifications/",
    "/account/two-factor/setup/",
]
ADMIN_PAGES = [
    "/admin/",
    "/admin/activities/activity/",
    "/admin/activities/activity/{activity}/change/",
    "/admin/finance/budget/",
    "/admin/finance/budget/{budget}/change/",
    "/admin/finance/budgetline/",
    "/admin/finance/expenditure/",
    "/admin/partners/membership/add/",
    "/admin/auth/user/",
    "/admin/auth/user/{user}/change/",
]


def _violations(page):
    """Collect the browser's reports of anything the Content Security Policy blocked."""
    seen = []
    page.on("console", lambda message: "Content Security Policy" in message.text and seen.append(message.text))
    return seen


def test_every_page_works_under_the_content_security_policy(demo_project, log_in, live_server, page, screenshot):
    seen = _violations(page)
    log_in("demo-director")
    entry = ProgressEntry.objects.first()
    expense = Expenditure.objects.first()
    for path in [*PORTAL_PAGES, f"/progress/{entry.pk}/", f"/expenses/{expense.pk}/"]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        if path == "/account/two-factor/setup/":
            screenshot("two-factor-setup")
    assert seen == []


def test_the_admin_works_under_the_content_security_policy(demo_project, live_server, page):
    seen = _violations(page)
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "a-long-test-password")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").last.click()
    ids = {"activity": demo_project.activities.get(number=4).pk, "budget": Budget.objects.get().pk, "user": admin.pk}
    for path in ADMIN_PAGES:
        response = page.goto(f"{live_server.url}{path.format(**ids)}")
        assert response.status == 200 and page.url.endswith(path.format(**ids)), path
    # The admin's own scripts ran: they add the "add another" link under the inline actions.
    page.goto(f"{live_server.url}/admin/activities/activity/{ids['activity']}/change/")
    assert page.locator(".add-row a").count() >= 1
    assert seen == []
