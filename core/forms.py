"""Helpers shared by the apps' forms."""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .uploads import CheckedUpload, held_upload_names, upload_check, uploads_hold, uploads_release, uploads_take_held
from .validators import MaxCharsValidator


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


def form_token_field() -> forms.UUIDField:
    """A hidden one-time token, new on each blank form: the record the form creates keeps it, so it is created once."""
    return forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)


def _max_chars_hint(limit: int) -> str:
    return gettext("At most %(limit)s characters.") % {"limit": number_format(limit, force_grouping=True)}


max_chars_hint = lazy(_max_chars_hint, str)


class LimitedTextField(forms.CharField):
    """A free text with a length limit, counted as the database counts it, and a live counter in the browser."""

    def __init__(self, *, max_chars: int, rows: int = 6, **kwargs):
        self.max_chars = max_chars
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        super().__init__(**kwargs)
        self.validators.append(MaxCharsValidator(max_chars))
        hint = max_chars_hint(max_chars)
        self.help_text = format_lazy("{} {}", self.help_text, hint) if self.help_text else hint

    def to_python(self, value):
        # Browsers send a textarea's line breaks as CRLF: keep one character for each, as the counter showed.
        value = super().to_python(value)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value

    def widget_attrs(self, widget):
        # No maxlength: a browser would cut a pasted text short without a word; static/js/forms.js counts instead.
        return {**super().widget_attrs(widget), "data-max-chars": str(self.max_chars)}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once, each checked by size and content.

    `accepted` keeps the files that passed even when another did not, so that a form can hold them.
    """

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        self.accepted, errors = [], []
        for file in files:
            file = super().clean(file, initial)
            try:
                self.accepted.append(upload_check(file))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return self.accepted


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


class ListFilterForm(forms.Form):
    """A list's filters, bound to the query string; every field is optional and empty shows all."""

    def filters(self) -> dict:
        """Return each filter's value, None for all; a value not among the choices (a tampered link) is dropped."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) or None for name in self.fields}


class HiddenFieldErrorsMixin:
    """Show the errors of hidden inputs on top of the form: rendered inline, they would stay invisible."""

    def clean(self):
        for field in self.hidden_fields():
            if field.name in self.errors:
                self.add_error(None, self.errors.pop(field.name))
        return super().clean()


class HoldsUploadsMixin:
    """A form whose chosen files survive a failed save: kept on the server and offered again, ticked.

    A browser cannot keep the files of a file input when the page comes back with an error. The view calls
    `uploads()` for the service, then `uploads_saved()` once saved, or `hold_uploads()` before showing errors.
    The template lists `held_uploads` as checkboxes named `held_files` (templates/includes/held_uploads.html).
    """

    uploads_field: str

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session
        names = held_upload_names(session)
        ticked = self.data.getlist("held_files") if self.is_bound else []
        # An id the session does not hold is someone else's or a day old: it is dropped, never opened.
        self.held_uploads = [(hold_id, names[hold_id]) for hold_id in dict.fromkeys(ticked) if hold_id in names]
        self._taken: list[CheckedUpload] = []

    def uploads(self) -> list[CheckedUpload]:
        """Return the files chosen now and those ticked from an earlier try; raise ValidationError if one is gone."""
        self._taken, gone = uploads_take_held(self.session, [hold_id for hold_id, _name in self.held_uploads])
        if gone:
            self._close_taken()
            names = [name for hold_id, name in self.held_uploads if hold_id in gone]
            self.held_uploads = [(hold_id, name) for hold_id, name in self.held_uploads if hold_id not in gone]
            raise ValidationError(
                {
                    self.uploads_field: [
                        gettext("%(name)s is no longer kept for you: choose it again.") % {"name": name}
                        for name in names
                    ]
                },
                code="held_upload_gone",
            )
        return [*self.cleaned_data[self.uploads_field], *self._taken]

    def uploads_saved(self):
        """Forget the held files now stored with the record."""
        self._close_taken()
        uploads_release(self.session, [hold_id for hold_id, _name in self.held_uploads])

    def hold_uploads(self):
        """Keep the files chosen now, which passed their checks, to offer them again with the errors."""
        self._close_taken()
        accepted = getattr(self.fields[self.uploads_field], "accepted", [])
        if not accepted:
            return
        for hold_id, upload in zip(uploads_hold(self.session, accepted), accepted, strict=True):
            if hold_id:
                self.held_uploads.append((hold_id, upload.original_name))
            else:
                self.add_error(
                    self.uploads_field,
                    gettext("%(name)s could not be kept for you: choose it again.") % {"name": upload.original_name},
                )

    def _close_taken(self):
        for upload in self._taken:
            upload.file.close()
        self._taken = []
