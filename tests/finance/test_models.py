import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from core.validators import REVIEW_NOTE_MAX_CHARS
from finance.models import BudgetLine, ContingencyAuthorisation, CostCategory, ExchangeRate, Expenditure
from tests.constraints import assert_db_refuses, assert_invalid
from tests.factories import (
    ActivityFactory,
    BudgetFactory,
    BudgetLineFactory,
    CostCategoryFactory,
    ExchangeRateFactory,
    ExpenditureFactory,
    PartnerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_project_has_one_current_budget():
    budget = BudgetFactory(is_current=True)
    assert_db_refuses(lambda: BudgetFactory(project=budget.project, is_current=True))
    BudgetFactory(project=budget.project, is_current=False)


def test_budget_versions_are_unique():
    budget = BudgetFactory(version=1)
    assert_db_refuses(lambda: BudgetFactory(project=budget.project, version=1, is_current=False))


def test_budget_total_is_positive():
    assert_db_refuses(lambda: BudgetFactory(total_eligible_cost=Decimal("0"), eu_contribution=Decimal("0")))


def test_eu_contribution_stays_within_the_eu_rate():
    BudgetFactory(total_eligible_cost=Decimal("3087005.13"), eu_contribution=Decimal("2469604.10"))
    assert_db_refuses(lambda: BudgetFactory(total_eligible_cost=Decimal("1000.00"), eu_contribution=Decimal("800.01")))
    budget = BudgetFactory.build(
        project=BudgetFactory().project,
        is_current=False,
        total_eligible_cost=Decimal("1000"),
        eu_contribution=Decimal("900"),
    )
    assert_invalid(budget, message="exceeds the EU maximum rate")


@pytest.mark.parametrize("rate", ["eu_max_rate", "indirect_cap", "flexibility_threshold", "contingency_cap"])
def test_budget_rates_lie_between_0_and_1(rate):
    assert_db_refuses(lambda: BudgetFactory(**{rate: Decimal("1.5")}))


def test_budget_line_amount_is_positive():
    assert_db_refuses(lambda: BudgetLineFactory(amount=Decimal("0")))
    assert_db_refuses(lambda: BudgetLineFactory(amount=Decimal("-10")))


def test_budget_line_is_unique_per_partner_heading_and_activity():
    line = BudgetLineFactory()
    assert_db_refuses(
        lambda: BudgetLine.objects.create(
            budget=line.budget, partner=line.partner, category=line.category, amount=Decimal("1")
        )
    )
    activity = ActivityFactory(project=line.budget.project)
    BudgetLine.objects.create(
        budget=line.budget, partner=line.partner, category=line.category, activity=activity, amount=Decimal("1")
    )
    assert_db_refuses(
        lambda: BudgetLine.objects.create(
            budget=line.budget, partner=line.partner, category=line.category, activity=activity, amount=Decimal("2")
        )
    )


def test_budget_line_partner_takes_part_in_the_project():
    line = BudgetLineFactory.build(
        budget=BudgetFactory(), partner=PartnerFactory(), category=BudgetLineFactory().category
    )
    assert_invalid(line, "partner")


def test_exchange_rates_are_positive_monthly_and_unique():
    ExchangeRateFactory(currency="BRL", month=datetime.date(2026, 3, 1))
    assert_db_refuses(lambda: ExchangeRateFactory(currency="BRL", month=datetime.date(2026, 3, 1)))
    assert_db_refuses(lambda: ExchangeRateFactory(currency="ARS", rate=Decimal("0")))
    assert_db_refuses(lambda: ExchangeRateFactory(currency="ARS", month=datetime.date(2026, 3, 2)))
    assert_db_refuses(lambda: ExchangeRateFactory(currency="EUR"))
    assert_invalid(
        ExchangeRate(currency="ARS", month=datetime.date(2026, 4, 15), rate=Decimal("1")), message="first day"
    )


def test_expenditure_amounts_are_positive():
    assert_db_refuses(lambda: ExpenditureFactory(amount=Decimal("0"), amount_eur=Decimal("0")))
    assert_db_refuses(lambda: ExpenditureFactory(amount=Decimal("-5"), amount_eur=Decimal("-5")))


def test_eur_expense_is_not_converted():
    assert_db_refuses(lambda: ExpenditureFactory(currency="EUR", amount=Decimal("100"), amount_eur=Decimal("90")))


def _usd_expense(**rate):
    return ExpenditureFactory.build(
        partner=PartnerFactory(),
        category=CostCategoryFactory(),
        author=UserFactory(),
        currency="USD",
        amount=Decimal("110.00"),
        exchange_rate=Decimal("1.1"),
        amount_eur=Decimal("100.00"),
        **rate,
    )


def test_a_period_average_rate_names_whole_months_in_order(caplog):
    def period(first, last):
        return {"rate_method": "period", "rate_first_month": first, "rate_last_month": last}

    march, april = datetime.date(2026, 3, 1), datetime.date(2026, 4, 1)
    message = "A period-average rate names the first and last months averaged"
    for wrong in (period(datetime.date(2026, 3, 15), april), period(march, datetime.date(2026, 4, 30))):
        assert_invalid(_usd_expense(**wrong), message=message)
        assert_db_refuses(_usd_expense(**wrong).save)
    assert_invalid(_usd_expense(**period(april, march)), message=message)
    assert_invalid(_usd_expense(rate_method="month", rate_first_month=march, rate_last_month=None), message=message)
    _usd_expense(**period(march, april)).full_clean()
    # A month's rate leaves both months empty: PostgreSQL once failed to check that, and Django only logged it.
    _usd_expense(rate_method="month").full_clean()
    assert not [r for r in caplog.records if "database error" in r.getMessage()]


def test_reviewed_expense_has_its_reviewer():
    assert_db_refuses(lambda: ExpenditureFactory(status=Expenditure.Status.VERIFIED, reviewer=None))


def test_expense_date_falls_inside_the_project_period():
    partner = PartnerFactory()
    expense = ExpenditureFactory.build(
        partner=partner,
        category=BudgetLineFactory().category,
        author=UserFactory(),
        date_incurred=datetime.date(2025, 6, 1),
    )
    assert_invalid(expense, "date_incurred", "inside the project period")


def test_the_database_refuses_over_long_review_notes():
    expenses = Expenditure.objects.filter(pk=ExpenditureFactory().pk)
    assert_db_refuses(lambda: expenses.update(review_note="x" * (REVIEW_NOTE_MAX_CHARS + 1)))
    expenses.update(review_note="x" * REVIEW_NOTE_MAX_CHARS)


def test_the_database_keeps_one_expense_per_author_and_form_token():
    token = uuid.uuid4()
    expense = ExpenditureFactory(form_token=token)
    assert_db_refuses(lambda: ExpenditureFactory(author=expense.author, form_token=token))
    ExpenditureFactory(form_token=token)


def test_an_expense_date_in_the_future_is_invalid_and_today_valid():
    today = timezone.localdate()
    partner = PartnerFactory(project__start_date=today - datetime.timedelta(days=400))
    expense = ExpenditureFactory.build(
        partner=partner, category=BudgetLineFactory().category, author=UserFactory(), date_incurred=today
    )
    expense.full_clean()
    expense.date_incurred = today + datetime.timedelta(days=1)
    assert_invalid(expense, "date_incurred", "The date cannot be in the future")


@pytest.mark.parametrize(
    ("code", "kind"), [(7, "direct"), (9, "direct"), (11, "indirect"), (8, "indirect"), (10, "contingency")]
)
def test_a_heading_is_held_on_its_annex_iii_line(code, kind):
    assert_db_refuses(lambda: CostCategory.objects.create(code=code, name="Sum", kind=kind))


def test_an_expense_on_the_indirect_heading_is_invalid_unless_rejected_or_returned():
    indirect = CostCategoryFactory(code=10, name="Indirect costs", kind=CostCategory.Kind.INDIRECT)
    expense = ExpenditureFactory.build(partner=PartnerFactory(), category=indirect, author=UserFactory())
    assert_invalid(expense, "category", "Indirect costs are not declared as expenses")
    expense.status, expense.reviewer = Expenditure.Status.REJECTED, UserFactory()
    expense.full_clean()


def test_a_contingency_authorisation_is_dated_in_the_project_and_not_in_the_future():
    partner = PartnerFactory()
    authorisation = ContingencyAuthorisation(
        partner=partner,
        amount=Decimal("10.00"),
        reference="AUT-1",
        authorised_on=timezone.localdate() + datetime.timedelta(days=1),
        authorised_by="EU Delegation",
    )
    assert_invalid(authorisation, "authorised_on")
    authorisation.authorised_on = partner.project.start_date - datetime.timedelta(days=1)
    assert_invalid(authorisation, "authorised_on", "inside the project period")
    assert_db_refuses(
        lambda: ContingencyAuthorisation.objects.create(
            partner=partner, amount=Decimal("0"), reference="AUT-0", authorised_on=partner.project.start_date
        )
    )
