"""PDF with WeasyPrint from the portal's HTML: resources only from its static files, never the network or disk."""

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import HTML
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


def html_to_pdf(html: str) -> tuple[bytes, int]:
    """Lay out `html` and return the PDF bytes and the number of pages."""
    rendered = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticFilesFetcher()).render()
    return rendered.write_pdf(), len(rendered.pages)
