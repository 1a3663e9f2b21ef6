"""Helpers shared by the apps' views."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from .selectors import notification_get
from .selectors import notification_list as notification_list_for
from .services import notifications_mark_read


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


@dataclass(frozen=True)
class DeletePage:
    """What the confirm-and-delete page of one kind of record needs: its lookups, rule, service and words."""

    name: str  # the record's name in the template context and in the service's arguments
    template: str
    list_url: str
    deleted: str  # the message once deleted
    get: Callable  # (user=, pk=) -> the record, or Http404
    deleted_by: Callable  # (user=, pk=) -> whether this user deleted it
    can_delete: Callable  # (user, record) -> bool
    refusal: Callable  # (record) -> why it cannot be deleted
    delete: Callable  # the service: (actor=, <name>=record)
    details: Callable  # (record) -> what the confirmation shows besides the record


def delete_page(request, pk: int, page: DeletePage):
    """Show what deleting a record removes and delete it on confirmation; say why when it may not be deleted."""
    try:
        record = page.get(user=request.user, pk=pk)
    except Http404:
        # The second click of a double click on Delete finds the record gone: say so to the one who deleted it.
        if request.method == "POST" and page.deleted_by(user=request.user, pk=pk):
            messages.info(request, page.deleted)
            return redirect(page.list_url)
        raise
    if not page.can_delete(request.user, record):
        return render(request, page.template, {page.name: record, "refusal": page.refusal(record)}, status=403)
    if request.method == "POST":
        # Deleted, or not (submitted or deleted meanwhile): the list shows the message either way.
        run_service(request, page.delete, page.deleted, **{page.name: record})
        return redirect(page.list_url)
    return render(request, page.template, {page.name: record, **page.details(record)})


def notification_list(request):
    """List the user's notifications, newest first; mark them all read with one button."""
    if request.method == "POST":
        notifications_mark_read(actor=request.user)
        return redirect("notifications")
    page = Paginator(notification_list_for(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "core/notification_list.html", {"page": page})


def notification_open(request, pk):
    """Mark a notification read and go to its record (or back to the list when the record is gone)."""
    notification = notification_get(user=request.user, pk=pk)
    notifications_mark_read(actor=request.user, pk=notification.pk)
    return redirect(notification.link or "notifications")
