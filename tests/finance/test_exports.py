import csv
import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from cocap_data.demo import cocap_load_demo
from cocap_data.seed import cocap_load
from finance import services
from finance.annex_xlsx import annex_layout_lines
from finance.models import BudgetLine, CostCategory, Expenditure
from tests.factories import (
    ActivityFactory,
    BudgetFactory,
    BudgetLineFactory,
    CostCategoryFactory,
    ExpenditureFactory,
    PartnerFactory,
    ProjectFactory,
    UserFactory,
    director_of,
    staff_of,
)

pytestmark = pytest.mark.django_db
INJECTION = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def cocap():
    project = cocap_load(start_date=datetime.date(2026, 1, 1))
    cocap_load_demo(project=project, today=datetime.date(2026, 11, 25))
    partner = project.partners.get(role="lead")
    ExpenditureFactory(
        partner=partner,
        category=CostCategoryFactory(code=5),
        description=INJECTION,
        supplier="+SUM(1,2)",
        document_ref="@cmd",
        amount=Decimal("12.34"),
        amount_eur=Decimal("12.34"),
        status="verified",
        reviewer=UserFactory(),
    )
    return project


def test_statement_totals_equal_the_page_and_user_text_stays_text(client, cocap):
    client.force_login(director_of(cocap))
    overview = client.get(reverse("finance:overview")).context["overview"]
    response = client.get(reverse("finance:statement-xlsx"))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    # The demo assigns no budget to activities: no sheet of zeros by activity.
    assert workbook.sheetnames == ["Summary", "By heading", "By partner", "Declared expenses", "Exchange rates"]
    by_heading = list(workbook["By heading"].iter_rows(values_only=True))
    assert by_heading[-1][0] == "Total"
    assert [Decimal(str(v)).quantize(Decimal("0.01")) for v in by_heading[-1][1:4]] == [
        overview.totals.budget,
        overview.totals.declared,
        overview.totals.verified,
    ]
    assert workbook["By heading"].cell(row=len(by_heading), column=4).number_format == "#,##0.00"
    partner_total = list(workbook["By partner"].iter_rows(values_only=True))[-1]
    assert Decimal(str(partner_total[3])).quantize(Decimal("0.01")) == overview.totals.verified
    expenses = workbook["Declared expenses"]
    cells = {cell.value: cell for row in expenses.iter_rows() for cell in row}
    assert cells[INJECTION].data_type == "s"
    assert cells["+SUM(1,2)"].data_type == "s"
    assert expenses.max_row - 1 == cocap.partners.filter(expenditures__status__in=["submitted", "verified"]).count()
    listed = sum(Decimal(str(row[11])) for row in expenses.iter_rows(min_row=2, values_only=True))
    # Indirect costs are a flat rate, declared by no expense.
    [indirect] = [row for row in overview.headings if row.kind == "indirect"]
    assert indirect.declared > 0
    assert listed.quantize(Decimal("0.01")) == overview.totals.declared - indirect.declared
    labels = [row[0] for row in by_heading[1:-1]]
    assert [label.split(".")[0] for label in labels] == [str(line) for line in range(1, 12)]


def test_statement_writes_every_expense_value_as_entered(client):
    project = ProjectFactory()
    partner = PartnerFactory(project=project)
    category = CostCategoryFactory(code=2)
    BudgetFactory(project=project)
    activity = ActivityFactory(project=project, number=3)
    ExpenditureFactory(
        partner=partner,
        category=category,
        activity=activity,
        date_incurred=datetime.date(2026, 2, 3),
        description="  <Tom & Jerry> \x07",
        supplier="Rossi & Figli",
        document_ref="F-1",
        amount=Decimal("1234.56"),
        currency="BRL",
        exchange_rate=Decimal("6.250000"),
        amount_eur=Decimal("197.53"),
        status="submitted",
    )
    ExpenditureFactory(
        partner=partner,
        category=category,
        amount=Decimal("0.01"),
        amount_eur=Decimal("0.01"),
        status="verified",
        reviewer=UserFactory(),
    )
    client.force_login(director_of(project))
    workbook = load_workbook(io.BytesIO(client.get(reverse("finance:statement-xlsx")).content))
    rows = list(workbook["Declared expenses"].iter_rows())
    assert [[cell.value for cell in row] for row in rows[1:]] == [
        ["2026-02-03", partner.organisation.short_name, "2", 3, "  <Tom & Jerry> ", "Rossi & Figli", "F-1",
         "Submitted", 1234.56, "BRL", 6.25, 197.53],
        ["2026-03-10", partner.organisation.short_name, "2", None, "Seminar room", None, None, "Verified", 0.01, "EUR",
         1, 0.01],
    ]  # fmt: skip
    # Money with two decimals, the rate with the six the Commission publishes.
    assert [cell.number_format for cell in rows[1][8:]] == ["#,##0.00", "General", "#,##0.000000", "#,##0.00"]
    # The statuses in the reader's language.
    italian = client.get(reverse("finance:statement-xlsx"), headers={"accept-language": "it"})
    workbook = load_workbook(io.BytesIO(italian.content))
    statuses = [row[7].value for row in list(workbook.worksheets[-2].iter_rows())[1:]]
    with translation.override("it"):
        expected = [str(Expenditure.Status.SUBMITTED.label), str(Expenditure.Status.VERIFIED.label)]
    assert statuses == expected == ["Inviata", "Verificata"]


def test_expense_csv_neutralises_formulas(client, cocap):
    client.force_login(director_of(cocap))
    response = client.get(reverse("finance:expense-csv"), {"status": "verified"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["Date incurred", "Partner"]
    ours = next(row for row in rows if "HYPERLINK" in row[4])
    assert ours[4] == "'" + INJECTION
    assert ours[5] == "'+SUM(1,2)"
    assert ours[6] == "'@cmd"
    assert ours[8] == "12.34" and ours[11] == "12.34"
    assert all(row[7] == "Verified" for row in rows[1:])


# The Annex III budget: a small budget with figures set by hand, in today's headings and in the Annex's own.
TODAY_HEADINGS = [(1, "direct"), (2, "direct"), (8, "indirect")]
ANNEX_HEADINGS = [(1, "direct"), (2, "direct"), (8, "contingency"), (10, "indirect")]


def test_annex_lines_number_the_computed_lines_after_the_headings():
    def numbers(headings):
        categories = [CostCategory(pk=code, code=code, name=f"H{code}", kind=kind) for code, kind in headings]
        return [(line.number, line.is_total, line.adds) for line in annex_layout_lines(categories)]

    assert numbers(TODAY_HEADINGS) == [
        (1, False, ()),
        (2, False, ()),
        (3, True, (1, 2)),
        (8, False, ()),
        (9, True, (1, 2, 8)),
    ]
    six = [(code, "direct") for code in range(1, 7)]
    lines = numbers([*six, (8, "contingency"), (10, "indirect")])
    assert [number for number, _total, _adds in lines] == list(range(1, 12))
    assert lines[6] == (7, True, (1, 2, 3, 4, 5, 6))
    assert lines[8] == (9, True, (1, 2, 3, 4, 5, 6, 8))
    assert lines[10] == (11, True, (1, 2, 3, 4, 5, 6, 8, 10))
    # Taxes, where eligible, and the total accepted costs close the Annex.
    taxed = numbers([*six, (8, "contingency"), (10, "indirect"), (12, "taxes")])
    assert [number for number, _total, _adds in taxed] == list(range(1, 14))
    assert taxed[12] == (13, True, (1, 2, 3, 4, 5, 6, 8, 10, 12))


# Headings are numbered by their Annex III line (a database constraint), so only that scheme can be stored.
@pytest.fixture(params=["annex"])
def annex_budget(request):
    """Two partners' budget in EUR: the lead's heading 1 split 400.00 to activity 1 and 600.00 to none."""
    headings = {"today": TODAY_HEADINGS, "annex": ANNEX_HEADINGS}[request.param]
    categories = {code: CostCategoryFactory(code=code, name=f"Heading {code}", kind=kind) for code, kind in headings}
    project = ProjectFactory(code="annex")
    lead = PartnerFactory(project=project, role="lead", organisation__name="Regione del Veneto")
    other = PartnerFactory(project=project, organisation__name="Provincia de San Juan")
    activity = ActivityFactory(project=project, number=1, title="Diagnosi")
    budget = BudgetFactory(project=project, total_eligible_cost=Decimal("1868.29"), eu_contribution=Decimal("1000"))
    indirect = next(c for c in categories.values() if c.kind == "indirect")
    for partner, category, amount, on_activity in (
        (lead, categories[1], "600.00", None),
        (lead, categories[1], "400.00", activity),
        (lead, categories[2], "250.50", None),
        (lead, indirect, "87.54", None),
        (other, categories[1], "500.25", None),
        (other, categories.get(8) if request.param == "annex" else categories[2], "30.00", None),
    ):
        BudgetLineFactory(
            budget=budget, partner=partner, category=category, amount=Decimal(amount), activity=on_activity
        )
    return SimpleNamespace(scheme=request.param, project=project, lead=lead, other=other, budget=budget)


def _sheet(content, index=0):
    workbook = load_workbook(io.BytesIO(content))
    return [list(row) for row in workbook.worksheets[index].iter_rows(values_only=True)]


def _money(values):
    return [Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None for value in values]


def test_annex_export_lays_headings_as_rows_and_partners_as_columns_with_correct_totals(client, annex_budget):
    client.force_login(director_of(annex_budget.project))
    response = client.get(reverse("finance:budget-xlsx", args=[annex_budget.budget.pk]))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = _sheet(response.content)
    assert rows[2] == ["Line", "Heading", "Regione del Veneto", "Provincia de San Juan", "Total"]
    lines = {row[0]: (row[1], _money(row[2:])) for row in rows[3:]}
    # By hand: direct 1,000.00 + 250.50 for the lead; 500.25 + 30.00 (heading 2 today, contingency in the Annex).
    if annex_budget.scheme == "today":
        assert lines[3] == ("Subtotal direct costs", _money([1250.50, 530.25, 1780.75]))
        assert lines[9] == ("Total eligible costs", _money([1338.04, 530.25, 1868.29]))
        assert sorted(lines) == [1, 2, 3, 8, 9]
    else:
        assert lines[3] == ("Subtotal direct costs", _money([1250.50, 500.25, 1750.75]))
        assert lines[8] == ("Heading 8", _money([0, 30, 30]))
        assert lines[9] == ("Total direct eligible costs", _money([1250.50, 530.25, 1780.75]))
        assert lines[11] == ("Total eligible costs", _money([1338.04, 530.25, 1868.29]))
    assert lines[1] == ("Heading 1", _money([1000, 500.25, 1500.25]))
    by_activity = _sheet(response.content, 1)
    assert by_activity[0] == ["Line", "Heading", "Partner", "Activity", "Title", "Amount (EUR)"]
    assert by_activity[1:] == [[1, "Heading 1", "Regione del Veneto", 1, "Diagnosi", 400]]


def test_partner_staff_export_only_their_own_column_as_the_budget_page_shows(client, annex_budget):
    client.force_login(staff_of(annex_budget.other))
    rows = _sheet(client.get(reverse("finance:budget-xlsx", args=[annex_budget.budget.pk])).content)
    assert rows[2] == ["Line", "Heading", "Provincia de San Juan", "Total"]
    assert _money(rows[3][2:]) == _money([500.25, 500.25])
    assert "Regione del Veneto" not in str(rows)


def test_another_projects_budget_is_not_found(client, annex_budget):
    client.force_login(director_of(ProjectFactory()))
    assert client.get(reverse("finance:budget-xlsx", args=[annex_budget.budget.pk])).status_code == 404


def test_annex_export_round_trips_to_the_cent(client, cocap):
    budget = cocap.budgets.get(is_current=True)
    # Part of two partners' headings assigned to activities, so that the activity sheet carries something.
    lines = list(budget.lines.order_by("pk")[:2])
    for line, number in zip(lines, (1, 4), strict=True):
        activity = cocap.activities.get(number=number)
        BudgetLine.objects.create(
            budget=budget, partner=line.partner, category=line.category, activity=activity, amount=Decimal("1234.56")
        )
        line.amount -= Decimal("1234.56")
        line.save()
    director = director_of(cocap)
    client.force_login(director)
    content = client.get(reverse("finance:budget-xlsx", args=[budget.pk])).content
    imported = services.budget_import_xlsx(
        actor=director, project=cocap, file=SimpleUploadedFile("annex.xlsx", content), label="Round trip"
    )

    def amounts(version):
        return sorted(version.lines.values_list("partner_id", "category_id", "activity_id", "amount"), key=str)

    # Five partners, each with the six direct headings, contingency and indirect costs, and the two activity lines.
    assert amounts(imported) == amounts(budget) and len(amounts(budget)) == 5 * 8 + 2
    assert imported.total_eligible_cost == budget.total_eligible_cost == Decimal("3087005.13")
    assert (imported.is_current, imported.approved_on, imported.version) == (False, None, budget.version + 1)


def test_the_annex_export_reads_the_same_number_of_queries_whatever_the_budget(
    client, cocap, django_assert_num_queries
):
    budget = cocap.budgets.get(is_current=True)
    client.force_login(director_of(cocap))
    # session, user, savepoint pair, project, membership; then the budget, its headings, partners and lines.
    with django_assert_num_queries(10):
        client.get(reverse("finance:budget-xlsx", args=[budget.pk]))
    for activity in cocap.activities.all():
        for line in list(budget.lines.filter(activity=None)[:3]):
            BudgetLine.objects.create(
                budget=budget, partner=line.partner, category=line.category, activity=activity, amount=Decimal("1.00")
            )
    with django_assert_num_queries(10):
        response = client.get(reverse("finance:budget-xlsx", args=[budget.pk]))
    assert len(_sheet(response.content, 1)) == 1 + 3 * cocap.activities.count()
