import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from activities.models import (
    Action,
    Activity,
    Indicator,
    IndicatorMeasurement,
    Objective,
    ProgressEntry,
    Result,
    TargetGroup,
)
from finance.models import Budget, BudgetLine, CostCategory, ExchangeRate, Expenditure, StaffMember
from partners.models import Membership, Organisation, Partner, Project
from reports.models import ReportingPeriod


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("a-long-test-password")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    code = factory.Sequence(lambda n: f"project-{n}")
    title = factory.Sequence(lambda n: f"Project {n}")
    programme = "URB-AL III"
    start_date = datetime.date(2026, 1, 1)
    duration_months = 36


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    short_name = factory.Sequence(lambda n: f"Org{n}")
    country = "AR"
    kind = Organisation.Kind.STATE


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    project = factory.SubFactory(ProjectFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Partner.Role.PARTNER
    currency = "EUR"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    project = factory.LazyAttribute(lambda m: m.partner.project if m.partner else ProjectFactory())
    role = Membership.Role.PARTNER_STAFF
    partner = factory.SubFactory(PartnerFactory)


def staff_of(partner, **kwargs):
    """Return a user who is partner staff of `partner`."""
    return MembershipFactory(partner=partner, project=partner.project, **kwargs).user


def director_of(project, **kwargs):
    return MembershipFactory(project=project, partner=None, role=Membership.Role.DIRECTOR, **kwargs).user


def observer_of(project, **kwargs):
    return MembershipFactory(project=project, partner=None, role=Membership.Role.OBSERVER, **kwargs).user


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Activity {n}")
    start_month = 1
    end_month = 36


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    activity = factory.SubFactory(ActivityFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Action {n}")
    start_month = 1
    end_month = 36


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    activity = factory.SubFactory(ActivityFactory)
    name = factory.Sequence(lambda n: f"Indicator {n}")
    unit = "people"
    target = Decimal("20")
    cumulative = True


class ProgressEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressEntry

    action = factory.SubFactory(ActionFactory)
    partner = factory.SubFactory(PartnerFactory, project=factory.SelfAttribute("..action.activity.project"))
    author = factory.SubFactory(UserFactory)
    date = datetime.date(2026, 3, 1)
    percent_complete = 10
    narrative = "Work in progress."


class CostCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CostCategory
        django_get_or_create = ["code"]

    code = 1
    name = "Human resources"


class BudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Budget

    project = factory.SubFactory(ProjectFactory)
    version = factory.Sequence(lambda n: n + 1)
    is_current = True
    total_eligible_cost = Decimal("1000000.00")
    eu_contribution = Decimal("800000.00")


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLine

    budget = factory.SubFactory(BudgetFactory)
    partner = factory.SubFactory(PartnerFactory, project=factory.SelfAttribute("..budget.project"))
    category = factory.SubFactory(CostCategoryFactory)
    amount = Decimal("1000.00")


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "BRL"
    month = datetime.date(2026, 3, 1)
    rate = Decimal("6.2500")


class ExpenditureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Expenditure

    partner = factory.SubFactory(PartnerFactory)
    category = factory.SubFactory(CostCategoryFactory)
    date_incurred = datetime.date(2026, 3, 10)
    description = "Seminar room"
    amount = Decimal("100.00")
    currency = "EUR"
    exchange_rate = Decimal("1")
    amount_eur = Decimal("100.00")
    author = factory.SubFactory(UserFactory)


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember

    partner = factory.SubFactory(PartnerFactory)
    name = factory.Sequence(lambda n: f"Person {n}")
    function = "Project officer"
    hourly_rate = Decimal("23.45")
    monthly_hours = Decimal("120.00")
    valid_from = datetime.date(2026, 1, 1)


class ReportingPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportingPeriod

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    start = datetime.date(2026, 1, 1)
    end = datetime.date(2026, 6, 30)
    due_date = datetime.date(2026, 8, 29)


def logframe_of(project, *, activity, recorded_by):
    """Give `project` a logframe: an overall and a specific objective, a result with `activity`, indicators,
    a director's measurement and a target group. Return the specific objective's indicator."""
    Objective.objects.create(project=project, kind=Objective.Kind.OVERALL, number=1, text="Coesione sociale")
    specific = Objective.objects.create(project=project, kind=Objective.Kind.SPECIFIC, number=1, text="Reti")
    result = Result.objects.create(objective=specific, number=1, text="Rete attiva")
    Activity.objects.filter(pk=activity.pk).update(result=result)
    indicator = Indicator.objects.create(
        objective=specific, name="Istituzioni in rete", unit="istituzioni", target=Decimal("8"), cumulative=True
    )
    Indicator.objects.create(result=result, name="Incontri", unit="incontri", target=Decimal("6"), cumulative=False)
    IndicatorMeasurement.objects.create(
        indicator=indicator, date=project.start_date, value=Decimal("2"), recorded_by=recorded_by
    )
    TargetGroup.objects.create(project=project, number=1, name="piccole e medie imprese")
    return indicator


def sal_approve(*, actor, report, revision, **kwargs):
    """Approve a SAL as directors do: first explain each heading whose variance needs it, then approve.

    A stale `revision` or an actor who may not approve goes straight to the approval, to be refused there.
    """
    from reports import services
    from reports.models import ProgressReport
    from reports.selectors import progress_report_figures

    current = ProgressReport.objects.get(pk=report.pk)
    if current.status == ProgressReport.Status.DRAFT and current.revision == revision:
        finance = progress_report_figures(current)["finance"] or {}
        needed = {
            variance["category"]: "Explained for the test."
            for variance in finance.get("variances", [])
            if variance["required"] and not variance["explanation"]
        }
        if needed and services.user_can_prepare_report(actor, current.project):
            current = services.progress_report_financial_update(
                actor=actor, report=current, revision=revision, explanations=needed
            )
            report, revision = current, current.revision
    return services.progress_report_approve(actor=actor, report=report, revision=revision, **kwargs)
