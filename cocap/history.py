"""The admin's pages of the audit history (django-simple-history)."""

from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin


def _key_or_404(field, value):
    """Refuse with 404 an id that `field` cannot hold: the lookup would fail with a server error."""
    try:
        field.to_python(value)
    except ValidationError:
        raise Http404 from None


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin whose history pages answer an address with a malformed id by 404, not by 500."""

    def history_view(self, request, object_id, extra_context=None):
        _key_or_404(self.model._meta.pk, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _key_or_404(self.model._meta.pk, unquote(object_id))
        _key_or_404(self.model.history.model._meta.pk, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)
