"""Helpers shared by the apps' views."""

from django.contrib import messages
from django.core.exceptions import ValidationError


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
