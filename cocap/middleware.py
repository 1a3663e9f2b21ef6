"""The portal's middleware: the request log, private caching, and the size cap on a request's body."""

import logging
import time

from django.conf import settings
from django.http import FileResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.cache import patch_cache_control

from .views import came_from

logger = logging.getLogger("cocap.requests")


class RequestLogMiddleware:
    """One log line per request: method, path, status, user id and duration; nothing else about the person."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else "-"
        logger.info(
            "%s %s %s user=%s %.0fms",
            request.method,
            request.path,
            response.status_code,
            user_id,
            (time.monotonic() - started) * 1000,
        )
        return response


class PrivateCacheMiddleware:
    """Keep every page of a logged-in user and every download out of shared and browser caches.

    Logging in goes through the session cookie, so a request that sends it, or a response that sets it, is
    treated as a user's; the session itself is not loaded, since the 500 and 503 pages must not need the
    database. Static files are answered before this middleware, and the login page stays cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        cookie = settings.SESSION_COOKIE_NAME
        download = isinstance(response, FileResponse) or response.has_header("Content-Disposition")
        if cookie in request.COOKIES or cookie in response.cookies or download:
            patch_cache_control(response, private=True, no_store=True)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request whose body is larger than COCAP_UPLOAD_MAX_REQUEST_BYTES, before anything reads it.

    Each file already has its own limit (core.uploads); this one stops many files in one form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.COCAP_UPLOAD_MAX_REQUEST_BYTES
        if length > limit:
            logger.warning("Request body of %d bytes refused: the limit is %d", length, limit)
            context = {
                "size": filesizeformat(length),
                "limit": filesizeformat(limit),
                "file_limit": filesizeformat(settings.COCAP_UPLOAD_MAX_BYTES),
                "came_from": came_from(request),
            }
            return render(request, "413.html", context, status=413)
        return self.get_response(request)
