"""A timesheet as the PDF that documents its expense, laid out by `core.pdf` from the portal's static files only."""

from django.template.loader import render_to_string

from core.pdf import html_to_pdf

from .models import Timesheet


def timesheet_pdf(timesheet: Timesheet, rows: list) -> bytes:
    """Render the timesheet with its rows (each with `amount`) as a PDF."""
    html = render_to_string("finance/timesheet_pdf.html", {"timesheet": timesheet, "rows": rows})
    return html_to_pdf(html)[0]
