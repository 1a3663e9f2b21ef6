"""What the apps' admins share: links to permission-checked downloads and the audit history's pages; notifications."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from .models import Notification


def download_link(url_name: str, pk: int, label: str) -> str:
    """Link a stored file to the app's view that checks who may download it.

    MEDIA_URL is None so that no upload is ever served without that check; the admin's own file widget and
    read-only display ask the file for its URL, so admins show this link in their place.
    """
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), label)


def _key_or_404(field, value):
    """Refuse with 404 an id that `field` cannot hold: the lookup would fail with a server error."""
    try:
        field.to_python(value)
    except ValidationError:
        raise Http404 from None


class HistoryAdmin(SimpleHistoryAdmin):
    """The audit history, where a revert is a change, and a malformed id in the address a 404."""

    def history_view(self, request, object_id, extra_context=None):
        _key_or_404(self.model._meta.pk, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _key_or_404(self.model._meta.pk, unquote(object_id))
        _key_or_404(self.model.history.model._meta.pk, version_id)
        # django-simple-history saves a posted revert after checking only the view permission, and judges by
        # the old version: an approved record could be rewritten with a version from before its approval.
        if request.method == "POST":
            current = self.get_object(request, unquote(object_id))
            if current is None or not self.has_change_permission(request, current):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The notifications the services wrote: read-only, as the record of who was told what."""

    list_display = ["created_at", "recipient", "verb", "summary", "actor", "read_at"]
    list_filter = ["verb", ("read_at", admin.EmptyFieldListFilter), "target_type"]
    search_fields = ["summary", "recipient__username", "recipient__email"]
    list_select_related = ["recipient", "actor", "target_type"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
