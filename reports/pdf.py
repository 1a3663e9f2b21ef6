"""The SAL as PDF with WeasyPrint: HTML from the same document as the preview, resources only from static files."""

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .models import ProgressReport

# The PDF's relative links resolve against this origin; nothing is ever fetched from it.
PDF_BASE_URL = "https://cocap.invalid/"


class RefusedURL(ValueError):
    """A resource the PDF may not load: anything but the portal's own static files."""


class StaticFilesFetcher(URLFetcher):
    """Serve the portal's static files to WeasyPrint and refuse every other URL: no file://, no network."""

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        origin = urlsplit(PDF_BASE_URL)
        prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
        if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc) or not parts.path.startswith(prefix):
            raise RefusedURL(f"The SAL PDF loads only the portal's static files, not {url[:200]!r}.")
        relative = PurePosixPath(unquote(parts.path.removeprefix(prefix)))
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise RefusedURL(f"Not a static file: {url[:200]!r}.")
        path = finders.find(str(relative))
        if not path:
            raise RefusedURL(f"No such static file: {relative}.")
        with open(path, "rb") as file:
            body = file.read()
        content_type = mimetypes.guess_type(str(relative))[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})


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


def html_to_pdf(html: str) -> tuple[bytes, int]:
    """Lay out `html` and return the PDF bytes and the number of pages."""
    rendered = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticFilesFetcher()).render()
    return rendered.write_pdf(), len(rendered.pages)
