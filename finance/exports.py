"""The financial statement and the Annex III budget as XLSX, the expense list as CSV, safe against formula injection."""

import csv
import datetime
import io
import itertools
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from operator import attrgetter
from xml.sax.saxutils import escape

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from core.formatters import ZERO, months_text
from partners.models import Project

from .models import Budget, Expenditure
from .selectors import BudgetAnnex, FinanceOverview, MoneyRow, RateUsed, exchange_rates_used

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"
# Exchange rates keep the six decimals the Commission publishes.
RATE_FORMAT = "#,##0.000000"


class Rate(Decimal):
    """An exchange rate: a sheet shows it with six decimals, where money has two."""


# A warning: dark red on light red, as spreadsheets mark a bad value.
WARNING_FONT = Font(bold=True, color="9C0006")
WARNING_FILL = PatternFill(fill_type="solid", start_color="FFC7CE", end_color="FFC7CE")


def neutralise(text: str) -> str:
    """Prefix text a spreadsheet would run as a formula with an apostrophe, so it stays text."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


# A table's column: its header and how its value is read from a row.
Column = tuple[str, Callable[[object], object]]


class XlsxSheet:
    """A write-only sheet: money as numbers with two decimals, rates with six, user text never read as a formula."""

    def __init__(self, workbook, title):
        self.sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31])
        self.bold = Font(bold=True)

    def _cell(self, value, bold, warn=False):
        # Plain values are the fast path; only money, bold text and text openpyxl would take for a formula
        # need a cell object.
        if isinstance(value, Decimal):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = RATE_FORMAT if isinstance(value, Rate) else MONEY_FORMAT
            if warn:
                cell.font, cell.fill = WARNING_FONT, WARNING_FILL
            elif bold:
                cell.font = self.bold
            return cell
        if isinstance(value, str) and (bold or value.startswith("=")):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.data_type = "s"
            if bold:
                cell.font = self.bold
            return cell
        return value

    def row(self, *values, bold=False, warn: Iterable[int] = ()):
        """Append `values`; those at the `warn` positions are marked as a warning."""
        warn = set(warn)
        self.sheet.append([self._cell(value, bold, index in warn) for index, value in enumerate(values)])

    def table(self, columns: Iterable[Column], rows: Iterable, *, totals=None, bold_if=None, negative_warns=()):
        """Write the columns' headers in bold, a line for each row, then the `totals` row, if any, in bold.

        `bold_if(row)`, if given, says which rows are written in bold too (computed lines). A negative number in a
        column of `negative_warns` is marked as a warning. Return the rows (and totals) that have one.
        """
        columns, negative_warns, warned = tuple(columns), tuple(negative_warns), []
        self.row(*(str(header) for header, _value in columns), bold=True)
        lines = [(row, bool(bold_if and bold_if(row))) for row in rows] + ([(totals, True)] if totals else [])
        for row, bold in lines:
            values = [value(row) for _header, value in columns]
            warn = [index for index in negative_warns if values[index] < 0]
            if warn:
                warned.append(row)
            self.row(*values, bold=bold, warn=warn)
        return warned


# The money tables' columns after the label: budget, declared, verified and remaining EUR, as the overview shows them.
MONEY_COLUMNS: tuple[Column, ...] = (
    (gettext_lazy("Budget (EUR)"), attrgetter("budget")),
    (gettext_lazy("Declared (EUR)"), attrgetter("declared")),
    (gettext_lazy("Verified (EUR)"), attrgetter("verified")),
    (gettext_lazy("Remaining (EUR)"), attrgetter("remaining")),
)


REMAINING_COLUMN = 4


def _money_sheet(workbook, title: str, rows: list[MoneyRow], totals: MoneyRow):
    """Write a money table; a negative "Remaining" is marked and named in a note row below the table."""
    sheet = XlsxSheet(workbook, title)
    # The sheet's title heads the labels: "By heading" above the headings; Annex III's computed lines in bold.
    columns = ((title, attrgetter("label")), *MONEY_COLUMNS)
    overspent = sheet.table(
        columns, rows, totals=totals, bold_if=attrgetter("is_subtotal"), negative_warns=[REMAINING_COLUMN]
    )
    if overspent:
        sheet.row()
        sheet.row(
            _("Warning: more is verified than budgeted, so the remaining amount is negative, for: %(rows)s.")
            % {"rows": "; ".join(row.label for row in overspent)},
            bold=True,
        )


def _status_label(status: str) -> str:
    return str(Expenditure.Status(status).label)


def _rate_method_label(method: str) -> str:
    return str(Budget.RateMethod(method).label)


# The expenses' columns in the CSV export and the statement: the header, the field read, how its value is written
# (None: as it is).
EXPENSE_COLUMNS: tuple[tuple[str, str, Callable | None], ...] = (
    (gettext_lazy("Date incurred"), "date_incurred", datetime.date.isoformat),
    (gettext_lazy("Partner"), "partner__organisation__short_name", None),
    (gettext_lazy("Budget heading"), "category__code", str),
    (gettext_lazy("Activity"), "activity__number", lambda number: number or ""),
    (gettext_lazy("Description"), "description", None),
    (gettext_lazy("Supplier"), "supplier", None),
    (gettext_lazy("Document reference"), "document_ref", None),
    (gettext_lazy("Status"), "status", _status_label),
    (gettext_lazy("Amount"), "amount", None),
    (gettext_lazy("Currency"), "currency", None),
    (gettext_lazy("Rate (units per EUR)"), "exchange_rate", Rate),
    (gettext_lazy("Amount (EUR)"), "amount_eur", None),
)


def _expense_headers() -> list[str]:
    return [str(header) for header, _field, _write in EXPENSE_COLUMNS]


def _expense_rows(expenses: QuerySet[Expenditure]) -> Iterator[list]:
    """Yield each expense's values in the columns' order, written as both exports write them."""
    fields = [field for _header, field, _write in EXPENSE_COLUMNS]
    # A status is translated once per export, not once per expense.
    statuses = {status: _status_label(status) for status in Expenditure.Status.values}
    writers = [statuses.__getitem__ if write is _status_label else write for _header, _field, write in EXPENSE_COLUMNS]
    for values in expenses.values_list(*fields).iterator(2000):
        yield [write(value) if write else value for write, value in zip(writers, values, strict=True)]


def _rate_method_text(rate: RateUsed) -> str:
    label = _rate_method_label(rate.method)
    return f"{label} ({_('provisional')})" if rate.provisional else label


# The rates the declared expenses are converted at, one line per currency, method, months and rate.
RATE_COLUMNS: tuple[Column, ...] = (
    (gettext_lazy("Currency"), attrgetter("currency")),
    (gettext_lazy("Method"), _rate_method_text),
    (gettext_lazy("Months"), lambda rate: months_text(rate.first_month, rate.last_month)),
    (gettext_lazy("Rate (units per EUR)"), lambda rate: Rate(rate.rate)),
    (gettext_lazy("Expenses"), attrgetter("expenses")),
    (gettext_lazy("Amount"), attrgetter("amount")),
    (gettext_lazy("Amount (EUR)"), attrgetter("amount_eur")),
)


def financial_statement_xlsx(*, project: Project, overview: FinanceOverview, expenses: QuerySet[Expenditure]) -> bytes:
    """Build the statement: a summary, the totals by heading, partner and activity, the rates and the `expenses`."""
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
    _money_sheet(workbook, _("By heading"), overview.annex, overview.totals)
    if overview.partners:
        _money_sheet(workbook, _("By partner"), overview.partners, overview.totals)
    if overview.activities:
        _money_sheet(workbook, _("By activity"), overview.activities, overview.totals)
    sheet = XlsxSheet(workbook, _("Declared expenses"))
    sheet.row(*_expense_headers(), bold=True)
    # openpyxl makes an object of every cell it writes, which takes most of the time for tens of thousands of
    # expenses: it writes the sheet's header and the money and rate styles, the expenses' rows are put in after
    # it saves.
    money_style = WriteOnlyCell(sheet.sheet)
    money_style.number_format = MONEY_FORMAT
    rate_style = WriteOnlyCell(sheet.sheet)
    rate_style.number_format = RATE_FORMAT
    expenses_sheet = len(workbook.worksheets)
    rates = XlsxSheet(workbook, _("Exchange rates"))
    rates.row(_("Exchange-rate method of the contract"), budget.get_rate_method_display())
    rates.table(RATE_COLUMNS, exchange_rates_used(expenses=expenses, budget=budget))
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = f"xl/worksheets/sheet{expenses_sheet}.xml"
    styles = {"money": money_style.style_id, "rate": rate_style.style_id}
    return _with_rows(buffer.getvalue(), path, _xlsx_rows(_expense_rows(expenses), styles, len(EXPENSE_COLUMNS)))


def _xlsx_rows(rows: Iterable[list], styles: dict[str, int], columns: int, first: int = 2) -> Iterator[str]:
    """Write `rows` as a sheet's XML rows, as openpyxl would: text inline, money and rates in their `styles`, blanks
    left out."""
    letters = [get_column_letter(column) for column in range(1, columns + 1)]
    for number, values in enumerate(rows, first):
        cells = []
        for letter, value in zip(letters, values, strict=True):
            if value is None or value == "":
                continue
            ref = f"{letter}{number}"
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
                space = ' xml:space="preserve"' if value != value.strip() else ""
                if "&" in value or "<" in value or ">" in value:
                    value = escape(value)
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{value}</t></is></c>')
            else:
                style = ""
                if isinstance(value, Decimal):
                    style = f' s="{styles["rate" if isinstance(value, Rate) else "money"]}"'
                cells.append(f'<c r="{ref}"{style} t="n"><v>{value:.16g}</v></c>')
        yield f'<row r="{number}">{"".join(cells)}</row>'


def _with_rows(xlsx: bytes, path: str, rows: Iterable[str]) -> bytes:
    """Return the workbook `xlsx` with `rows` added at the end of the sheet stored at `path`."""
    # Built in a file rather than in memory: only the finished workbook is read into memory, once.
    with tempfile.TemporaryFile() as file, zipfile.ZipFile(io.BytesIO(xlsx)) as source:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename != path:
                    target.writestr(item, data)
                    continue
                head, tail = data.split(b"</sheetData>")
                with target.open(item.filename, "w") as sheet:
                    sheet.write(head)
                    # A hundred rows at a time: the compressor costs less called on longer pieces.
                    for chunk in itertools.batched(rows, 100):
                        sheet.write("".join(chunk).encode())
                    sheet.write(b"</sheetData>" + tail)
        file.seek(0)
        return file.read()


def budget_annex_xlsx(*, project: Project, annex: BudgetAnnex) -> bytes:
    """Write the budget in the Annex III layout `finance.annex_xlsx` reads back: lines by partner, then by activity.

    The computed lines hold their values, computed in Decimal, rather than formulas: a file read back without a
    spreadsheet having recalculated it keeps them.
    """
    workbook = Workbook(write_only=True)
    budget = annex.budget
    sheet = XlsxSheet(workbook, _("Annex III"))
    sheet.row(_("Annex III – budget of the action"), project.title, bold=True)
    sheet.row(_("Budget version"), budget.version, _("Amounts in EUR"), str(annex.partner or ""))
    # Row 3, the header `finance.annex_xlsx` reads.
    names = [partner.organisation.name for partner in annex.partners]
    sheet.row(_("Line"), _("Heading"), *names, _("Total"), bold=True)
    for line in annex.lines:
        amounts = annex.row(line)
        sheet.row(line.number, line.label, *amounts, sum(amounts, ZERO), bold=line.is_total)
    if annex.activities:
        split = XlsxSheet(workbook, _("By activity"))
        split.row(_("Line"), _("Heading"), _("Partner"), _("Activity"), _("Title"), _("Amount (EUR)"), bold=True)
        for row in annex.activities:
            split.row(
                row.line.number,
                row.line.label,
                row.partner.organisation.name,
                row.activity_number,
                row.activity_title,
                row.amount,
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _Echo:
    def write(self, value):
        return value


def expenditure_csv_rows(expenses: QuerySet[Expenditure]) -> Iterator[str]:
    """Yield the expense list as CSV lines, a header first, text neutralised against formula injection."""
    writer = csv.writer(_Echo())
    yield writer.writerow(_expense_headers())
    for row in _expense_rows(expenses):
        yield writer.writerow([neutralise(value) if isinstance(value, str) else value for value in row])
