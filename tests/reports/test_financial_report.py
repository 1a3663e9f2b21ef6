"""The SAL's financial report: variances by heading explained before approval, sources of funding, contracts
above EUR 10,000, the forecast and the payment that can be requested, to the cent."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from finance import services as finance_services
from finance.models import EUPayment, ProcurementContract
from finance.rules import heading_variance
from reports import services
from reports.models import HeadingVariance, ProgressReport
from reports.selectors import progress_report_figures

D = Decimal


def _draft(world):
    return services.progress_report_create(actor=world.director, period=world.period1, language="en")


def _finance(report):
    return progress_report_figures(ProgressReport.objects.get(pk=report.pk))["finance"]


@pytest.mark.parametrize(
    ("budget", "verified", "months", "planned", "deviation", "explain"),
    [
        # 10,000.00 over 36 months, 6 started: 1,666.67 planned; 1,250.55 is 416.12 (24.97 %) under.
        ("10000.00", "1250.55", 6, "1666.67", "-416.12", True),
        # Within 15 %: 1,916.67 is 250.00 (15.00 %) over: not beyond the threshold.
        ("10000.00", "1916.67", 6, "1666.67", "250.00", False),
        ("10000.00", "1916.68", 6, "1666.67", "250.01", True),
        # Nothing planned, something spent: always explained; nothing either way: never.
        ("0.00", "10.00", 6, "0.00", "10.00", True),
        ("0.00", "0.00", 6, "0.00", "0.00", False),
        # Past the end the whole budget is planned.
        ("3600.00", "3600.00", 40, "3600.00", "0.00", False),
    ],
)
def test_a_heading_is_compared_with_its_budget_spent_evenly(budget, verified, months, planned, deviation, explain):
    variance = heading_variance(
        budget=D(budget), verified=D(verified), elapsed_months=months, duration_months=36, threshold=D("0.15")
    )
    assert (variance.planned, variance.deviation, variance.needs_explanation) == (D(planned), D(deviation), explain)


def test_approval_waits_for_the_explanation_of_each_heading_that_strays(sal_world, django_capture_on_commit_callbacks):
    report = _draft(sal_world)
    (variance,) = _finance(report)["variances"]
    assert variance["label"] == "1. Human resources" and variance["required"]
    assert (variance["planned"], variance["verified"], variance["deviation"]) == ("1666.67", "1250.55", "-416.12")
    with pytest.raises(ValidationError) as refused:
        services.progress_report_approve(actor=sal_world.director, report=report, revision=report.revision)
    assert (
        "explain why these headings stray from plan by more than 15.0 %: 1. Human resources"
        in (refused.value.messages[0])
    )
    report.refresh_from_db()
    assert report.status == "draft" and not report.reported_expenses.exists()
    report = services.progress_report_financial_update(
        actor=sal_world.director,
        report=report,
        revision=report.revision,
        explanations={variance["category"]: "Il personale è stato assunto a marzo."},
    )
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.progress_report_approve(actor=sal_world.director, report=report, revision=report.revision)
    (frozen,) = approved.snapshot["finance"]["variances"]
    assert frozen["explanation"] == "Il personale è stato assunto a marzo."


def test_sources_of_funding_contracts_and_the_payment_request(sal_world):
    project = sal_world.project
    EUPayment.objects.create(project=project, number=1, received_on=datetime.date(2026, 2, 1), amount=D("4000.00"))
    EUPayment.objects.create(project=project, number=2, received_on=datetime.date(2026, 8, 1), amount=D("100.00"))
    expense = sal_world.lead.expenditures.get(amount_eur=D("1000.00"))
    contract = finance_services.procurement_contract_create(
        actor=sal_world.director,
        partner=sal_world.lead,
        reference="VEN-1",
        supplier="Studio Rossi",
        subject="Analisi",
        amount=D("12000.00"),
        procedure=ProcurementContract.Procedure.NEGOTIATED,
        signed_on=datetime.date(2026, 2, 15),
    )
    contract.expenses.set([expense])
    report = _draft(sal_world)
    report = services.progress_report_financial_update(
        actor=sal_world.director,
        report=report,
        revision=report.revision,
        explanations={},
        other_donors_eur=D("500.00"),
        in_kind_eur=D("250.25"),
        interest_eur=D("3.10"),
        forecast_eur=D("2000.00"),
        forecast_note="Seminari in Paraguay.",
    )
    finance = _finance(report)
    verified, eu_share = D(finance["totals"]["verified"]), D(finance["eu_share_due"])
    sources = finance["sources"]
    # The pre-financing of August comes after the period end (30 June): not counted.
    assert sources["eu_pre_financing_received"] == "4000.00"
    assert D(sources["own_funds"]) == verified - eu_share
    assert D(sources["total"]) == verified + D("750.25")
    assert (sources["interest"], finance["forecast"]["amount"]) == ("3.10", "2000.00")
    # Needed for a further tranche: 70 % of 4,000.00 = 2,800.00; used only the EU share, so the 90 % cap's room
    # (90 % of 8,560.00 = 7,704.00, less 4,000.00 = 3,704.00) is reduced by the shortfall.
    request = finance["payment_request"]
    assert request["needed"] == "2800.00" and D(request["shortfall"]) == D("2800.00") - eu_share
    assert D(request["requestable"]) == D("3704.00") - (D("2800.00") - eu_share)
    assert finance["contracts"] == [
        {
            "partner": "Regione del Veneto",
            "reference": "VEN-1",
            "supplier": "Studio Rossi",
            "subject": "Analisi",
            "amount": "12000.00",
            "procedure": "Competitive negotiated procedure",
            "signed_on": "2026-02-15",
            "expenses": 1,
            "paid": "1000.00",
        }
    ]


def test_the_financial_report_page_is_for_directors_and_refuses_bad_amounts(client, sal_world):
    report = _draft(sal_world)
    url = reverse("reports:report-financial", args=[report.pk])
    for user, status in ((sal_world.staff, 404), (sal_world.observer, 404)):
        client.force_login(user)
        assert client.get(url).status_code == status
    client.force_login(sal_world.director)
    page = client.get(url).content.decode()
    assert "Variance of 1. Human resources *" in page and "Planned by now EUR 1,666.67, verified EUR 1,250.55" in page
    category = _finance(report)["variances"][0]["category"]
    form = {
        "revision": report.revision,
        "other_donors_eur": "-1",
        "in_kind_eur": "0",
        "interest_eur": "0",
        "forecast_eur": "0",
        f"explanation_{category}": "Assunzioni in ritardo.",
    }
    response = client.post(url, form)
    assert (
        response.status_code == 200 and "Ensure this value is greater than or equal to 0" in response.content.decode()
    )
    assert not HeadingVariance.objects.exists()
    response = client.post(url, {**form, "other_donors_eur": "100.00"})
    assert response.status_code == 302
    assert HeadingVariance.objects.get().explanation == "Assunzioni in ritardo."
    report.refresh_from_db()
    assert report.other_donors_eur == D("100.00")
    # Emptying an explanation removes it.
    response = client.post(
        url, {**form, "other_donors_eur": "100.00", "revision": report.revision, f"explanation_{category}": ""}
    )
    assert response.status_code == 302 and not HeadingVariance.objects.exists()
