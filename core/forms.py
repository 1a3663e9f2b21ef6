"""Helpers shared by the apps' forms."""

from django import forms
from django.core.exceptions import ValidationError

from .uploads import upload_check


def form_add_service_errors(form, error: ValidationError):
    """Show a service's ValidationError on the form: on its fields where the form has them, else on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once, each checked by size and content."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        checked, errors = [], []
        for file in files:
            file = super().clean(file, initial)
            try:
                checked.append(upload_check(file))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return checked
