import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from activities.models import Evidence, IndicatorValue
from core.models import Notification
from finance.models import EUPayment, Receipt
from partners.models import GoverningBody, Partner
from reports.models import ProgressReport, ReportedExpenditure
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    BudgetFactory,
    BudgetLineFactory,
    CostCategoryFactory,
    ExchangeRateFactory,
    ExpenditureFactory,
    IndicatorFactory,
    PartnerFactory,
    ProgressEntryFactory,
    ProjectFactory,
    ReportingPeriodFactory,
    UserFactory,
    director_of,
    observer_of,
    staff_of,
)
from tests.files import PDF, upload


@pytest.fixture
def portal(db):
    """A small COCAP with a record of every kind the pages and the admin show, and a user of every role."""
    project = ProjectFactory(code="cocap")
    lead = PartnerFactory(project=project, role=Partner.Role.LEAD, currency="EUR")
    sanjuan = PartnerFactory(project=project, currency="ARS")
    GoverningBody.objects.create(project=project, name="Steering committee", kind=GoverningBody.Kind.COMMITTEE)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    director, observer = director_of(project), observer_of(project)
    staff, staff_sanjuan = staff_of(lead), staff_of(sanjuan)
    category = CostCategoryFactory(code=2, name="Travel")
    BudgetFactory(project=project, version=1, is_current=False)
    budget = BudgetFactory(project=project, version=2)
    BudgetLineFactory(budget=budget, partner=lead, category=category)
    ExchangeRateFactory(currency="ARS", month=datetime.date(2026, 3, 1), rate=Decimal("1000"))
    activity = ActivityFactory(project=project, number=1, leader=lead)
    action = ActionFactory(activity=activity, number=1, responsible=lead)
    indicator = IndicatorFactory(activity=activity)
    entry = ProgressEntryFactory(action=action, partner=lead, author=staff)
    IndicatorValue.objects.create(entry=entry, indicator=indicator, value=Decimal("3"))
    submitted_entry = ProgressEntryFactory(action=action, partner=lead, author=staff, status="submitted")
    evidence = Evidence.objects.create(
        entry=entry, original_name="report.pdf", content_type="application/pdf", size=len(PDF), uploaded_by=staff
    )
    evidence.file.save("report.pdf", upload().file)
    expense = ExpenditureFactory(partner=lead, category=category, activity=activity, author=staff)
    submitted_expense = ExpenditureFactory(partner=lead, category=category, author=staff, status="submitted")
    receipt = Receipt.objects.create(
        expenditure=expense, original_name="taxi.pdf", content_type="application/pdf", size=len(PDF), uploaded_by=staff
    )
    receipt.file.save("taxi.pdf", upload("taxi.pdf").file)
    EUPayment.objects.create(project=project, number=1, received_on=datetime.date(2026, 2, 1), amount=Decimal("1000"))
    period = ReportingPeriodFactory(project=project, number=1)
    ReportingPeriodFactory(
        project=project,
        number=2,
        start=datetime.date(2026, 7, 1),
        end=datetime.date(2026, 12, 31),
        due_date=datetime.date(2027, 2, 28),
    )
    report = ProgressReport.objects.create(period=period, version=1, language="en", created_by=director)
    # An approved version that reports a verified expense, for the admin's pages of what SALs reported.
    approved_report = ProgressReport.objects.create(
        period=period,
        version=2,
        language="en",
        created_by=director,
        status=ProgressReport.Status.APPROVED,
        snapshot={"schema": 2},
        approved_by=director,
        approved_at=timezone.now(),
    )
    verified_expense = ExpenditureFactory(
        partner=lead, category=category, author=staff, status="verified", reviewer=director
    )
    ReportedExpenditure.objects.create(report=approved_report, expenditure=verified_expense)
    notification = Notification.objects.create(
        recipient=director,
        actor=staff,
        verb=Notification.Verb.SUBMITTED,
        target=submitted_entry,
        summary="Progress on A1.1, 40 %",
        link=f"/progress/{submitted_entry.pk}/",
    )
    # Rows for the admin pages of the libraries' models.
    Group.objects.create(name="Auditors")
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    AccessAttempt.objects.create(username="maria", ip_address="198.51.100.7", user_agent="test", failures_since_start=1)
    AccessFailureLog.objects.create(username="maria", ip_address="198.51.100.7", user_agent="test")
    AccessLog.objects.create(username="root", ip_address="198.51.100.8", user_agent="test")
    DBTaskResult.objects.create(
        task_path="reports.tasks.progress_report_render",
        args_kwargs={"args": [], "kwargs": {"report_id": report.pk}},
        backend_name="default",
        run_after=timezone.now(),
    )
    return SimpleNamespace(
        project=project,
        lead=lead,
        sanjuan=sanjuan,
        admin=admin,
        director=director,
        observer=observer,
        staff=staff,
        staff_sanjuan=staff_sanjuan,
        category=category,
        budget=budget,
        activity=activity,
        action=action,
        indicator=indicator,
        entry=entry,
        submitted_entry=submitted_entry,
        evidence=evidence,
        expense=expense,
        submitted_expense=submitted_expense,
        receipt=receipt,
        period=period,
        report=report,
        device=device,
        notification=notification,
    )
