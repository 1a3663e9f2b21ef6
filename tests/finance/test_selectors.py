import datetime
from decimal import Decimal

import pytest

from finance.models import Budget, CostCategory, EUPayment
from finance.rules import eu_share_due, rule_checks
from finance.selectors import MoneyRow, budget_contract, budget_flexibility, finance_overview, pre_financing
from tests.factories import (
    ActivityFactory,
    BudgetFactory,
    BudgetLineFactory,
    CostCategoryFactory,
    ExpenditureFactory,
    PartnerFactory,
    ProjectFactory,
    UserFactory,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _budget(**fields):
    return Budget(
        total_eligible_cost=D("10000.00"),
        eu_contribution=D("8000.00"),
        **fields,
    )


def _heading(code, kind=CostCategory.Kind.DIRECT, budget="0", verified="0"):
    return MoneyRow(key=code, label=str(code), budget=D(budget), verified=D(verified), kind=kind)


def _check(checks, title):
    return next(c for c in checks if c.title == title)


@pytest.mark.parametrize(("indirect", "ok"), [("69.99", True), ("70.00", True), ("70.01", False)])
def test_indirect_costs_at_most_seven_percent_of_direct(indirect, ok):
    headings = [
        _heading(1, budget="1000", verified="1000.00"),
        _heading(8, CostCategory.Kind.INDIRECT, budget="70", verified=indirect),
    ]
    check = _check(rule_checks(budget=_budget(), headings=headings), "Indirect costs verified")
    assert check.ok is ok
    assert ("over the cap" in check.verdict) is not ok
    assert "EUR 1,000.00" in check.figures


@pytest.mark.parametrize(("contingency", "ok"), [("49.99", True), ("50.00", True), ("50.01", False)])
def test_contingency_reserve_at_most_five_percent_of_direct_costs(contingency, ok):
    headings = [_heading(1, budget="1000.00"), _heading(7, CostCategory.Kind.CONTINGENCY, budget=contingency)]
    assert _check(rule_checks(budget=_budget(), headings=headings), "Contingency reserve").ok is ok


@pytest.mark.parametrize(("eu", "ok"), [("7999.99", True), ("8000.00", True), ("8000.01", False)])
def test_co_financing_rate(eu, ok):
    budget = Budget(total_eligible_cost=D("10000.00"), eu_contribution=D(eu))
    assert _check(rule_checks(budget=budget, headings=[]), "Co-financing rate").ok is ok


def test_eu_share_is_its_rate_of_eligible_costs_and_never_more_than_its_contribution():
    budget = _budget()
    assert eu_share_due([_heading(1, verified="1000.00")], budget) == D("800.00")
    # Indirect costs count only up to 7 % of direct ones.
    headings = [_heading(1, verified="1000.00"), _heading(8, CostCategory.Kind.INDIRECT, verified="100.00")]
    assert eu_share_due(headings, budget) == D("856.00")
    assert eu_share_due([_heading(1, verified="20000.00")], budget) == D("8000.00")


def _tranches(project, *amounts):
    for number, amount in enumerate(amounts, start=1):
        EUPayment.objects.create(
            project=project, number=number, received_on=datetime.date(2026, 2, 1), amount=D(amount)
        )


def test_pre_financing_reads_the_projects_tranches_in_order():
    project = ProjectFactory()
    budget = BudgetFactory(project=project, eu_contribution=D("8000.00"), total_eligible_cost=D("10000.00"))
    _tranches(project, "1000.00", "2000.00")
    _tranches(ProjectFactory(), "5000.00")
    status = pre_financing(project=project, budget=budget, used=D("1699.99"))
    # Needed: 1,000.00 + 70 % of 2,000.00 = 2,400.00; 700.01 short; 7,200.00 - 3,000.00 = 4,200.00 left.
    assert (status.needed_for_next, status.shortfall, status.requestable) == (
        D("2400.00"),
        D("700.01"),
        D("3499.99"),
    )
    planned = pre_financing(project=project, budget=budget, used=D("1699.99"), planned=D("1000.00"))
    assert planned.requestable == D("299.99")


def test_overview_sums_budget_declared_and_verified_by_heading_partner_and_activity():
    project = ProjectFactory()
    budget = BudgetFactory(project=project, total_eligible_cost=D("3000.00"), eu_contribution=D("2400.00"))
    staff_heading = CostCategoryFactory(code=1, name="Human resources")
    travel = CostCategoryFactory(code=2, name="Travel")
    north, south = PartnerFactory(project=project), PartnerFactory(project=project)
    activity = ActivityFactory(project=project, number=1)
    BudgetLineFactory(budget=budget, partner=north, category=staff_heading, amount=D("1000.00"), activity=activity)
    BudgetLineFactory(budget=budget, partner=south, category=travel, amount=D("2000.00"))
    reviewer = UserFactory()
    for partner, category, amount, status in [
        (north, staff_heading, "100.10", "verified"),
        (north, staff_heading, "50.05", "submitted"),
        (south, travel, "200.20", "verified"),
        (south, travel, "999.99", "draft"),
        (south, travel, "300.00", "rejected"),
    ]:
        ExpenditureFactory(
            partner=partner,
            category=category,
            amount=D(amount),
            amount_eur=D(amount),
            status=status,
            reviewer=reviewer if status in ("verified", "rejected") else None,
            activity=activity if partner == north else None,
        )
    overview = finance_overview(project=project, partner=None, today=datetime.date(2026, 6, 1))
    by_code = {row.key.code: (row.budget, row.declared, row.verified) for row in overview.headings}
    assert by_code == {1: (D("1000.00"), D("150.15"), D("100.10")), 2: (D("2000.00"), D("200.20"), D("200.20"))}
    assert (overview.totals.budget, overview.totals.declared, overview.totals.verified) == (
        D("3000.00"),
        D("350.35"),
        D("300.30"),
    )
    assert overview.eu_share_due == D("240.24")
    assert {row.key: row.verified for row in overview.partners} == {north: D("100.10"), south: D("200.20")}
    assert [(row.key, row.budget, row.verified) for row in overview.activities] == [
        (activity, D("1000.00"), D("100.10")),
        (None, D("2000.00"), D("200.20")),
    ]
    mine = finance_overview(project=project, partner=north, today=datetime.date(2026, 6, 1))
    assert (mine.totals.budget, mine.totals.verified, mine.checks) == (D("1000.00"), D("100.10"), [])


def test_the_contract_is_the_first_approved_version_or_else_the_first():
    project = ProjectFactory()
    first = BudgetFactory(project=project, version=1, is_current=False)
    second = BudgetFactory(project=project, version=2, is_current=False, approved_on=datetime.date(2026, 3, 1))
    BudgetFactory(project=project, version=3, approved_on=datetime.date(2026, 1, 1))
    BudgetFactory(project=ProjectFactory(), version=4, approved_on=datetime.date(2025, 1, 1))
    assert budget_contract(project=project) == second
    second.approved_on = None
    second.save()
    first.approved_on = None
    first.save()
    assert budget_contract(project=project).version == 3
    project.budgets.update(approved_on=None)
    assert budget_contract(project=project) == first


def _flexibility_world():
    """A contract (version 1, approved) and a draft version 2 that moves money between headings."""
    project = ProjectFactory(start_date=datetime.date(2026, 1, 1), duration_months=36)
    staff_heading = CostCategoryFactory(code=1, name="Human resources")
    travel = CostCategoryFactory(code=2, name="Travel")
    indirect = CostCategoryFactory(code=10, name="Indirect costs", kind=CostCategory.Kind.INDIRECT)
    partner = PartnerFactory(project=project)
    contract = BudgetFactory(project=project, version=1, approved_on=datetime.date(2026, 1, 1))
    draft = BudgetFactory(project=project, version=2, is_current=False)
    for budget, amounts in ((contract, ("6000.00", "4000.00", "700.00")), (draft, ("5000.00", "4600.00", "900.00"))):
        for category, amount in zip((staff_heading, travel, indirect), amounts, strict=True):
            BudgetLineFactory(budget=budget, partner=partner, category=category, amount=D(amount))
    for category, amount, status in (
        (staff_heading, "1000.00", "verified"),
        (travel, "450.00", "verified"),
        (travel, "999.00", "submitted"),
        (indirect, "5000.00", "verified"),
    ):
        ExpenditureFactory(
            partner=partner,
            category=category,
            amount=D(amount),
            amount_eur=D(amount),
            status=status,
            reviewer=UserFactory() if status == "verified" else None,
        )
    return project, contract, draft


def test_a_draft_version_and_the_projected_spending_are_compared_with_the_contract():
    project, contract, draft = _flexibility_world()
    # 1 June 2026: the 6th month has started.
    result = budget_flexibility(project=project, budget=draft, today=datetime.date(2026, 6, 1))
    assert (result.contract, result.elapsed_months) == (contract, 6)
    assert result.version.title == "Budget version 2 against the contract (version 1)"
    assert [(c.key.code, c.contract, c.amount, c.change, c.breaches) for c in result.version.changes] == [
        # -1,000.00 is 16.67 % of 6,000.00 (900.00 allowed); +600.00 is 15 % of 4,000.00, allowed.
        (1, D("6000.00"), D("5000.00"), D("-1000.00"), True),
        (2, D("4000.00"), D("4600.00"), D("600.00"), False),
    ]
    assert result.version.check().figures == (
        "1. Human resources: -EUR 1,000.00 (-16.67 %), EUR 100.00 beyond the EUR 900.00 allowed"
    )
    # Verified only: 1,000.00 x 36 / 6 = 6,000.00; 450.00 x 6 = 2,700.00, -32.50 % of 4,000.00.
    projection = result.projection
    assert projection.title == "Spending projected to month 36 against the contract (version 1)"
    assert [(c.amount, c.change, c.change_percent, c.breaches) for c in projection.changes] == [
        (D("6000.00"), D("0.00"), D("0.00"), False),
        (D("2700.00"), D("-1300.00"), D("-32.50"), True),
    ]


def test_nothing_is_projected_before_the_project_starts():
    project, contract, _draft = _flexibility_world()
    result = budget_flexibility(project=project, budget=contract, today=datetime.date(2025, 12, 31))
    assert result.projection is None
    assert result.version.check().ok


def test_the_overview_checks_the_current_version_and_the_projection_against_the_contract():
    project, contract, draft = _flexibility_world()
    contract.is_current = False
    contract.save()
    draft.is_current = True
    draft.save()
    overview = finance_overview(project=project, partner=None, today=datetime.date(2026, 6, 1))
    assert [check.title for check in overview.checks if not check.ok][-2:] == [
        "Budget version 2 against the contract (version 1)",
        "Spending projected to month 36 against the contract (version 1)",
    ]
    assert not any("Heading" in check.title for check in overview.checks)
