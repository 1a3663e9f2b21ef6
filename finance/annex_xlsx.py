"""The budget in the Annex III layout of the grant contract: its lines, and reading a workbook written in it.

The first sheet holds the Annex lines as rows and the partners as columns. Rows 1 and 2 describe the budget and
are not read; row 3 names the columns: A the line number, B the heading, then each partner by its organisation's
full name, and a last column headed "Total" (in any of the portal's languages). Each row below is a line: a
heading by its code in column A, or a computed line (subtotal of direct costs, total direct eligible costs, total
eligible costs) after the headings it adds up. An optional second sheet splits the partner and heading amounts by
activity, a row each, from row 2: A the heading's code, C the partner, D the activity number, F the amount
(B and E repeat the heading's and the activity's names for the reader and are not read).
"""

import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from activities.models import Activity
from core.formatters import CENT, ZERO, money_text
from partners.models import Partner

from .models import CostCategory

Kind = CostCategory.Kind

HEADER_ROW = 3
ACTIVITY_FIRST_ROW = 2
# The columns of the activity sheet: heading code, heading name, partner, activity number, its title, amount.
ACTIVITY_COLUMNS = {"heading": 0, "partner": 2, "activity": 3, "amount": 5}
# A budget file is a few kilobytes: these caps refuse a hostile workbook before it fills the memory.
MAX_FILE_BYTES = 1024 * 1024
MAX_UNPACKED_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 60
MAX_ERRORS = 50
MAX_AMOUNT = Decimal("999999999999.99")


@dataclass(frozen=True)
class AnnexLine:
    """A line of Annex III: a heading (`category`), or a total of the headings whose ids it `adds`."""

    number: int
    label: str
    category: CostCategory | None = None
    adds: tuple[int, ...] = ()

    @property
    def is_total(self) -> bool:
        return self.category is None

    def amount(self, amounts: dict[int, Decimal]) -> Decimal:
        """Return the line's amount in a column whose heading amounts are `amounts` (by category id)."""
        if not self.is_total:
            return amounts.get(self.category.pk, ZERO)
        return sum((amounts.get(category_id, ZERO) for category_id in self.adds), ZERO)


# The line after the headings of each kind, adding them up with those before: the Annex's lines 7, 9, 11 and 13.
TOTAL_LABELS = {
    Kind.DIRECT: gettext_lazy("Subtotal direct costs"),
    Kind.CONTINGENCY: gettext_lazy("Total direct eligible costs"),
    Kind.INDIRECT: gettext_lazy("Total eligible costs"),
    Kind.TAXES: gettext_lazy("Total accepted costs"),
}
KIND_ORDER = (Kind.DIRECT, Kind.CONTINGENCY, Kind.INDIRECT, Kind.TAXES)


def annex_layout_lines(categories) -> list[AnnexLine]:
    """Lay the headings out as Annex III lines, each kind's headings followed by the total of all lines so far.

    Direct headings and their subtotal, contingency and the total direct eligible costs, indirect costs and the
    total eligible costs, then, where the contract makes them eligible, taxes and the total accepted costs.
    A computed line takes the number after the line before it, so headings 1-6 direct, 8 contingency, 10 indirect
    and 12 taxes give the Annex's 7, 9, 11 and 13; a kind with no heading has no total of its own, but the total
    eligible costs are always there.
    """
    lines, number, added = [], 0, []
    for kind in KIND_ORDER:
        headings = sorted((c for c in categories if c.kind == kind), key=lambda c: c.code)
        for category in headings:
            lines.append(AnnexLine(number=category.code, label=_(category.name), category=category))
            number = category.code
            added.append(category.pk)
        if headings or kind == Kind.INDIRECT:
            number += 1
            lines.append(AnnexLine(number=number, label=str(TOTAL_LABELS[kind]), adds=tuple(added)))
    return lines


@dataclass
class AnnexImport:
    """What a workbook in the Annex III layout says: amounts by (partner id, category id, activity id or None)."""

    amounts: dict[tuple[int, int, int | None], Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


def _normal(text) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _total_headers() -> set[str]:
    """The "Total" header in every language of the portal: a file exported in one may be imported in another."""
    names = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.add(_normal(_("Total")))
    return names


class _Errors:
    """Errors located at a sheet's cell, kept up to a cap so that a broken file gives a readable list."""

    def __init__(self):
        self.messages = []

    def add(self, sheet: str, row: int, column: int | None, message: str):
        if column is None:
            where = _("Sheet “%(sheet)s”, row %(row)d") % {"sheet": sheet, "row": row}
        else:
            where = _("Sheet “%(sheet)s”, row %(row)d, column %(column)s") % {
                "sheet": sheet,
                "row": row,
                "column": get_column_letter(column + 1),
            }
        self.messages.append(f"{where}: {message}")

    def raise_if_any(self):
        if self.messages:
            shown = self.messages[:MAX_ERRORS]
            if len(self.messages) > MAX_ERRORS:
                shown.append(_("… and %(count)d more errors.") % {"count": len(self.messages) - MAX_ERRORS})
            raise ValidationError(shown, code="bad_cells")


def _amount(value) -> tuple[Decimal | None, str]:
    """Read a cell as an amount in EUR: (amount or None when empty, error message or "")."""
    if _blank(value):
        return None, ""
    shown = str(value)[:40]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, _("“%(value)s” is not an amount.") % {"value": shown}
    try:
        # A float's shortest text is what the spreadsheet shows: 1234.56, never 1234.5599999.
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        return None, _("“%(value)s” is not an amount: write digits with a point before the cents.") % {"value": shown}
    if not amount.is_finite():
        return None, _("“%(value)s” is not an amount.") % {"value": shown}
    if amount < 0:
        return None, _("%(value)s is negative: amounts are zero or more.") % {"value": shown}
    if amount > MAX_AMOUNT:
        return None, _("%(value)s is too large for an amount.") % {"value": shown}
    if amount != amount.quantize(CENT):
        return None, _("%(value)s has more than two decimals: amounts are in euro and cents.") % {"value": shown}
    return amount.quantize(CENT), ""


def _line_number(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().rstrip(".").isdecimal() and len(value.strip()) < 6:
        return int(value.strip().rstrip("."))
    return None


def _read_rows(file) -> list[tuple[str, list[tuple]]]:
    """Return each sheet's title and rows (at most two sheets, capped rows and columns) or a clear refusal."""
    if file.size > MAX_FILE_BYTES:
        raise ValidationError(
            _("The file is %(size)s; a budget workbook may be at most %(limit)s.")
            % {"size": filesizeformat(file.size), "limit": filesizeformat(MAX_FILE_BYTES)},
            code="too_large",
        )
    not_xlsx = ValidationError(
        _("The file is not an XLSX workbook: save it from your spreadsheet as Excel (.xlsx) and try again."),
        code="not_xlsx",
    )
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise not_xlsx from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationError(
            _("The workbook unpacks to %(size)s, more than a budget needs (at most %(limit)s): refused.")
            % {"size": filesizeformat(unpacked), "limit": filesizeformat(MAX_UNPACKED_BYTES)},
            code="too_large",
        )
    file.seek(0)
    sheets = []
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets[:2]:
                rows = list(sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS + 1, values_only=True))
                sheets.append((sheet.title, rows))
        finally:
            workbook.close()
    except Exception:
        # A damaged or hostile file fails inside openpyxl in many ways; the user needs one answer.
        raise not_xlsx from None
    for title, rows in sheets:
        if len(rows) > MAX_ROWS and any(not _blank(value) for value in rows[MAX_ROWS]):
            raise ValidationError(
                _("Sheet “%(sheet)s” has more than %(rows)d rows: a budget has far fewer.")
                % {"sheet": title, "rows": MAX_ROWS},
                code="too_large",
            )
        if any(len(row) > MAX_COLUMNS and not _blank(row[MAX_COLUMNS]) for row in rows):
            raise ValidationError(
                _("Sheet “%(sheet)s” has more than %(columns)d columns: a budget has far fewer.")
                % {"sheet": title, "columns": MAX_COLUMNS},
                code="too_large",
            )
    if not sheets:
        raise not_xlsx
    return [(title, rows[:MAX_ROWS]) for title, rows in sheets]


def _partners_by_name(partners: list[Partner]) -> dict[str, Partner]:
    return {_normal(partner.organisation.name): partner for partner in partners}


def _read_grid(title, rows, *, lines, partners, errors) -> dict[tuple[int, int], Decimal]:
    """Read the first sheet's amounts by (partner id, category id), checking the totals it gives."""
    if len(rows) < HEADER_ROW:
        errors.add(title, HEADER_ROW, None, _("the header row with the partners' names is missing."))
        return {}
    by_name, totals = _partners_by_name(partners), _total_headers()
    # The columns of partners already refused in the header: their cells are not reported again.
    columns, total_column, seen, refused_columns = {}, None, {}, set()
    for index, value in enumerate(rows[HEADER_ROW - 1][2:], start=2):
        if _blank(value):
            continue
        name = _normal(value)
        if name in totals and total_column is None:
            total_column = index
        elif name in by_name and name not in seen:
            columns[index] = by_name[name]
            seen[name] = index
        elif name in seen:
            refused_columns.add(index)
            errors.add(
                title,
                HEADER_ROW,
                index,
                _("“%(name)s” is named twice (also column %(column)s).")
                % {"name": str(value)[:200], "column": get_column_letter(seen[name] + 1)},
            )
        else:
            refused_columns.add(index)
            errors.add(
                title,
                HEADER_ROW,
                index,
                _("unknown partner “%(name)s”: write the organisation's full name as the budget page shows it.")
                % {"name": str(value)[:200]},
            )
    by_number = {line.number: line for line in lines}
    cells, line_rows, given_totals, row_totals = {}, {}, [], []
    for row_number, row in enumerate(rows[HEADER_ROW:], start=HEADER_ROW + 1):
        if all(_blank(value) for value in row):
            continue
        number = _line_number(row[0]) if row else None
        line = by_number.get(number)
        if line is None and _blank(row[0]):
            errors.add(title, row_number, 0, _("no line number: column A gives each row's heading code."))
            continue
        if line is None:
            errors.add(title, row_number, 0, _("unknown heading “%(value)s”.") % {"value": str(row[0])[:40]})
            continue
        if line.number in line_rows:
            errors.add(
                title,
                row_number,
                0,
                _("line %(line)d is also on row %(row)d.") % {"line": number, "row": line_rows[number]},
            )
            continue
        line_rows[line.number] = row_number
        row_sum, amounts = ZERO, {}
        for index, value in enumerate(row):
            if index < 2 or index == total_column or index in refused_columns:
                continue
            amount, error = _amount(value)
            if error:
                errors.add(title, row_number, index, error)
            elif amount is not None and index not in columns:
                errors.add(
                    title, row_number, index, _("this column names no partner in row %(row)d.") % {"row": HEADER_ROW}
                )
            elif amount is not None:
                amounts[columns[index].pk] = amount
                row_sum += amount
                if not line.is_total and amount:
                    cells[(columns[index].pk, line.category.pk)] = amount
        total = None
        if total_column is not None and total_column < len(row):
            total, error = _amount(row[total_column])
            if error:
                errors.add(title, row_number, total_column, error)
                total = None
        if line.is_total:
            given_totals.append((line, row_number, amounts, total))
        elif total is not None and total != row_sum:
            row_totals.append((line, row_number, total, row_sum))
    # Totals are checked once every amount is readable: a wrong cell would make them all look wrong.
    if not errors.messages:
        for line, row_number, total, row_sum in row_totals:
            errors.add(title, row_number, total_column, _mismatch(line.label, total, row_sum))
        _check_totals(title, given_totals, cells, columns, total_column, errors)
    return cells


def _mismatch(label: str, given: Decimal, computed: Decimal) -> str:
    return _("“%(line)s” says %(given)s, but its amounts add up to %(computed)s.") % {
        "line": label,
        "given": money_text(given),
        "computed": money_text(computed),
    }


def _check_totals(title, given_totals, cells, columns, total_column, errors):
    """Check each total line the file gives against the headings it adds up, in each partner's column and in all."""
    for line, row_number, amounts, total in given_totals:
        overall = ZERO
        for index, partner in columns.items():
            computed = line.amount({category: amount for (pk, category), amount in cells.items() if pk == partner.pk})
            overall += computed
            if partner.pk in amounts and amounts[partner.pk] != computed:
                errors.add(title, row_number, index, _mismatch(line.label, amounts[partner.pk], computed))
        if total is not None and total != overall:
            errors.add(title, row_number, total_column, _mismatch(line.label, total, overall))


def _read_activities(title, rows, *, categories, partners, activities, errors) -> dict:
    """Read the activity sheet: (partner id, category id, activity id) -> (amount, row)."""
    by_name = _partners_by_name(partners)
    by_code = {category.code: category for category in categories}
    by_number = {activity.number: activity for activity in activities}
    found = {}
    columns = ACTIVITY_COLUMNS
    for row_number, row in enumerate(rows[ACTIVITY_FIRST_ROW - 1 :], start=ACTIVITY_FIRST_ROW):
        if all(_blank(value) for value in row):
            continue
        row = tuple(row) + (None,) * (columns["amount"] + 1 - len(row))
        amount, error = _amount(row[columns["amount"]])
        if error:
            errors.add(title, row_number, columns["amount"], error)
        category = by_code.get(_line_number(row[columns["heading"]]))
        if category is None:
            value = str(row[columns["heading"]] or "")[:40]
            errors.add(title, row_number, columns["heading"], _("unknown heading “%(value)s”.") % {"value": value})
        partner = by_name.get(_normal(row[columns["partner"]] or ""))
        if partner is None:
            errors.add(
                title,
                row_number,
                columns["partner"],
                _("unknown partner “%(name)s”.") % {"name": str(row[columns["partner"]] or "")[:200]},
            )
        activity = by_number.get(_line_number(row[columns["activity"]]))
        if activity is None:
            value = str(row[columns["activity"]] or "")[:40]
            errors.add(title, row_number, columns["activity"], _("unknown activity “%(value)s”.") % {"value": value})
        if error or category is None or partner is None or activity is None or not amount:
            continue
        key = (partner.pk, category.pk, activity.pk)
        if key in found:
            errors.add(
                title,
                row_number,
                None,
                _("the same partner, heading and activity are also on row %(row)d.") % {"row": found[key][1]},
            )
            continue
        found[key] = (amount, row_number)
    return found


def annex_read_xlsx(file, *, categories, partners: list[Partner], activities: list[Activity]) -> AnnexImport:
    """Read a budget from a workbook in the Annex III layout, or raise a ValidationError listing every wrong cell."""
    sheets = _read_rows(file)
    errors = _Errors()
    lines = annex_layout_lines(categories)
    title, rows = sheets[0]
    cells = _read_grid(title, rows, lines=lines, partners=partners, errors=errors)
    by_activity = {}
    if len(sheets) > 1:
        activity_title, activity_rows = sheets[1]
        by_activity = _read_activities(
            activity_title,
            activity_rows,
            categories=categories,
            partners=partners,
            activities=activities,
            errors=errors,
        )
    errors.raise_if_any()
    split, first_rows = defaultdict(lambda: ZERO), {}
    for (partner_id, category_id, _activity_id), (amount, row_number) in by_activity.items():
        split[(partner_id, category_id)] += amount
        first_rows.setdefault((partner_id, category_id), row_number)
    for key, spread in split.items():
        amount = cells.get(key, ZERO)
        if spread > amount:
            partner = next(p for p in partners if p.pk == key[0])
            category = next(c for c in categories if c.pk == key[1])
            errors.add(
                sheets[1][0],
                first_rows[key],
                None,
                _(
                    "the activities of %(partner)s under heading %(code)d add up to %(spread)s, more than its "
                    "%(amount)s on sheet “%(sheet)s”."
                )
                % {
                    "partner": partner.organisation.name,
                    "code": category.code,
                    "spread": money_text(spread),
                    "amount": money_text(amount),
                    "sheet": sheets[0][0],
                },
            )
    errors.raise_if_any()
    result = AnnexImport({key: amount for key, (amount, _row) in by_activity.items()})
    for (partner_id, category_id), amount in cells.items():
        rest = amount - split.get((partner_id, category_id), ZERO)
        if rest:
            result.amounts[(partner_id, category_id, None)] = rest
    if not result.total:
        raise ValidationError(_("The workbook holds no amounts: there is no budget to import."), code="empty")
    return result
