"""PDF with WeasyPrint from the portal's HTML: resources only from its static files, never the network or disk."""

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import fromstring, tostring

import pydyf
from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import HTML, Attachment
from weasyprint.pdf.metadata import NS
from weasyprint.urls import URLFetcher, URLFetcherResponse

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
            raise RefusedURL(f"A PDF loads only the portal's static files, not {url[:200]!r}.")
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


# PDF/A-3 is the archival format that may carry attachments (the SAL's XLSX); tags make the same file
# accessible (PDF/UA-1).
PDF_VARIANT = "pdf/a-3b"


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


def html_to_pdf(html: str, *, supplements: tuple[tuple[str, str, bytes], ...] = ()) -> tuple[bytes, int]:
    """Lay out `html` and return the PDF bytes and the number of pages.

    The PDF is tagged (PDF/UA-1) and archivable (PDF/A-3b); each supplement, a file name, its media type and
    its bytes, is embedded in it.
    """
    rendered = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticFilesFetcher()).render()
    attachments = [
        Attachment(string=content, name=name, description=media_type, relationship="Supplement")
        for name, media_type, content in supplements
    ]
    pdf = rendered.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, attachments=attachments, finisher=_finish)
    return pdf, len(rendered.pages)
