import datetime

import pytest
from django.utils import timezone, translation

from core.validators import SAL_SUMMARY_MAX_CHARS
from reports.models import ProgressReport
from tests.constraints import assert_db_refuses, assert_invalid
from tests.factories import ProjectFactory, ReportingPeriodFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_reporting_period_ends_after_it_starts_and_is_due_after_it_ends():
    assert_db_refuses(lambda: ReportingPeriodFactory(start=datetime.date(2026, 6, 1), end=datetime.date(2026, 5, 31)))
    assert_db_refuses(lambda: ReportingPeriodFactory(due_date=datetime.date(2026, 6, 1)))


def test_reporting_period_numbers_are_unique():
    period = ReportingPeriodFactory(number=1)
    assert_db_refuses(lambda: ReportingPeriodFactory(project=period.project, number=1))


def test_reporting_period_falls_inside_the_project():
    period = ReportingPeriodFactory.build(
        project=ProjectFactory(),
        number=7,
        start=datetime.date(2028, 7, 1),
        end=datetime.date(2029, 1, 31),
        due_date=datetime.date(2029, 3, 1),
    )
    assert_invalid(period, message="inside the project")


def test_approved_report_must_be_frozen():
    period = ReportingPeriodFactory()
    assert_db_refuses(
        lambda: ProgressReport.objects.create(
            period=period, status=ProgressReport.Status.APPROVED, created_by=UserFactory()
        )
    )


def _approved(period, user, version=1, **fields):
    return ProgressReport.objects.create(
        period=period,
        version=version,
        created_by=user,
        status=ProgressReport.Status.APPROVED,
        snapshot={"schema": 1},
        approved_by=user,
        approved_at=timezone.now(),
        **fields,
    )


def test_report_versions_are_unique_per_period():
    period = ReportingPeriodFactory()
    user = UserFactory()
    _approved(period, user)
    assert_db_refuses(lambda: ProgressReport.objects.create(period=period, version=1, created_by=user))


def test_a_period_has_one_draft_at_a_time():
    period = ReportingPeriodFactory()
    user = UserFactory()
    ProgressReport.objects.create(period=period, version=1, created_by=user)
    assert_db_refuses(lambda: ProgressReport.objects.create(period=period, version=2, created_by=user))


def test_a_draft_has_no_pdf():
    period = ReportingPeriodFactory()
    assert_db_refuses(
        lambda: ProgressReport.objects.create(
            period=period, created_by=UserFactory(), pdf="sal/x.pdf", pdf_sha256="a" * 64, pdf_status="ready"
        )
    )


def test_a_ready_pdf_has_its_file_and_hash():
    period = ReportingPeriodFactory()
    assert_db_refuses(lambda: _approved(period, UserFactory(), pdf_status="ready", pdf="sal/x.pdf"))
    assert_db_refuses(lambda: _approved(period, UserFactory(), pdf_status="ready", pdf_sha256="a" * 64))


def test_a_report_language_is_one_of_the_portal_languages():
    assert_db_refuses(
        lambda: ProgressReport.objects.create(period=ReportingPeriodFactory(), created_by=UserFactory(), language="fr")
    )


def test_the_database_refuses_an_over_long_summary():
    report = ProgressReport.objects.create(period=ReportingPeriodFactory(), created_by=UserFactory())
    reports = ProgressReport.objects.filter(pk=report.pk)
    assert_db_refuses(lambda: reports.update(summary="x" * (SAL_SUMMARY_MAX_CHARS + 1)))
    reports.update(summary="x" * SAL_SUMMARY_MAX_CHARS)
    report.refresh_from_db()
    report.summary += "x"
    assert_invalid(report, "summary", "at most 20,000 are allowed")


@pytest.mark.parametrize(
    ("language", "name"),
    [
        ("it", "SAL 1 (01/01/2026 – 30/06/2026)"),
        ("pt", "SAL 1 (01/01/2026 – 30/06/2026)"),
        ("en", "SAL 1 (01/01/2026 – 30/06/2026)"),
    ],
)
def test_a_period_is_named_with_dates_as_the_reader_writes_them(language, name):
    period = ReportingPeriodFactory.build(number=1)
    with translation.override(language):
        assert str(period) == name
