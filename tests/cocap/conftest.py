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
from finance import services as finance_services
from finance.models import ContingencyAuthorisation, EUPayment, ProcurementContract, Receipt
from partners.models import GoverningBody, Partner
from reports.models import (
    ContributionActivity,
    HeadingVariance,
    PartnerContribution,
    ProgressReport,
    ReportedExpenditure,
    ReportingPeriod,
    ReportSection,
)
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
    StaffMemberFactory,
    UserFactory,
    director_of,
    logframe_of,
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
    logframe_indicator = logframe_of(project, activity=activity, recorded_by=director)
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
    timesheet = finance_services.timesheet_create(
        actor=staff,
        staff_member=StaffMemberFactory(partner=lead),
        month=datetime.date(2026, 3, 1),
        hours_by_action={action: Decimal("8")},
    )
    ContingencyAuthorisation.objects.create(
        partner=lead,
        amount=Decimal("200.00"),
        reference="AUT-1",
        authorised_on=datetime.date(2026, 2, 1),
        authorised_by="EU Delegation",
    )
    period = ReportingPeriodFactory(project=project, number=1)
    ReportingPeriodFactory(
        project=project,
        number=2,
        start=datetime.date(2026, 7, 1),
        end=datetime.date(2026, 12, 31),
        due_date=datetime.date(2027, 2, 28),
    )
    report = ProgressReport.objects.create(period=period, version=1, language="en", created_by=director)
    contribution = PartnerContribution.objects.create(period=period, partner=lead, author=staff)
    ContributionActivity.objects.create(contribution=contribution, activity=activity, done="Seminari")
    submitted_contribution = PartnerContribution.objects.create(
        period=ReportingPeriod.objects.get(project=project, number=2), partner=lead, author=staff, status="submitted"
    )
    ReportSection.objects.create(report=report, kind=ReportSection.Kind.LESSONS, text="Lessons of the period.")
    HeadingVariance.objects.create(report=report, category=category, explanation="Travel moved to the second year.")
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
    contract = ProcurementContract.objects.create(
        partner=lead,
        reference="VEN-2026-01",
        supplier="Studio Rossi",
        subject="Analisi territoriale",
        amount=Decimal("12500.00"),
        procedure=ProcurementContract.Procedure.NEGOTIATED,
        signed_on=datetime.date(2026, 2, 10),
        author=staff,
    )
    contract.expenses.add(verified_expense)
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
        logframe_indicator=logframe_indicator,
        contribution=contribution,
        submitted_contribution=submitted_contribution,
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
        contract=contract,
        timesheet=timesheet,
        period=period,
        report=report,
        device=device,
        notification=notification,
    )
