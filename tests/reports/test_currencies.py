"""The rate method of the budget applied when a SAL is approved, and the rates shown in the SAL and its XLSX."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from finance.models import Budget, CostCategory, ExchangeRate, Expenditure
from finance.services import expenditure_verify
from reports.models import ProgressReport, ReportedExpenditure
from reports.selectors import progress_report_figures
from reports.services import progress_report_create
from tests.factories import ExchangeRateFactory, ExpenditureFactory
from tests.factories import sal_approve as progress_report_approve

D = datetime.date
# USD per EUR, January to June 2026: their mean 1.0829305 rounds half-up to 1.082931.
USD_RATES = ["1.081234", "1.085678", "1.090111", "1.075555", "1.070002", "1.095003"]
# BRL per EUR, January to June 2026: 37.4 / 6 = 6.2333333 -> 6.233333.
BRL_RATES = ["6.100000", "6.200000", "6.250000", "6.300000", "6.150000", "6.400000"]
PERIOD_AVERAGE = "Average rate over the reporting period"
MONTH_INCURRED = "Rate of the month incurred (InforEuro)"


def _rates(currency, rates):
    for index, rate in enumerate(rates):
        ExchangeRateFactory(currency=currency, month=D(2026, 1 + index, 1), rate=Decimal(rate))


def _foreign(world, partner, day, amount, currency, status="verified"):
    """An expense declared at the rate of its month, as the services leave it before any SAL."""
    rate = ExchangeRate.objects.get(currency=currency, month=day.replace(day=1)).rate
    return ExpenditureFactory(
        partner=partner,
        category=CostCategory.objects.get(code=1),
        date_incurred=day,
        amount=Decimal(amount),
        currency=currency,
        exchange_rate=rate,
        amount_eur=(Decimal(amount) / rate).quantize(Decimal("0.01")),
        status=status,
        reviewer=world.director if status == "verified" else None,
    )


@pytest.fixture
def currencies(sal_world):
    """Under the period average: San Juan's USD 1,250.00 of 17 March and Veneto's BRL 3,130.00 of 12 May."""
    sal_world.budget.rate_method = Budget.RateMethod.PERIOD_AVERAGE
    sal_world.budget.save()
    _rates("USD", USD_RATES)
    _rates("BRL", BRL_RATES)
    # At the month's rate: 1,250.00 / 1.090111 = 1,146.67 and 3,130.00 / 6.15 = 508.94.
    sal_world.usd = _foreign(sal_world, sal_world.sanjuan, D(2026, 3, 17), "1250.00", "USD")
    sal_world.brl = _foreign(sal_world, sal_world.lead, D(2026, 5, 12), "3130.00", "BRL")
    return sal_world


def _approve(world, period, django_capture_on_commit_callbacks):
    # As on the SAL's due date: a period is reported once it has ended.
    report = progress_report_create(actor=world.director, period=period, language="en", today=period.due_date)
    with django_capture_on_commit_callbacks(execute=True):
        return progress_report_approve(
            actor=world.director, report=report, revision=report.revision, today=period.due_date
        )


def test_the_draft_shows_the_month_rates_as_provisional(currencies):
    draft = progress_report_create(actor=currencies.director, period=currencies.period1, language="en")
    finance = progress_report_figures(draft)["finance"]
    assert finance["rate_method"] == PERIOD_AVERAGE
    assert finance["rates_provisional"] is True
    assert finance["rates"] == [
        {
            "currency": "BRL",
            "method": MONTH_INCURRED,
            "months": "2026-05",
            "rate": "6.150000",
            "expenses": 1,
            "amount": "3130.00",
            "amount_eur": "508.94",
            "provisional": True,
        },
        {
            "currency": "USD",
            "method": MONTH_INCURRED,
            "months": "2026-03",
            "rate": "1.090111",
            "expenses": 1,
            "amount": "1250.00",
            "amount_eur": "1146.67",
            "provisional": True,
        },
    ]


def test_approval_fixes_each_reported_expense_at_the_period_average_and_freezes_the_rates(
    currencies, django_capture_on_commit_callbacks
):
    report = _approve(currencies, currencies.period1, django_capture_on_commit_callbacks)
    currencies.usd.refresh_from_db()
    currencies.brl.refresh_from_db()
    # 1,250.00 / 1.082931 = 1,154.27 and 3,130.00 / 6.233333 = 502.14.
    assert (currencies.usd.exchange_rate, currencies.usd.amount_eur) == (Decimal("1.082931"), Decimal("1154.27"))
    assert (currencies.brl.exchange_rate, currencies.brl.amount_eur) == (Decimal("6.233333"), Decimal("502.14"))
    for expense in (currencies.usd, currencies.brl):
        assert (expense.rate_method, expense.rate_first_month, expense.rate_last_month) == (
            "period",
            D(2026, 1, 1),
            D(2026, 6, 1),
        )
        assert expense.history.first().history_user == currencies.director
    finance = report.snapshot["finance"]
    assert finance["rates_provisional"] is False
    assert [(r["currency"], r["method"], r["months"], r["rate"], r["amount_eur"]) for r in finance["rates"]] == [
        ("BRL", PERIOD_AVERAGE, "2026-01 – 2026-06", "6.233333", "502.14"),
        ("USD", PERIOD_AVERAGE, "2026-01 – 2026-06", "1.082931", "1154.27"),
    ]
    # Direct costs: the fixture's 1,250.55 + 1,154.27 + 502.14 = 2,906.96, all at the rates the SAL shows; the
    # lead's flat-rate indirect costs, 7 % of its 1,000.00 + 502.14, rounded down: 105.14. Total 3,012.10.
    assert finance["totals"]["verified_in_period"] == finance["totals"]["verified"] == "3012.10"
    # A rate corrected later changes neither the expenses nor the frozen SAL.
    ExchangeRate.objects.filter(currency="USD").update(rate=Decimal("2"))
    _approve(currencies, currencies.period2, django_capture_on_commit_callbacks)
    currencies.usd.refresh_from_db()
    report.refresh_from_db()
    assert currencies.usd.amount_eur == Decimal("1154.27")
    assert report.snapshot["finance"] == finance


def test_a_missing_monthly_rate_refuses_the_approval_and_changes_nothing(
    currencies, django_capture_on_commit_callbacks
):
    ExchangeRate.objects.filter(currency="USD", month__gte=D(2026, 5, 1)).delete()
    report = progress_report_create(actor=currencies.director, period=currencies.period1, language="en")
    with pytest.raises(ValidationError) as excinfo:
        progress_report_approve(actor=currencies.director, report=report, revision=report.revision)
    assert excinfo.value.messages == [
        "The average USD rate of 2026-01 – 2026-06 needs the monthly rates of 2026-05, 2026-06, which are missing: "
        "ask an administrator to import them."
    ]
    report.refresh_from_db()
    assert report.status == ProgressReport.Status.DRAFT
    assert not ReportedExpenditure.objects.exists()
    currencies.usd.refresh_from_db()
    currencies.brl.refresh_from_db()
    assert (currencies.usd.rate_method, currencies.usd.amount_eur) == ("month", Decimal("1146.67"))
    assert (currencies.brl.rate_method, currencies.brl.amount_eur) == ("month", Decimal("508.94"))


def test_the_approval_page_shows_the_missing_rate(client, currencies):
    ExchangeRate.objects.filter(currency="BRL", month=D(2026, 6, 1)).delete()
    report = progress_report_create(actor=currencies.director, period=currencies.period1, language="en")
    client.force_login(currencies.director)
    response = client.post(
        reverse("reports:report-approve", args=[report.pk]),
        {"revision": report.revision, "confirmed": "1"},
        follow=True,
    )
    assert "The average BRL rate of 2026-01 – 2026-06 needs the monthly rates of 2026-06" in response.content.decode()
    report.refresh_from_db()
    assert report.status == ProgressReport.Status.DRAFT


def test_an_expense_verified_late_takes_the_average_of_the_period_it_was_incurred_in(
    currencies, django_capture_on_commit_callbacks
):
    # A USD invoice of 20 April, submitted while SAL 1 is approved and verified after it. No USD rate of July to
    # December exists: the average of SAL 2's own period could not even be computed.
    late = _foreign(currencies, currencies.sanjuan, D(2026, 4, 20), "400.00", "USD", status="submitted")
    _approve(currencies, currencies.period1, django_capture_on_commit_callbacks)
    expenditure_verify(actor=currencies.director, expenditure=late, checklist=Expenditure.CHECKLIST)
    second = _approve(currencies, currencies.period2, django_capture_on_commit_callbacks)
    late.refresh_from_db()
    # 400.00 / 1.082931 = 369.37, reported by SAL 2 as from earlier periods.
    assert (late.rate_method, late.rate_months, late.amount_eur) == (
        "period",
        (D(2026, 1, 1), D(2026, 6, 1)),
        Decimal("369.37"),
    )
    assert late.reported.report == second
    finance = second.snapshot["finance"]
    assert [(r["currency"], r["months"], r["rate"], r["amount_eur"]) for r in finance["rates"]] == [
        ("USD", "2026-01 – 2026-06", "1.082931", "369.37")
    ]
    # SAL 2 reports July's EUR 500.00, this 369.37, and the lead's flat rate on its July costs: 7 % of 2,002.14
    # is 140.14, of which 105.14 SAL 1 reported, so 35.00.
    assert finance["totals"]["verified_in_period"] == "904.37"
    assert finance["totals"]["verified_earlier_periods"] == "369.37"


def test_under_the_month_rate_approval_keeps_each_months_rate(currencies, django_capture_on_commit_callbacks):
    currencies.budget.rate_method = Budget.RateMethod.MONTH_INCURRED
    currencies.budget.save()
    report = _approve(currencies, currencies.period1, django_capture_on_commit_callbacks)
    currencies.usd.refresh_from_db()
    assert (currencies.usd.rate_method, currencies.usd.amount_eur) == ("month", Decimal("1146.67"))
    finance = report.snapshot["finance"]
    assert finance["rate_method"] == MONTH_INCURRED
    assert [(r["currency"], r["method"], r["months"], r["provisional"]) for r in finance["rates"]] == [
        ("BRL", MONTH_INCURRED, "2026-05", False),
        ("USD", MONTH_INCURRED, "2026-03", False),
    ]
    # 1,250.55 + 1,146.67 + 508.94 direct, and the lead's flat rate, 7 % of 1,508.94 rounded down: 105.62.
    assert finance["totals"]["verified"] == "3011.78"


def test_the_sal_page_and_its_xlsx_show_the_rates(client, currencies, django_capture_on_commit_callbacks):
    report = _approve(currencies, currencies.period1, django_capture_on_commit_callbacks)
    client.force_login(currencies.director)
    page = client.get(reverse("reports:report-detail", args=[report.pk])).content.decode()
    table = page[page.index('id="sal-rates"') :]
    table = table[: table.index("</table>")]
    assert "<td>USD</td><td>Average rate over the reporting period</td><td>2026-01 – 2026-06</td>" in table
    assert "1.082931" in table and "1,250.00 USD" in table and "1,154.27" in table
    assert "6.233333" in table and "3,130.00 BRL" in table and "502.14" in table
    assert "provisional" not in table
    workbook = load_workbook(io.BytesIO(client.get(reverse("reports:report-xlsx", args=[report.pk])).content))
    sheet = workbook["Exchange rates"]
    rows = list(sheet.values)
    assert rows[0] == (
        "Currency",
        "Method",
        "Months",
        "Rate (units per EUR)",
        "Expenses",
        "Amount",
        "Amount (EUR)",
    )
    assert rows[2][:3] == ("USD", PERIOD_AVERAGE, "2026-01 – 2026-06")
    assert (Decimal(str(rows[2][3])), rows[2][4], Decimal(str(rows[2][6]))) == (
        Decimal("1.082931"),
        1,
        Decimal("1154.27"),
    )
    assert sheet.cell(row=3, column=4).number_format == "#,##0.000000"
    assert sheet.cell(row=3, column=7).number_format == "#,##0.00"


def test_a_sal_whose_expenses_are_all_in_eur_says_so(client, sal_world):
    report = progress_report_create(actor=sal_world.director, period=sal_world.period1, language="en")
    client.force_login(sal_world.director)
    page = client.get(reverse("reports:report-detail", args=[report.pk])).content.decode()
    assert "Every expense this SAL reports is in EUR." in page
    assert not Expenditure.objects.exclude(currency="EUR").exists()
