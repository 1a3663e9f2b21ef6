"""One log line per request: method, path, status, user id and duration; nothing else about the person."""

import logging
import time

logger = logging.getLogger("cocap.requests")


class RequestLogMiddleware:
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
