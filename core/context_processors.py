"""What every page's navigation bar shows."""

from .selectors import notification_unread_count


def notifications(request):
    """Offer the unread count as a callable: the query runs only on a page that shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notification_count": lambda: notification_unread_count(user=user)}
