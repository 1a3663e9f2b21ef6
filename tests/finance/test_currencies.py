"""Expenses in a currency other than their partner's, and the average rate of a reporting period."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from finance import services
from finance.forms import ExpenditureForm
from finance.models import Budget, Expenditure
from partners.models import Partner
from tests.factories import (
    BudgetFactory,
    CostCategoryFactory,
    ExchangeRateFactory,
    ExpenditureFactory,
    PartnerFactory,
    ProjectFactory,
    director_of,
    staff_of,
)

pytestmark = pytest.mark.django_db
D = datetime.date
MARCH = D(2026, 3, 17)
# USD per EUR, January to June 2026. Their sum is 6.497583; a sixth of it, 1.0829305, is rounded half-up to
# 1.082931 (half-even would give 1.082930).
USD_RATES = ["1.081234", "1.085678", "1.090111", "1.075555", "1.070002", "1.095003"]


@pytest.fixture
def project():
    """COCAP-like: the lead in EUR (Veneto), San Juan in ARS, Rio Grande do Sul in BRL."""
    project = ProjectFactory()
    PartnerFactory(project=project, role=Partner.Role.LEAD, currency="EUR", organisation__short_name="Veneto")
    PartnerFactory(project=project, currency="ARS", organisation__short_name="San Juan")
    PartnerFactory(project=project, currency="BRL", organisation__short_name="Rio Grande do Sul")
    return project


def _partner(project, currency):
    return project.partners.get(currency=currency)


def _rates(currency, rates, first_month=1):
    """Store `rates` for the months of 2026 from `first_month` on."""
    for index, rate in enumerate(rates):
        ExchangeRateFactory(currency=currency, month=D(2026, first_month + index, 1), rate=Decimal(rate))


def _declare(partner, amount, currency=None, day=MARCH):
    return services.expenditure_create(
        actor=staff_of(partner),
        partner=partner,
        category=CostCategoryFactory(),
        date_incurred=day,
        description="Invoice",
        amount=Decimal(amount),
        currency=currency,
    )


def test_a_usd_invoice_of_an_argentine_partner_is_converted_at_the_usd_rate(project):
    ExchangeRateFactory(currency="ARS", month=D(2026, 3, 1), rate=Decimal("1523.456789"))
    ExchangeRateFactory(currency="USD", month=D(2026, 3, 1), rate=Decimal("1.084500"))
    expense = _declare(_partner(project, "ARS"), "1250.00", currency="USD")
    # 1,250.00 / 1.0845 = 1,152.6049 -> 1,152.60, whatever the ARS rate.
    assert (expense.currency, expense.exchange_rate, expense.amount_eur) == (
        "USD",
        Decimal("1.0845"),
        Decimal("1152.60"),
    )
    assert (expense.rate_method, expense.rate_months) == ("month", (D(2026, 3, 1), D(2026, 3, 1)))


def test_a_brl_payment_of_the_eur_lead_is_converted_at_the_brl_rate(project):
    ExchangeRateFactory(currency="BRL", month=D(2026, 3, 1), rate=Decimal("6.250000"))
    expense = _declare(_partner(project, "EUR"), "3130.00", currency="BRL")
    # 3,130.00 / 6.25 = 500.80.
    assert (expense.currency, expense.amount_eur) == ("BRL", Decimal("500.80"))


def test_an_eur_invoice_of_a_brl_partner_needs_no_rate(project):
    expense = _declare(_partner(project, "BRL"), "99.99", currency="EUR")
    assert (expense.exchange_rate, expense.amount_eur) == (Decimal("1"), Decimal("99.99"))


def test_without_a_currency_the_partners_own_applies(project):
    ExchangeRateFactory(currency="ARS", month=D(2026, 3, 1), rate=Decimal("1000.000000"))
    expense = _declare(_partner(project, "ARS"), "123456.00")
    assert (expense.currency, expense.amount_eur) == ("ARS", Decimal("123.46"))


def test_a_missing_rate_names_the_currency_and_month_and_saves_nothing(project):
    # San Juan's own ARS has a rate for March; USD has none.
    ExchangeRateFactory(currency="ARS", month=D(2026, 3, 1), rate=Decimal("1000"))
    ExchangeRateFactory(currency="USD", month=D(2026, 2, 1), rate=Decimal("1.08"))
    with pytest.raises(ValidationError, match="no USD exchange rate for 2026-03"):
        _declare(_partner(project, "ARS"), "100.00", currency="USD")
    assert not Expenditure.objects.exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("usd", "Enter an ISO 4217 currency code"),
        ("US$", "Enter an ISO 4217 currency code"),
        ("EURO", "Enter an ISO 4217 currency code"),
        ("ZZZ", "ZZZ is not an ISO 4217 currency code"),
        # Gold and the "no currency" code are ISO 4217 codes, but no invoice is written in them.
        ("XAU", "XAU is not an ISO 4217 currency code"),
        ("XXX", "XXX is not an ISO 4217 currency code"),
    ],
)
def test_a_wrong_currency_code_is_refused_before_any_rate_and_nothing_is_saved(project, code, message):
    # Even with a rate in the table, a code that is no currency is refused.
    ExchangeRateFactory(currency="ZZZ", month=D(2026, 3, 1), rate=Decimal("2"))
    with pytest.raises(ValidationError) as excinfo:
        _declare(_partner(project, "ARS"), "100.00", currency=code)
    assert message in excinfo.value.message_dict["currency"][0]
    assert not Expenditure.objects.exists()


def test_editing_an_expense_into_another_currency_converts_it_again(project):
    _rates("USD", ["1.084500"], first_month=3)
    ExchangeRateFactory(currency="ARS", month=D(2026, 3, 1), rate=Decimal("1000"))
    partner = _partner(project, "ARS")
    expense = _declare(partner, "1250.00")
    assert expense.amount_eur == Decimal("1.25")
    changed = services.expenditure_update(
        actor=staff_of(partner),
        expenditure=expense,
        revision=expense.revision,
        category=expense.category,
        date_incurred=expense.date_incurred,
        description=expense.description,
        amount=expense.amount,
        currency="USD",
    )
    assert (changed.currency, changed.amount_eur) == ("USD", Decimal("1152.60"))


def test_the_form_offers_the_partners_currencies_those_with_rates_and_eur_and_usd(project):
    ExchangeRateFactory(currency="UYU", month=D(2026, 3, 1), rate=Decimal("46.8"))
    # A rate stored under a code that is no currency is not offered.
    ExchangeRateFactory(currency="ZZZ", month=D(2026, 3, 1), rate=Decimal("2"))
    # Another project's partner's currency is not offered either.
    PartnerFactory(currency="PYG")
    form = ExpenditureForm(partner=_partner(project, "ARS"), session={})
    assert [code for code, _label in form.fields["currency"].choices] == ["ARS", "BRL", "EUR", "USD", "UYU"]
    assert form.initial["currency"] == "ARS"


def test_partner_staff_declare_a_usd_invoice_on_the_form(client, project):
    partner = _partner(project, "ARS")
    ExchangeRateFactory(currency="USD", month=D(2026, 3, 1), rate=Decimal("1.084500"))
    client.force_login(staff_of(partner))
    data = {
        "date_incurred": "2026-03-17",
        "category": CostCategoryFactory().pk,
        "description": "Hotel in Montevideo",
        "amount": "1250.00",
        "currency": "USD",
    }
    response = client.post(reverse("finance:expense-create"), data)
    expense = Expenditure.objects.get()
    assert response.url == reverse("finance:expense-detail", args=[expense.pk])
    assert (expense.currency, expense.amount_eur) == ("USD", Decimal("1152.60"))
    page = client.get(response.url).content.decode()
    assert "1,250.00 USD" in page and "1,152.60" in page and "at 1.084500 USD per EUR" in page
    assert '<span id="rate-basis">Rate of the month incurred (InforEuro), 2026-03</span>' in page
    assert 'id="rate-provisional"' not in page


def test_the_expense_page_says_a_month_rate_is_provisional_under_the_period_average(client, project):
    BudgetFactory(project=project, rate_method=Budget.RateMethod.PERIOD_AVERAGE)
    _rates("USD", USD_RATES)
    expense = _verified_usd(project)
    client.force_login(director_of(project))
    page = client.get(reverse("finance:expense-detail", args=[expense.pk])).content.decode()
    assert '<span id="rate-basis">Rate of the month incurred (InforEuro), 2026-03</span>' in page
    assert "Provisional: the contract converts at the average" in page
    services.expenditures_fix_period_rates(
        actor=director_of(project), project=project, expenses=Expenditure.objects.all(), periods=PERIOD_1
    )
    page = client.get(reverse("finance:expense-detail", args=[expense.pk])).content.decode()
    assert '<span id="rate-basis">Average rate over the reporting period, 2026-01 – 2026-06</span>' in page
    assert 'id="rate-provisional"' not in page


def test_a_currency_the_form_does_not_offer_is_refused_and_nothing_is_saved(client, project):
    partner = _partner(project, "ARS")
    client.force_login(staff_of(partner))
    data = {
        "date_incurred": "2026-03-17",
        "category": CostCategoryFactory().pk,
        "description": "Hotel",
        "amount": "10.00",
        "currency": "ZZZ",
    }
    response = client.post(reverse("finance:expense-create"), data)
    assert response.status_code == 200
    assert "Select a valid choice. ZZZ is not one of the available choices." in response.content.decode()
    assert not Expenditure.objects.exists()


def test_the_average_of_six_monthly_rates_is_rounded_half_up_to_six_decimals():
    _rates("USD", USD_RATES)
    average = services.exchange_rate_average(currency="USD", first_day=D(2026, 1, 1), last_day=D(2026, 6, 30))
    assert average == Decimal("1.082931")


def test_a_period_that_does_not_start_on_the_first_averages_every_month_it_touches():
    # 15 January to 14 July touches seven months: July's rate 1.1 joins the six.
    _rates("USD", [*USD_RATES, "1.100000"])
    average = services.exchange_rate_average(currency="USD", first_day=D(2026, 1, 15), last_day=D(2026, 7, 14))
    # (6.497583 + 1.1) / 7 = 1.08536900.
    assert average == Decimal("1.085369")


def test_the_average_names_each_missing_month():
    _rates("USD", USD_RATES[:4])
    with pytest.raises(ValidationError) as excinfo:
        services.exchange_rate_average(currency="USD", first_day=D(2026, 1, 1), last_day=D(2026, 6, 30))
    assert excinfo.value.messages == [
        "The average USD rate of 2026-01 – 2026-06 needs the monthly rates of 2026-05, 2026-06, which are missing: "
        "ask an administrator to import them."
    ]


def _verified_usd(project, amount="1250.00"):
    """San Juan's USD invoice of 17 March, converted at March's rate 1.090111 and verified."""
    expense = _declare(_partner(project, "ARS"), amount, currency="USD")
    expense.status, expense.reviewer = Expenditure.Status.VERIFIED, director_of(project)
    expense.save()
    return expense


PERIOD_1 = [(D(2026, 1, 1), D(2026, 6, 30)), (D(2026, 7, 1), D(2026, 12, 31))]


def test_under_the_period_average_the_expense_is_fixed_at_its_periods_average(project):
    BudgetFactory(project=project, rate_method=Budget.RateMethod.PERIOD_AVERAGE)
    _rates("USD", USD_RATES)
    expense = _verified_usd(project)
    # Provisional: 1,250.00 / 1.090111 (March) = 1,146.67.
    assert expense.amount_eur == Decimal("1146.67")
    director = director_of(project)
    changed = services.expenditures_fix_period_rates(
        actor=director, project=project, expenses=Expenditure.objects.all(), periods=PERIOD_1
    )
    expense.refresh_from_db()
    # 1,250.00 / 1.082931 = 1,154.2748 -> 1,154.27.
    assert changed == 1
    assert (expense.exchange_rate, expense.amount_eur) == (Decimal("1.082931"), Decimal("1154.27"))
    assert (expense.rate_method, expense.rate_months) == ("period", (D(2026, 1, 1), D(2026, 6, 1)))
    assert expense.history.first().history_user == director
    recorded = expense.history.count()
    # Fixing again changes nothing, and writes no history.
    again = services.expenditures_fix_period_rates(
        actor=director, project=project, expenses=Expenditure.objects.all(), periods=PERIOD_1
    )
    assert again == 0
    assert expense.history.count() == recorded


def test_under_the_month_rate_nothing_is_averaged(project):
    BudgetFactory(project=project, rate_method=Budget.RateMethod.MONTH_INCURRED)
    _rates("USD", USD_RATES)
    expense = _verified_usd(project)
    services.expenditures_fix_period_rates(
        actor=director_of(project), project=project, expenses=Expenditure.objects.all(), periods=PERIOD_1
    )
    expense.refresh_from_db()
    assert (expense.rate_method, expense.amount_eur) == ("month", Decimal("1146.67"))


def test_a_missing_month_refuses_every_fix_naming_currency_and_months(project):
    BudgetFactory(project=project, rate_method=Budget.RateMethod.PERIOD_AVERAGE)
    _rates("USD", USD_RATES[:5])
    _rates("BRL", ["6.1", "6.2", "6.25", "6.3", "6.15", "6.4"])
    brl = _declare(_partner(project, "BRL"), "3130.00")
    usd = _verified_usd(project)
    with pytest.raises(ValidationError) as excinfo:
        services.expenditures_fix_period_rates(
            actor=director_of(project), project=project, expenses=Expenditure.objects.all(), periods=PERIOD_1
        )
    assert excinfo.value.messages == [
        "The average USD rate of 2026-01 – 2026-06 needs the monthly rates of 2026-06, which are missing: "
        "ask an administrator to import them."
    ]
    # The BRL expense, whose rates are all there, is not changed either: all or nothing.
    for expense in (brl, usd):
        before = expense.amount_eur
        expense.refresh_from_db()
        assert (expense.rate_method, expense.amount_eur) == ("month", before)


def test_only_directors_fix_period_rates(project):
    BudgetFactory(project=project, rate_method=Budget.RateMethod.PERIOD_AVERAGE)
    with pytest.raises(PermissionDenied):
        services.expenditures_fix_period_rates(
            actor=staff_of(_partner(project, "ARS")),
            project=project,
            expenses=Expenditure.objects.all(),
            periods=PERIOD_1,
        )


def test_eur_expenses_are_never_averaged(project):
    BudgetFactory(project=project, rate_method=Budget.RateMethod.PERIOD_AVERAGE)
    expense = ExpenditureFactory(
        partner=_partner(project, "EUR"),
        amount=Decimal("10.00"),
        amount_eur=Decimal("10.00"),
        status="verified",
        reviewer=director_of(project),
    )
    services.expenditures_fix_period_rates(
        actor=director_of(project), project=project, expenses=Expenditure.objects.all(), periods=PERIOD_1
    )
    expense.refresh_from_db()
    assert (expense.rate_method, expense.exchange_rate, expense.amount_eur) == (
        "month",
        Decimal("1"),
        Decimal("10.00"),
    )


def test_the_statement_lists_the_rates_used(client, project):
    BudgetFactory(project=project, is_current=True, rate_method=Budget.RateMethod.PERIOD_AVERAGE)
    _rates("USD", USD_RATES)
    _verified_usd(project)
    _verified_usd(project, amount="400.00")
    director = director_of(project)
    client.force_login(director)
    response = client.get(reverse("finance:statement-xlsx"))
    workbook = load_workbook(io.BytesIO(response.content))
    rates = list(workbook["Exchange rates"].values)
    assert rates[0][:2] == ("Exchange-rate method of the contract", "Average rate over the reporting period")
    assert rates[1] == ("Currency", "Method", "Months", "Rate (units per EUR)", "Expenses", "Amount", "Amount (EUR)")
    # Both at March's 1.090111 until a SAL fixes the average: 1,250.00 -> 1,146.67 and 400.00 -> 366.94.
    assert rates[2][:3] == ("USD", "Rate of the month incurred (InforEuro) (provisional)", "2026-03")
    assert [Decimal(str(value)) for value in (rates[2][3], rates[2][5], rates[2][6])] == [
        Decimal("1.090111"),
        Decimal("1650.00"),
        Decimal("1513.61"),
    ]
    assert rates[2][4] == 2
    assert workbook["Exchange rates"].cell(row=3, column=4).number_format == "#,##0.000000"
    expenses = workbook["Declared expenses"]
    header = [cell.value for cell in next(expenses.iter_rows(max_row=1))]
    assert expenses.cell(row=2, column=header.index("Rate (units per EUR)") + 1).number_format == "#,##0.000000"
