import datetime

import pytest

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


def test_report_versions_are_unique_per_period():
    period = ReportingPeriodFactory()
    user = UserFactory()
    ProgressReport.objects.create(period=period, version=1, created_by=user)
    assert_db_refuses(lambda: ProgressReport.objects.create(period=period, version=1, created_by=user))
