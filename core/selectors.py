"""Reads of a user's own notifications."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import Notification


def notification_list(*, user) -> QuerySet[Notification]:
    """Return the user's notifications, newest first; each carries what the list shows, so no query per row."""
    return Notification.objects.filter(recipient=user).select_related("actor", "target_type")


def notification_unread_count(*, user) -> int:
    """Count the user's unread notifications in one query."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get(*, user, pk: int) -> Notification:
    """Return one of the user's notifications; another user's answers 404."""
    return get_object_or_404(Notification, recipient=user, pk=pk)
