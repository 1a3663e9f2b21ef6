"""Notifications: a record in the portal at once, and a mail sent once the transaction that caused it has committed."""

import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from .models import Notification

logger = logging.getLogger(__name__)


def notify_on_commit(*, recipients, subject: str, template: str, context: dict):
    """Send a plain-text mail rendered from `template` after commit; a mail failure never undoes the work."""
    addresses = sorted({user.email for user in recipients if user.email})
    if not addresses:
        return
    body = render_to_string(template, {**context, "site_url": settings.COCAP_SITE_URL})

    def send():
        try:
            send_mail(subject, body, None, addresses)
        except Exception:
            logger.exception("Notification %r to %d recipients failed", subject, len(addresses))

    transaction.on_commit(send)


def notify(
    *, recipients, actor, verb: str, target, summary: str, link: str, subject: str, template: str, context: dict
):
    """Tell `recipients` that `actor` did `verb` to `target`: a notification in the portal and a mail.

    Call inside the service's transaction: the notifications are rolled back with the work, the mail waits
    for the commit. `link` is the record's page (empty once the record is deleted).
    """
    users = {user.pk: user for user in recipients if user.pk != actor.pk}
    target_type = ContentType.objects.get_for_model(target)
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            actor=actor,
            verb=verb,
            target_type=target_type,
            target_id=target.pk,
            summary=summary[:200],
            link=link,
        )
        for user in users.values()
    )
    notify_on_commit(recipients=users.values(), subject=subject, template=template, context=context)
