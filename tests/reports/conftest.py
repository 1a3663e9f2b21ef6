import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from activities.models import IndicatorValue
from finance.models import CostCategory
from partners.models import Partner
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    BudgetFactory,
    BudgetLineFactory,
    CostCategoryFactory,
    ExpenditureFactory,
    IndicatorFactory,
    PartnerFactory,
    ProgressEntryFactory,
    ProjectFactory,
    ReportingPeriodFactory,
    director_of,
    observer_of,
    staff_of,
)

D = datetime.date


@pytest.fixture
def sal_world(db):
    """A project with figures known by hand: SAL 1 covers January to June 2026, SAL 2 July to December.

    Verified and approved data before, inside and after SAL 1, plus what is still pending.
    """
    project = ProjectFactory(code="cocap", title="Cooperazione COCAP")
    lead = PartnerFactory(
        project=project,
        role=Partner.Role.LEAD,
        organisation__name="Regione del Veneto",
        organisation__short_name="Veneto",
    )
    sanjuan = PartnerFactory(
        project=project, organisation__name="Provincia de San Juan", organisation__short_name="San Juan", currency="ARS"
    )
    director = director_of(project, user__username="direttrice", user__first_name="Ada", user__last_name="Rossi")
    world = SimpleNamespace(
        project=project,
        lead=lead,
        sanjuan=sanjuan,
        director=director,
        observer=observer_of(project),
        staff=staff_of(sanjuan),
    )
    world.period1 = ReportingPeriodFactory(project=project, number=1, start=D(2026, 1, 1), end=D(2026, 6, 30))
    world.period2 = ReportingPeriodFactory(
        project=project, number=2, start=D(2026, 7, 1), end=D(2026, 12, 31), due_date=D(2027, 2, 28)
    )
    activity = ActivityFactory(project=project, number=1, title="Aggiornamento informativo", leader=lead)
    world.action = ActionFactory(activity=activity, number=1, title="Analisi territoriali", start_month=1, end_month=6)
    world.action2 = ActionFactory(
        activity=activity, number=2, title="Valutazione", responsible=sanjuan, start_month=1, end_month=3
    )
    world.indicator = IndicatorFactory(activity=activity, name="Imprenditori formati", unit="persone", target=20)

    def entry(date, percent, status="approved", action=None, narrative="Lavoro svolto.", value=None):
        made = ProgressEntryFactory(
            action=action or world.action,
            partner=lead,
            date=date,
            percent_complete=percent,
            status=status,
            narrative=narrative,
            reviewer=director if status in ("approved", "returned") else None,
        )
        if value is not None:
            IndicatorValue.objects.create(entry=made, indicator=world.indicator, value=value)
        return made

    entry(D(2026, 2, 1), 40, value=5)
    world.highlight = entry(D(2026, 6, 20), 60, narrative="Seminario a San Juan con 12 imprenditori.", value=12)
    entry(D(2026, 7, 5), 90, narrative="Dopo il periodo.", value=20)
    entry(D(2026, 5, 1), 80, status="submitted")
    entry(D(2026, 3, 1), 50, status="returned")
    entry(D(2026, 3, 15), 100, action=world.action2, narrative="")

    direct = CostCategoryFactory(code=1, name="Human resources", kind=CostCategory.Kind.DIRECT)
    indirect = CostCategoryFactory(code=10, name="Indirect costs", kind=CostCategory.Kind.INDIRECT)
    budget = BudgetFactory(
        project=project, version=1, total_eligible_cost=Decimal("10700.00"), eu_contribution=Decimal("8560.00")
    )
    BudgetLineFactory(budget=budget, partner=lead, category=direct, amount=Decimal("6000.00"))
    BudgetLineFactory(budget=budget, partner=sanjuan, category=direct, amount=Decimal("4000.00"))
    BudgetLineFactory(budget=budget, partner=lead, category=indirect, amount=Decimal("700.00"))
    world.budget = budget

    # Indirect costs are no expense: the lead's are 7 % of its verified direct costs, at most its 700.00 line.
    def expense(partner, date, eur, status="verified", category=direct):
        return ExpenditureFactory(
            partner=partner,
            category=category,
            date_incurred=date,
            amount=eur,
            amount_eur=eur,
            status=status,
            reviewer=director if status in ("verified", "returned", "rejected") else None,
        )

    expense(lead, D(2026, 3, 10), Decimal("1000.00"))
    expense(sanjuan, D(2026, 6, 30), Decimal("250.55"))
    expense(lead, D(2026, 7, 1), Decimal("500.00"))
    expense(sanjuan, D(2026, 4, 1), Decimal("300.00"), status="submitted")
    expense(sanjuan, D(2026, 5, 1), Decimal("40.00"), status="returned")
    expense(lead, D(2026, 5, 2), Decimal("999.00"), status="draft")
    expense(lead, D(2026, 5, 3), Decimal("77.00"), status="rejected")
    return world
