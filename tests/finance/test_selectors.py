import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from finance.annex import annex_lines
from finance.models import Budget, CostCategory, EUPayment, Expenditure
from finance.rules import eu_share_due, indirect_flat_rate, rule_checks
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
        _heading(10, CostCategory.Kind.INDIRECT, budget="70", verified=indirect),
    ]
    check = _check(rule_checks(budget=_budget(), headings=headings), "Indirect costs verified")
    assert check.ok is ok
    assert ("over the cap" in check.verdict) is not ok
    assert "EUR 1,000.00" in check.figures


@pytest.mark.parametrize(("contingency", "ok"), [("49.99", True), ("50.00", True), ("50.01", False)])
def test_contingency_reserve_at_most_five_percent_of_direct_costs(contingency, ok):
    headings = [_heading(1, budget="1000.00"), _heading(8, CostCategory.Kind.CONTINGENCY, budget=contingency)]
    assert _check(rule_checks(budget=_budget(), headings=headings), "Contingency reserve").ok is ok


@pytest.mark.parametrize(("eu", "ok"), [("7999.99", True), ("8000.00", True), ("8000.01", False)])
def test_co_financing_rate(eu, ok):
    budget = Budget(total_eligible_cost=D("10000.00"), eu_contribution=D(eu))
    assert _check(rule_checks(budget=budget, headings=[]), "Co-financing rate").ok is ok


def test_eu_share_is_its_rate_of_eligible_costs_and_never_more_than_its_contribution():
    budget = _budget()
    assert eu_share_due([_heading(1, verified="1000.00")], budget) == D("800.00")
    # The indirect row holds its flat rate already (7 % of 1,000.00): 80 % of 1,070.00.
    headings = [_heading(1, verified="1000.00"), _heading(10, CostCategory.Kind.INDIRECT, verified="70.00")]
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


@pytest.fixture
def flat_rate_world():
    """Two partners with direct, contingency and indirect lines, and expenses of every kind and status."""
    project = ProjectFactory()
    budget = BudgetFactory(project=project, total_eligible_cost=D("20000.00"), eu_contribution=D("16000.00"))
    staff = CostCategoryFactory(code=1, name="Human resources")
    contingency = CostCategoryFactory(code=8, name="Contingency reserve", kind=CostCategory.Kind.CONTINGENCY)
    indirect = CostCategoryFactory(code=10, name="Indirect costs", kind=CostCategory.Kind.INDIRECT)
    north, south = PartnerFactory(project=project), PartnerFactory(project=project)
    activity = ActivityFactory(project=project, number=1)
    for partner, category, amount, line_activity in [
        (north, staff, "10000.00", activity),
        (north, contingency, "400.00", None),
        (north, indirect, "500.00", None),
        (south, staff, "8000.00", None),
        (south, indirect, "560.00", None),
    ]:
        BudgetLineFactory(budget=budget, partner=partner, category=category, amount=D(amount), activity=line_activity)
    reviewer = UserFactory()
    for partner, category, amount, status in [
        (north, staff, "1000.00", "verified"),
        (north, contingency, "234.56", "verified"),
        (north, staff, "10.00", "submitted"),
        (south, staff, "9000.00", "verified"),
        (south, staff, "100.00", "submitted"),
        # Declared as an expense before indirect costs became a flat rate: it never counts.
        (north, indirect, "999.99", "verified"),
    ]:
        ExpenditureFactory(
            partner=partner,
            category=category,
            amount=D(amount),
            amount_eur=D(amount),
            status=status,
            reviewer=reviewer if status == "verified" else None,
            activity=activity if category == staff and partner == north else None,
        )
    return SimpleNamespace(project=project, budget=budget, north=north, south=south, activity=activity)


def test_indirect_costs_are_the_flat_rate_of_each_partners_direct_eligible_costs_within_its_line(flat_rate_world):
    world = flat_rate_world
    overview = finance_overview(project=world.project, partner=None, today=datetime.date(2026, 6, 1))
    # North: 7 % of 1,000.00 + 234.56 = 86.4192, rounded down 86.41 (its line allows 500.00); declared, of
    # 1,244.56: 87.1192, 87.11. South: 7 % of 9,000.00 = 630.00, capped by its line at 560.00, declared too.
    [indirect] = [row for row in overview.headings if row.kind == CostCategory.Kind.INDIRECT]
    assert (indirect.budget, indirect.declared, indirect.verified) == (D("1060.00"), D("647.11"), D("646.41"))
    assert [(row.line, row.is_subtotal, row.budget, row.verified) for row in overview.annex] == [
        (1, False, D("18000.00"), D("10000.00")),
        (7, True, D("18000.00"), D("10000.00")),
        (8, False, D("400.00"), D("234.56")),
        (9, True, D("18400.00"), D("10234.56")),
        (10, False, D("1060.00"), D("646.41")),
        (11, True, D("19460.00"), D("10880.97")),
    ]
    assert overview.totals.verified == D("10880.97")
    # 80 % of 10,880.97 = 8,704.776.
    assert overview.eu_share_due == overview.pre_financing.used == D("8704.78")
    assert {row.key: row.verified for row in overview.partners} == {
        world.north: D("1320.97"),
        world.south: D("9560.00"),
    }
    assert [(row.key, row.budget, row.verified) for row in overview.activities] == [
        (world.activity, D("10000.00"), D("1000.00")),
        (None, D("8400.00"), D("9234.56")),
        (CostCategory.Kind.INDIRECT, D("1060.00"), D("646.41")),
    ]


def test_the_partner_by_heading_table_holds_each_partners_flat_rate_under_indirect_costs(flat_rate_world):
    world = flat_rate_world
    overview = finance_overview(project=world.project, partner=None, today=datetime.date(2026, 6, 1))
    cells = {row.partner.key: [(cell.budget, cell.verified) for cell in row.cells] for row in overview.partner_headings}
    # Columns: 1. Human resources, 8. Contingency reserve, 10. Indirect costs. North's indirect expense of 999.99
    # counts nowhere; the flat rates are those of the test above.
    assert cells == {
        world.north: [(D("10000.00"), D("1000.00")), (D("400.00"), D("234.56")), (D("500.00"), D("86.41"))],
        world.south: [(D("8000.00"), D("9000.00")), (D("0.00"), D("0.00")), (D("560.00"), D("560.00"))],
    }
    for row in overview.partner_headings:
        assert sum(cell.verified for cell in row.cells) == row.partner.verified
    for index, heading in enumerate(overview.headings):
        assert sum(row.cells[index].verified for row in overview.partner_headings) == heading.verified


def test_a_partner_sees_its_own_flat_rate_and_eu_share(flat_rate_world):
    world = flat_rate_world
    mine = finance_overview(project=world.project, partner=world.north, today=datetime.date(2026, 6, 1))
    assert (mine.totals.budget, mine.totals.verified) == (D("10900.00"), D("1320.97"))
    # 80 % of 1,320.97 = 1,056.776.
    assert mine.eu_share_due == D("1056.78")


def test_the_eu_share_stays_within_the_contribution_with_the_flat_rate(flat_rate_world):
    world = flat_rate_world
    Budget.objects.filter(pk=world.budget.pk).update(eu_contribution=D("8000.00"))
    overview = finance_overview(project=world.project, partner=None, today=datetime.date(2026, 6, 1))
    assert overview.eu_share_due == D("8000.00")


@pytest.mark.parametrize(
    ("direct", "ceiling", "indirect"),
    [
        ("1000.00", "500.00", "70.00"),
        ("0.50", "1.00", "0.03"),
        ("1234.56", "86.41", "86.41"),
        ("9000.00", "560.00", "560.00"),
    ],
)
def test_the_flat_rate_is_rounded_down_and_capped_by_the_line(direct, ceiling, indirect):
    # 7 % of 0.50 is 0.035: two partners rounded up would make 0.08, over 7 % of their 1.00.
    assert indirect_flat_rate(D(direct), rate=D("0.07"), ceiling=D(ceiling)) == D(indirect)


def test_taxes_where_eligible_come_after_line_11_with_the_total_accepted_costs():
    rows = [
        MoneyRow(key=1, label="1", budget=D("1000.00"), verified=D("100.00"), kind="direct", line=1),
        MoneyRow(key=10, label="10", budget=D("70.00"), verified=D("7.00"), kind="indirect", line=10),
        MoneyRow(key=12, label="12", budget=D("30.00"), verified=D("3.00"), kind="taxes", line=12),
    ]
    lines = annex_lines(rows)
    assert [(row.line, row.is_subtotal, row.budget, row.verified) for row in lines] == [
        (1, False, D("1000.00"), D("100.00")),
        (7, True, D("1000.00"), D("100.00")),
        (9, True, D("1000.00"), D("100.00")),
        (10, False, D("70.00"), D("7.00")),
        (11, True, D("1070.00"), D("107.00")),
        (12, False, D("30.00"), D("3.00")),
        (13, True, D("1100.00"), D("110.00")),
    ]
    assert eu_share_due(rows, _budget()) == D("88.00")


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


def test_verified_costs_are_summed_by_the_month_they_were_incurred_in():
    from finance.selectors import expense_sums, verified_by_month

    project = ProjectFactory(start_date=datetime.date(2026, 11, 1))
    partner = PartnerFactory(project=project)
    reviewer = UserFactory()
    for day, amount, status in (
        (datetime.date(2026, 11, 1), "10.00", "verified"),
        (datetime.date(2026, 11, 30), "20.00", "verified"),
        (datetime.date(2026, 12, 31), "40.00", "verified"),
        (datetime.date(2027, 1, 15), "80.00", "verified"),
        (datetime.date(2027, 1, 16), "160.00", "submitted"),
        (datetime.date(2027, 1, 17), "320.00", "rejected"),
        (datetime.date(2027, 1, 18), "640.00", "draft"),
    ):
        ExpenditureFactory(
            partner=partner,
            date_incurred=day,
            amount=D(amount),
            amount_eur=D(amount),
            status=status,
            reviewer=None if status in ("draft", "submitted") else reviewer,
        )
    sums = expense_sums(Expenditure.objects.for_project(project))
    # The month is that of the day incurred, across the year's end; only verified costs are verified.
    assert verified_by_month(project=project, expenses=sums, months=4) == [D("30.00"), D("40.00"), D("80.00"), 0]
    assert sums.by(lambda group: group[4]) == {
        datetime.date(2026, 11, 1): (D("30.00"), D("30.00"), 0, 0),
        datetime.date(2026, 12, 1): (D("40.00"), D("40.00"), 0, 0),
        # Submitted costs are declared; rejected ones and drafts count nowhere.
        datetime.date(2027, 1, 1): (D("240.00"), D("80.00"), 0, 0),
    }


def test_on_postgresql_the_sums_read_the_index_of_submitted_and_verified_expenses_alone():
    from finance.selectors import expense_sums

    if connection.vendor != "postgresql":
        pytest.skip("SQLite cannot match the statuses sent as parameters with the index's condition")
    project = ProjectFactory()
    for status in ("verified", "submitted", "draft"):
        ExpenditureFactory(
            partner__project=project, status=status, reviewer=UserFactory() if status == "verified" else None
        )
    with CaptureQueriesContext(connection) as queries:
        expense_sums(Expenditure.objects.for_project(project))
    sums = next(query["sql"] for query in queries if "SUM(" in query["sql"])
    with connection.cursor() as cursor:
        # On three rows every plan is cheap: without the table scans the plan shows which index the query fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sums)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using expenditure_declared_sums_idx" in plan, plan
