"""Helpers shared by the apps' forms."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .uploads import upload_check


def form_add_service_errors(form, error: ValidationError):
    """Show a service's ValidationError on the form: on its fields where the form has them, else on top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def form_errors_as_messages(request, form):
    """Tell the user a posted form's errors as messages, for a view that redirects instead of showing the form."""
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)


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


class RevisionField(forms.IntegerField):
    """The revision of the record a form was filled from, kept in a hidden input so that a stale save is refused.

    Only a tampered page sends a value that is not a revision: its errors say to reload rather than name a field
    the user cannot see.
    """

    widget = forms.HiddenInput
    default_error_messages = {
        "required": _("The page did not send which version of the record it shows: reload it and try again."),
        "invalid": _("The page sent a version of the record that does not exist: reload it and try again."),
        "min_value": _("The page sent a version of the record that does not exist: reload it and try again."),
    }

    def __init__(self, **kwargs):
        super().__init__(min_value=0, **kwargs)


class HiddenFieldErrorsMixin:
    """Show the errors of hidden inputs on top of the form: rendered inline, they would stay invisible."""

    def clean(self):
        for field in self.hidden_fields():
            if field.name in self.errors:
                self.add_error(None, self.errors.pop(field.name))
        return super().clean()
