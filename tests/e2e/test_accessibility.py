"""Every main page, for every role, at a desktop and a phone width: axe-core finds nothing serious or critical."""

from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Installed by `npm ci` in tests/e2e (scripts/system-deps --test, .ci/run), pinned in package-lock.json.
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = [(1366, 900), (390, 844)]
ROLES = ["demo-veneto", "demo-director", "demo-observer", "demo-admin"]


@pytest.fixture
def browser_context_args(browser_context_args):
    """Let the test inject axe-core into pages whose CSP allows only the portal's own scripts; colours are measured
    without transitions half-way (Bootstrap stops them for users who ask for reduced motion)."""
    return {**browser_context_args, "bypass_csp": True, "reduced_motion": "reduce"}


def _pages(username, project):
    """The portal's main pages as `username` reaches them, with one record of each kind the role may open."""
    from activities.models import ProgressEntry
    from finance.models import Expenditure
    from partners.models import Membership
    from reports.models import ProgressReport

    pages = [
        reverse("home"),
        reverse("overview"),
        reverse("activities:activity-list"),
        reverse("activities:activity-detail", kwargs={"number": 1}),
        reverse("reports:schedule"),
        reverse("activities:entry-list"),
        reverse("finance:expense-list"),
        reverse("finance:overview"),
        reverse("finance:budget"),
        reverse("reports:report-list"),
        reverse("reports:report-verify"),
        reverse("password_change"),
        reverse("two-factor-setup"),
    ]
    membership = Membership.objects.filter(user__username=username, project=project).first()
    entries, expenses = ProgressEntry.objects.all(), Expenditure.objects.all()
    if membership and membership.partner_id:
        entries, expenses = entries.filter(partner=membership.partner), expenses.filter(partner=membership.partner)
        action = membership.partner.actions.first()
        pages += [reverse("finance:expense-create")]
        if action is not None:
            pages += [reverse("activities:entry-create", kwargs={"action_pk": action.pk})]
    if membership and membership.role == Membership.Role.DIRECTOR:
        pages += [reverse("activities:review-queue")]
    if (entry := entries.order_by("pk").first()) is not None:
        pages += [reverse("activities:entry-detail", kwargs={"pk": entry.pk})]
    if (expense := expenses.order_by("pk").first()) is not None:
        pages += [reverse("finance:expense-detail", kwargs={"pk": expense.pk})]
    if (report := ProgressReport.objects.order_by("pk").first()) is not None:
        pages += [reverse("reports:report-detail", kwargs={"pk": report.pk})]
    return pages


def _serious_violations(page):
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(
            " ".join(node["target"]) + " – " + node["failureSummary"].replace("\n", " ")
            for node in violation["nodes"][:5]
        )
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("username", ROLES)
def test_every_page_passes_axe_for_every_role(demo_project, live_server, page, log_in, username):
    log_in(username)
    failures = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        for path in _pages(username, demo_project):
            response = page.goto(f"{live_server.url}{path}")
            # An observer may be refused a SAL draft: a refusal page is checked as well.
            assert response.status in (200, 403), f"{path}: {response.status}"
            failures += [f"{width}px {path}: {violation}" for violation in _serious_violations(page)]
    assert not failures, "\n".join(failures)


def test_login_page_passes_axe(demo_project, live_server, page):
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/login/")
        assert not _serious_violations(page)
