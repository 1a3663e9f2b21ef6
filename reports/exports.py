"""The SAL's tables as an XLSX companion to the PDF, from the same figures."""

import io
from decimal import Decimal
from operator import itemgetter

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from finance.exports import Column, Rate, XlsxSheet

from .models import ProgressReport


def _money(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _percent(value: str | None) -> float | None:
    return float(value) if value is not None else None


# The SAL's money tables' columns after the label, read from the figures' rows.
SAL_MONEY_COLUMNS: tuple[Column, ...] = (
    (gettext_lazy("Budget (EUR)"), lambda row: _money(row["budget"])),
    (gettext_lazy("Verified in the period (EUR)"), lambda row: _money(row["verified_in_period"])),
    # Snapshots before schema 2 have no such figure: the cell stays empty.
    (gettext_lazy("Of which from earlier periods (EUR)"), lambda row: _money(row.get("verified_earlier_periods"))),
    (gettext_lazy("Verified to date (EUR)"), lambda row: _money(row["verified"])),
    (gettext_lazy("Verified / budget (%)"), lambda row: _percent(row["percent"])),
)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_file_name(report: ProgressReport) -> str:
    """Name the SAL's files, without extension: project, SAL number, version, and whether it is a draft."""
    draft = "" if report.is_frozen else "-draft"
    return f"{report.project.code}-sal-{report.period.number}-v{report.version}{draft}"


# The exchange rates' columns, read from the figures' rows.
SAL_RATE_COLUMNS: tuple[Column, ...] = (
    (gettext_lazy("Currency"), itemgetter("currency")),
    (gettext_lazy("Method"), lambda row: row["method"] + (f" ({_('provisional')})" if row["provisional"] else "")),
    (gettext_lazy("Months"), itemgetter("months")),
    (gettext_lazy("Rate (units per EUR)"), lambda row: Rate(row["rate"])),
    (gettext_lazy("Expenses"), itemgetter("expenses")),
    (gettext_lazy("Amount"), lambda row: _money(row["amount"])),
    (gettext_lazy("Amount (EUR)"), lambda row: _money(row["amount_eur"])),
)


def progress_report_xlsx(report: ProgressReport, figures: dict) -> bytes:
    """Write the SAL's tables: actions, indicators, highlights, money by heading and partner, checks, pending."""
    with translation.override(report.language):
        workbook = Workbook(write_only=True)
        actions = XlsxSheet(workbook, _("Actions"))
        actions.row(
            _("Activity"),
            _("Action"),
            _("Title"),
            _("Responsible"),
            _("Planned start month"),
            _("Planned end month"),
            _("Progress (%)"),
            _("Expected (%)"),
            _("Late"),
            bold=True,
        )
        indicators = XlsxSheet(workbook, _("Indicators"))
        indicators.row(_("Activity"), _("Indicator"), _("Unit"), _("Target"), _("Achieved"), bold=True)
        highlights = XlsxSheet(workbook, _("Highlights"))
        highlights.row(
            _("Activity"), _("Action"), _("Date"), _("Partner"), _("Progress (%)"), _("Narrative"), bold=True
        )
        for activity in figures["activities"]:
            for action in activity["actions"]:
                actions.row(
                    activity["number"],
                    action["code"],
                    action["title"],
                    action["responsible"],
                    action["start_month"],
                    action["end_month"],
                    action["progress"],
                    action["expected"],
                    _("yes") if action["late"] else _("no"),
                )
            for indicator in activity["indicators"]:
                indicators.row(
                    activity["number"],
                    indicator["name"],
                    indicator["unit"],
                    _money(indicator["target"]),
                    _money(indicator["achieved"]),
                )
            for highlight in activity["highlights"]:
                highlights.row(
                    activity["number"],
                    highlight["action"],
                    highlight["date"],
                    highlight["partner"],
                    highlight["percent"],
                    highlight["narrative"],
                )
        finance = figures["finance"]
        if finance:
            for title, label, rows in (
                (_("By heading"), _("Heading"), finance["headings"]),
                (_("By partner"), _("Partner"), finance["partners"]),
            ):
                columns = ((label, itemgetter("label")), *SAL_MONEY_COLUMNS)
                XlsxSheet(workbook, title).table(
                    columns, rows, totals=finance["totals"], bold_if=lambda row: row.get("subtotal")
                )
            # Snapshots before schema 3 have no rates: no sheet.
            if "rates" in finance:
                XlsxSheet(workbook, _("Exchange rates")).table(SAL_RATE_COLUMNS, finance["rates"])
            checks = XlsxSheet(workbook, _("EU rule checks"))
            checks.row(_("Check"), _("Figures"), _("Verdict"), bold=True)
            for check in finance["checks"]:
                checks.row(check["title"], check["figures"], check["verdict"])
        pending = figures["pending"]
        sheet = XlsxSheet(workbook, _("Pending"))
        sheet.row(_("Still pending at the period end"), _("Number"), _("Amount (EUR)"), bold=True)
        sheet.row(_("Progress entries awaiting review"), pending["entries_submitted"], None)
        sheet.row(_("Progress entries returned to partners"), pending["entries_returned"], None)
        sheet.row(
            _("Expenses awaiting verification"),
            pending["expenses_submitted"],
            _money(pending["expenses_submitted_eur"]),
        )
        sheet.row(
            _("Expenses returned to partners"), pending["expenses_returned"], _money(pending["expenses_returned_eur"])
        )
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
