"""The financial statement as XLSX and the expense list as CSV, streamed and safe against formula injection."""

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from partners.models import Project

from .models import Expenditure
from .selectors import FinanceOverview

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.000000"


def neutralise(text: str) -> str:
    """Prefix text a spreadsheet would run as a formula with an apostrophe, so it stays text."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class XlsxSheet:
    """A write-only sheet: money as numbers with two decimals, user text never read as a formula."""

    def __init__(self, workbook, title):
        self.sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31])
        self.bold = Font(bold=True)

    def _cell(self, value, bold):
        # Plain values are the fast path; only money, bold text and text openpyxl would take for a formula
        # need a cell object.
        if isinstance(value, Decimal):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = MONEY_FORMAT
            return cell
        if isinstance(value, str) and (bold or value.startswith("=")):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.data_type = "s"
            if bold:
                cell.font = self.bold
            return cell
        return value

    def row(self, *values, bold=False):
        self.sheet.append([self._cell(value, bold) for value in values])


def _money_sheet(workbook, title, rows, totals):
    sheet = XlsxSheet(workbook, title)
    sheet.row(title, _("Budget (EUR)"), _("Declared (EUR)"), _("Verified (EUR)"), _("Remaining (EUR)"), bold=True)
    for row in rows:
        sheet.row(row.label, row.budget, row.declared, row.verified, row.remaining)
    sheet.row(_("Total"), totals.budget, totals.declared, totals.verified, totals.remaining, bold=True)


def _expense_sheet(workbook, title, expenses):
    sheet = XlsxSheet(workbook, title)
    sheet.row(
        _("Date incurred"),
        _("Partner"),
        _("Budget heading"),
        _("Activity"),
        _("Description"),
        _("Supplier"),
        _("Document reference"),
        _("Status"),
        _("Amount"),
        _("Currency"),
        _("Rate (units per EUR)"),
        _("Amount (EUR)"),
        bold=True,
    )
    statuses = dict(Expenditure.Status.choices)
    for date, partner, code, activity, description, supplier, ref, status, amount, currency, rate, eur in expenses:
        sheet.row(
            date.isoformat(),
            partner,
            str(code),
            activity or "",
            description,
            supplier,
            ref,
            str(statuses[status]),
            amount,
            currency,
            rate,
            eur,
        )


EXPENSE_COLUMNS = (
    "date_incurred",
    "partner__organisation__short_name",
    "category__code",
    "activity__number",
    "description",
    "supplier",
    "document_ref",
    "status",
    "amount",
    "currency",
    "exchange_rate",
    "amount_eur",
)


def financial_statement_xlsx(*, project: Project, overview: FinanceOverview) -> bytes:
    """Build the statement: a summary, the totals by heading, partner and activity, and the declared expenses."""
    workbook = Workbook(write_only=True)
    budget = overview.budget
    summary = XlsxSheet(workbook, _("Summary"))
    summary.row(_("Financial statement"), project.title, bold=True)
    summary.row(_("Programme"), project.programme)
    if overview.partner is not None:
        summary.row(_("Partner"), str(overview.partner))
    summary.row(_("Budget version"), budget.version)
    summary.row(_("Date"), timezone.localdate().isoformat())
    summary.row(_("Total eligible cost"), budget.total_eligible_cost)
    summary.row(_("EU contribution"), budget.eu_contribution)
    summary.row(_("Verified expenditure"), overview.totals.verified)
    summary.row(_("EU share due"), overview.eu_share_due)
    _money_sheet(workbook, _("By heading"), overview.headings, overview.totals)
    if overview.partners:
        _money_sheet(workbook, _("By partner"), overview.partners, overview.totals)
    _money_sheet(workbook, _("By activity"), overview.activities, overview.totals)
    declared = Expenditure.objects.for_project(project).declared()
    if overview.partner is not None:
        declared = declared.filter(partner=overview.partner)
    rows = declared.order_by("category__code", "date_incurred", "id").values_list(*EXPENSE_COLUMNS)
    _expense_sheet(workbook, _("Declared expenses"), rows.iterator(2000))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _Echo:
    def write(self, value):
        return value


def expenditure_csv_rows(expenses) -> Iterator[str]:
    """Yield the expense list as CSV lines, a header first, text neutralised against formula injection."""
    writer = csv.writer(_Echo())
    statuses = dict(Expenditure.Status.choices)
    yield writer.writerow(
        [
            _("Date incurred"),
            _("Partner"),
            _("Budget heading"),
            _("Activity"),
            _("Description"),
            _("Supplier"),
            _("Document reference"),
            _("Status"),
            _("Amount"),
            _("Currency"),
            _("Rate (units per EUR)"),
            _("Amount (EUR)"),
        ]
    )
    for row in expenses.values_list(*EXPENSE_COLUMNS).iterator(2000):
        date, partner, code, activity, description, supplier, ref, status, amount, currency, rate, eur = row
        yield writer.writerow(
            [
                date.isoformat(),
                neutralise(partner),
                code,
                activity or "",
                neutralise(description),
                neutralise(supplier),
                neutralise(ref),
                str(statuses[status]),
                amount,
                currency,
                rate,
                eur,
            ]
        )
