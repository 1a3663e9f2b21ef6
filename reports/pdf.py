"""The SAL as PDF with WeasyPrint: HTML from the same document as the preview, resources only from static files."""

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import fromstring, tostring

import pydyf
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from weasyprint import HTML, Attachment
from weasyprint.pdf.metadata import NS
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


# PDF/A-3 is the archival format that may carry the XLSX; tags make the same file PDF/UA-1 accessible.
PDF_VARIANT = "pdf/a-3b"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _finish(document, pdf):
    """Name PDF/UA-1 beside PDF/A-3b in the XMP packet, in one rdf:Description, and list each attachment once.

    WeasyPrint writes one identification per variant; a validator reads both from the same packet.
    """
    # The XML is WeasyPrint's own serialisation of the document's metadata, not outside input.
    rdf = fromstring(document.metadata.generate_rdf_metadata("a", 3, "B"))  # noqa: S314
    description = rdf.find(f"{{{NS['rdf']}}}Description")
    description.set(f"{{{NS['pdfuaid']}}}part", "1")
    packet = b"\n".join(
        (
            b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>',
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + tostring(rdf) + b"</x:xmpmeta>",
            b'<?xpacket end="r"?>',
        )
    )
    metadata = pydyf.Stream([packet], {"Type": "/Metadata", "Subtype": "/XML"}, compress=False)
    pdf.add_object(metadata)
    pdf.catalog["Metadata"] = metadata.reference
    if "AF" in pdf.catalog:
        # WeasyPrint lists each embedded file twice, from the name tree and from its file specification.
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(pdf.catalog["AF"]))


def html_to_pdf(html: str, *, xlsx: tuple[str, bytes] | None = None) -> tuple[bytes, int]:
    """Lay out `html` and return the PDF bytes and the number of pages.

    The PDF is tagged (PDF/UA-1) and archivable (PDF/A-3b); `xlsx`, a file name and its bytes, is embedded
    as the report's supplement.
    """
    rendered = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticFilesFetcher()).render()
    attachments = []
    if xlsx is not None:
        name, content = xlsx
        attachments.append(Attachment(string=content, name=name, description=XLSX_TYPE, relationship="Supplement"))
    pdf = rendered.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, attachments=attachments, finisher=_finish)
    return pdf, len(rendered.pages)
