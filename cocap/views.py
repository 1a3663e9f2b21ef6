"""The project's own views: the health check and the error pages."""

import logging
import sys
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET
from django.views.defaults import server_error

logger = logging.getLogger(__name__)
GET_OBJECT_OR_404_MESSAGE = "No %s matches the given query."


@login_not_required
@never_cache
@require_GET
def health(request):
    """Answer 200 when the database answers, 503 otherwise: for the proxy and the monitoring."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database does not answer")
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def server_error_or_unavailable(request):
    """Answer 503 "try again in a moment" when the database dropped the request (a restart), else the 500 page.

    Django calls this while handling the exception, in a view or in a middleware (the session, the user),
    so sys.exc_info() tells which. The request's transaction was rolled back: nothing is half-saved, and
    the next request reconnects (CONN_HEALTH_CHECKS).
    """
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = HttpResponse(render_to_string("503.html", request=None), status=503)
        response["Retry-After"] = "10"
        return response
    return server_error(request)


def came_from(request) -> str:
    """The page of this portal the user came from, to offer the way back; empty if none or elsewhere.

    A refused form may go back to its own page; a refused page may not, it would only be refused again.
    """
    referer = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=request.is_secure()):
        return ""
    if request.method in ("GET", "HEAD") and urlsplit(referer).path == request.path:
        return ""
    return referer


def _message(exception) -> str:
    return exception.args[0] if exception is not None and exception.args and isinstance(exception.args[0], str) else ""


@requires_csrf_token
def permission_denied(request, exception=None):
    """Say why the page is refused (the PermissionDenied's message) and offer the way back."""
    context = {"reason": _message(exception), "came_from": came_from(request)}
    return HttpResponseForbidden(render_to_string("403.html", context, request=request))


@requires_csrf_token
def page_not_found(request, exception=None):
    """Say that the page does not exist or is not visible to the user, with the reason a view gave."""
    reason = _message(exception)
    # get_object_or_404's message names a model class: it means nothing to the user. Django's catalogue
    # translates it; passed as a name, the text stays out of the portal's own catalogue.
    prefix, _placeholder, suffix = gettext(GET_OBJECT_OR_404_MESSAGE).partition("%s")
    if reason.startswith(prefix) and reason.endswith(suffix):
        reason = ""
    context = {"reason": reason, "came_from": came_from(request)}
    return HttpResponseNotFound(render_to_string("404.html", context, request=request))


def csrf_failure(request, reason=""):
    """Explain a refused form: most often a page left open across a login, a logout or an expired session."""
    context = {"no_cookie": reason == REASON_NO_CSRF_COOKIE, "came_from": came_from(request)}
    return HttpResponseForbidden(render_to_string("403_csrf.html", context, request=request))
