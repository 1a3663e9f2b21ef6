import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from reports import services
from reports.models import ProgressReport
from reports.selectors import reporting_period_list_with_reports
from tests.factories import sal_approve

D = datetime.date
pytestmark = pytest.mark.django_db
SEPTEMBER = D(2026, 9, 1)


def test_a_period_not_ended_is_not_prepared_unless_a_draft_is_chosen(sal_world):
    with pytest.raises(ValidationError) as refusal:
        services.progress_report_create(
            actor=sal_world.director, period=sal_world.period2, language="en", today=D(2026, 12, 31)
        )
    assert refusal.value.messages == [
        "The period of SAL 2 ends on 31/12/2026: the SAL is prepared after that. To see its figures so far, "
        "start a draft before the end, which is marked as such."
    ]
    assert not ProgressReport.objects.exists()
    draft = services.progress_report_create(
        actor=sal_world.director, period=sal_world.period2, language="en", before_period_end=True, today=D(2026, 9, 1)
    )
    assert draft.before_period_end


def test_an_early_draft_is_approved_only_after_the_period_and_then_loses_its_mark(
    sal_world, django_capture_on_commit_callbacks
):
    draft = services.progress_report_create(
        actor=sal_world.director, period=sal_world.period2, language="en", before_period_end=True, today=D(2026, 9, 1)
    )
    with pytest.raises(ValidationError, match="the SAL can be approved only after that"):
        sal_approve(actor=sal_world.director, report=draft, revision=draft.revision, today=D(2026, 12, 31))
    draft.refresh_from_db()
    assert draft.status == ProgressReport.Status.DRAFT and draft.before_period_end
    with django_capture_on_commit_callbacks(execute=True):
        approved = sal_approve(actor=sal_world.director, report=draft, revision=draft.revision, today=D(2027, 1, 1))
    assert approved.status == ProgressReport.Status.APPROVED and not approved.before_period_end


def test_an_ended_period_needs_no_choice(sal_world):
    report = services.progress_report_create(
        actor=sal_world.director, period=sal_world.period1, language="en", before_period_end=True, today=D(2026, 7, 1)
    )
    assert not report.before_period_end


def test_the_list_and_the_page_mark_the_early_draft(client, sal_world):
    if timezone.localdate() > sal_world.period2.end:
        pytest.skip("SAL 2's period has ended by now")
    client.force_login(sal_world.director)
    page = client.get(reverse("reports:report-list")).content.decode()
    assert 'name="before_period_end"' in page and "Draft before the end" in page
    # Without the choice, the running period is refused and nothing is made.
    response = client.post(reverse("reports:report-create", args=[2]), {"language": "en"}, follow=True)
    assert "the SAL is prepared after that" in response.content.decode()
    assert not ProgressReport.objects.exists()
    response = client.post(
        reverse("reports:report-create", args=[2]), {"language": "en", "before_period_end": "on"}, follow=True
    )
    assert 'id="early-mark"' in response.content.decode()
    assert "DRAFT – period not ended" in client.get(reverse("reports:report-list")).content.decode()


def test_overdue_periods_are_flagged_and_new_version_is_the_quiet_button(client, sal_world):
    periods = reporting_period_list_with_reports(
        user=sal_world.director, project=sal_world.project, today=D(2026, 9, 1)
    )
    assert [(p.number, p.ended, p.overdue) for p in periods] == [(1, True, True), (2, False, False)]
    services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="en")
    periods = reporting_period_list_with_reports(
        user=sal_world.director, project=sal_world.project, today=D(2026, 9, 1)
    )
    # A draft is not an approved SAL: still overdue.
    assert periods[0].overdue
    client.force_login(sal_world.director)
    page = client.get(reverse("reports:report-list")).content.decode()
    assert 'class="btn btn-sm btn-link">New version' in page
    if timezone.localdate() > sal_world.period1.due_date:
        assert "overdue" in page


def test_approval_asks_for_confirmation_first(client, sal_world, django_capture_on_commit_callbacks):
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="en")
    url = reverse("reports:report-approve", args=[draft.pk])
    client.force_login(sal_world.observer)
    # Observers do not see drafts at all.
    assert client.post(url, {"revision": draft.revision}).status_code == 404
    client.force_login(sal_world.director)
    response = client.post(url, {"revision": draft.revision})
    assert response.status_code == 200
    assert "Yes, approve and freeze" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == ProgressReport.Status.DRAFT
    category = sal_world.budget.lines.first().category_id
    draft = services.progress_report_financial_update(
        actor=sal_world.director, report=draft, revision=draft.revision, explanations={category: "Assunzioni a marzo."}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"revision": draft.revision, "confirmed": "on"})
    assert response.url == reverse("reports:report-detail", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.status == ProgressReport.Status.APPROVED
