"""Helpers shared by the apps' forms."""

from django.core.exceptions import ValidationError


def form_add_service_errors(form, error: ValidationError):
    """Show a service's ValidationError on the form: on its fields where the form has them, else on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
