"""The project's own views: the health check and the error pages."""

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import server_error

logger = logging.getLogger(__name__)


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
