import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cocap_data.demo import cocap_load_demo
from cocap_data.seed import cocap_load
from tests.factories import CostCategoryFactory, ExpenditureFactory, UserFactory, director_of

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
    assert workbook.sheetnames == [
        "Summary",
        "By heading",
        "By partner",
        "By activity",
        "Declared expenses",
        "Exchange rates",
    ]
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
    assert listed.quantize(Decimal("0.01")) == overview.totals.declared


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
