"""Helpers shared by the apps' views, and the health check."""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def run_service(request, service, success: str, **kwargs) -> bool:
    """Call a workflow service as the user; report its outcome as a message. Return whether it succeeded."""
    try:
        service(actor=request.user, **kwargs)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True


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
