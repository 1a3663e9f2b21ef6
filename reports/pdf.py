"""The SAL as PDF: HTML from the same document as the preview, laid out by `core.pdf`."""

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from .models import ProgressReport


def _css_string(text: str) -> str:
    """Quote `text` as a CSS string that cannot end the string or the style element."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ") + '"'


def _page_css(report: ProgressReport) -> str:
    """The margin boxes: 'page X of Y', the EU funding line and which SAL this is, in the report's language."""
    counter = _css_string(_("page %(page)s of %(pages)s") % {"page": "\0", "pages": "\1"})
    # The placeholders are control characters the quoting leaves alone, swapped for CSS counters afterwards.
    counter = counter.replace("\0", '" counter(page) "').replace("\1", '" counter(pages) "')
    title = _("%(project)s – SAL %(number)d, version %(version)d") % {
        "project": report.project.code.upper(),
        "number": report.period.number,
        "version": report.version,
    }
    return (
        f"@page {{ @bottom-right {{ content: {counter}; }}"
        f" @bottom-left {{ content: {_css_string(_('Funded by the European Union'))}; }}"
        f" @top-right {{ content: {_css_string(title)}; }} }}"
    )


def progress_report_html(report: ProgressReport, document: dict) -> str:
    """Render the SAL as a standalone HTML page for print, in the report's language."""
    with translation.override(report.language):
        # Every text in the page CSS went through _css_string, which leaves no way out of the string or <style>.
        page_css = mark_safe(_page_css(report))  # noqa: S308
        context = {"report": report, "document": document, "page_css": page_css}
        return render_to_string("reports/sal_pdf.html", context)
