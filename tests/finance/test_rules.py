"""The EU rules on figures alone: flexibility against the contract, the projection, pre-financing."""

import datetime
from decimal import Decimal

import pytest

from finance.models import Budget, CostCategory, EUPayment
from finance.rules import FlexibilityComparison, heading_changes, pre_financing_status, projected_spending, rule_checks
from finance.selectors import MoneyRow

D = Decimal
DIRECT, INDIRECT, CONTINGENCY = CostCategory.Kind.DIRECT, CostCategory.Kind.INDIRECT, CostCategory.Kind.CONTINGENCY


def _row(key, budget="0", verified="0", kind=DIRECT):
    return MoneyRow(key=key, label=f"{key}. Heading", budget=D(budget), verified=D(verified), kind=kind)


CONTRACT = [
    _row(1, "10000.00"),
    _row(2, "4000.00"),
    _row(3, "2000.03"),
    _row(4, "500.00"),
    _row(8, "100.00", kind=CONTINGENCY),
    _row(10, "700.00", kind=INDIRECT),
]
PROPOSED = [
    _row(1, "11500.00"),
    # Only draft expenses: nothing on either side.
    _row(6),
    _row(2, "3399.99"),
    _row(3, "2300.04"),
    _row(5, "100.00"),
    _row(8, "1000.00", kind=CONTINGENCY),
    _row(10, "2000.00", kind=INDIRECT),
]


def _changes(contract=CONTRACT, proposed=PROPOSED, threshold="0.15"):
    changes = heading_changes(
        contract=contract, proposed=proposed, amount=lambda row: row.budget, threshold=D(threshold)
    )
    return {change.key: change for change in changes}


def test_each_direct_heading_is_compared_with_the_contract_and_indirect_and_contingency_are_outside():
    changes = _changes()
    assert list(changes) == [1, 2, 3, 4, 5]
    figures = {
        key: (c.contract, c.amount, c.change, c.change_percent, c.allowed, c.breaches, c.excess)
        for key, c in changes.items()
    }
    assert figures == {
        # +1,500.00 is exactly 15 % of 10,000.00: allowed.
        1: (D("10000.00"), D("11500.00"), D("1500.00"), D("15.00"), D("1500.00"), False, D("0.00")),
        # A decrease counts as well: -600.01 is a cent beyond 15 % of 4,000.00.
        2: (D("4000.00"), D("3399.99"), D("-600.01"), D("-15.00"), D("600.00"), True, D("0.01")),
        # 15 % of 2,000.03 is 300.0045: 300.00 is allowed, 300.01 is not.
        3: (D("2000.03"), D("2300.04"), D("300.01"), D("15.00"), D("300.00"), True, D("0.01")),
        # A heading emptied changes by all of it; a new one by all of it, and has no percentage.
        4: (D("500.00"), D("0.00"), D("-500.00"), D("-100.00"), D("75.00"), True, D("425.00")),
        5: (D("0.00"), D("100.00"), D("100.00"), None, D("0.00"), True, D("100.00")),
    }


def test_the_threshold_is_the_contracts():
    assert not _changes(threshold="0.25")[2].breaches
    assert _changes(threshold="0.25")[4].breaches


def test_the_check_names_each_breaching_heading_and_by_how_much():
    comparison = FlexibilityComparison(title="v2", changes=list(_changes().values()), threshold=D("0.15"))
    check = comparison.check()
    assert (check.ok, check.verdict) == (False, "addendum needed")
    assert check.figures == (
        "2. Heading: -EUR 600.01 (-15.00 %), EUR 0.01 beyond the EUR 600.00 allowed; "
        "3. Heading: +EUR 300.01 (+15.00 %), EUR 0.01 beyond the EUR 300.00 allowed; "
        "4. Heading: -EUR 500.00 (-100.00 %), EUR 425.00 beyond the EUR 75.00 allowed; "
        "5. Heading: +EUR 100.00 (new heading), EUR 100.00 beyond the EUR 0.00 allowed"
    )
    within = FlexibilityComparison(title="v1", changes=[_changes()[1]], threshold=D("0.15"))
    assert within.check().ok and within.check().figures == (
        "each direct heading within 15 % of its amount in the contract"
    )


def test_rule_checks_no_longer_compare_verified_costs_with_the_budget_heading_by_heading():
    budget = Budget(total_eligible_cost=D("10000.00"), eu_contribution=D("8000.00"))
    checks = rule_checks(budget=budget, headings=[_row(2, "1000.00", verified="5000.00")])
    assert [c.title for c in checks] == [
        "Indirect costs in the budget",
        "Indirect costs verified",
        "Contingency reserve",
        "Co-financing rate",
        "Budget lines add up to the total",
    ]
    comparison = FlexibilityComparison(title="v2", changes=[_changes()[2]], threshold=D("0.15"))
    assert rule_checks(budget=budget, headings=[], flexibility=[comparison])[-1].title == "v2"


@pytest.mark.parametrize(
    ("verified", "elapsed", "projected"),
    [
        # 1,234.56 x 36 / 7 = 6,349.1657…
        ("1234.56", 7, "6349.17"),
        ("1234.56", 36, "1234.56"),
        # After the end the months are the duration: what was verified is the end figure.
        ("1234.56", 40, "1234.56"),
        ("0.00", 12, "0.00"),
    ],
)
def test_spending_is_projected_linearly_by_the_months_started(verified, elapsed, projected):
    assert projected_spending(D(verified), elapsed_months=elapsed, duration_months=36) == D(projected)


def test_a_projection_shows_underspending_as_well():
    contract = [_row(1, "36000.00")]
    # 9,000.00 verified in 12 of 36 months: 27,000.00 at the end, 25 % under the contract.
    spending = [_row(1, verified="9000.00")]
    change = heading_changes(
        contract=contract,
        proposed=spending,
        amount=lambda row: projected_spending(row.verified, elapsed_months=12, duration_months=36),
        threshold=D("0.15"),
    )[0]
    assert (change.amount, change.change, change.change_percent, change.excess) == (
        D("27000.00"),
        D("-9000.00"),
        D("-25.00"),
        D("3600.00"),
    )


def _payments(*amounts):
    return [
        EUPayment(number=number, received_on=datetime.date(2026, 2, 1), amount=D(amount))
        for number, amount in enumerate(amounts, start=1)
    ]


BUDGET = Budget(total_eligible_cost=D("10000.00"), eu_contribution=D("8000.00"))


@pytest.mark.parametrize(
    ("used", "planned", "shortfall", "requestable"),
    [
        # Received 3,000.00 of a cap of 7,200.00; needed 1,000.00 + 70 % of 2,000.00 = 2,400.00.
        ("2400.00", None, "0.00", "4200.00"),
        ("3000.00", None, "0.00", "4200.00"),
        # 2,400.00 - 1,650.35 = 749.65 short: the tranche is cut by that much.
        ("1650.35", None, "749.65", "3450.35"),
        ("1650.35", "2500.00", "749.65", "1750.35"),
        # A planned tranche never takes pre-financing past the cap.
        ("2400.00", "5000.00", "0.00", "4200.00"),
        # Nothing used: a cut larger than the tranche leaves nothing to request.
        ("0.00", "500.00", "2400.00", "0.00"),
        ("2399.99", "0.01", "0.01", "0.00"),
    ],
)
def test_the_next_tranche_is_reduced_by_the_shortfall_and_capped(used, planned, shortfall, requestable):
    status = pre_financing_status(
        payments=_payments("1000.00", "2000.00"),
        budget=BUDGET,
        used=D(used),
        planned=D(planned) if planned else None,
    )
    assert (status.received, status.cap, status.room, status.needed_for_next) == (
        D("3000.00"),
        D("7200.00"),
        D("4200.00"),
        D("2400.00"),
    )
    assert (status.shortfall, status.requestable) == (D(shortfall), D(requestable))


def test_seventy_percent_of_a_tranche_is_rounded_to_the_cent():
    status = pre_financing_status(payments=_payments("1000.01"), budget=BUDGET, used=D("500.00"))
    # 70 % of 1,000.01 is 700.007: 700.01 needed, 200.01 short, 7,200.00 - 1,000.01 = 6,199.99 left.
    assert (status.needed_for_next, status.shortfall, status.room, status.requestable) == (
        D("700.01"),
        D("200.01"),
        D("6199.99"),
        D("5999.98"),
    )


def test_before_the_first_tranche_nothing_reduces_it():
    status = pre_financing_status(payments=[], budget=BUDGET, used=D("0.00"))
    assert (status.needed_for_next, status.shortfall, status.requestable) == (None, D("0.00"), D("7200.00"))


def test_nothing_more_once_the_cap_is_reached():
    status = pre_financing_status(payments=_payments("7200.00"), budget=BUDGET, used=D("8000.00"))
    assert (status.room, status.shortfall, status.requestable) == (D("0.00"), D("0.00"), D("0.00"))
