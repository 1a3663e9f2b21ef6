"""Notification mail, sent once the transaction that caused it has committed."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

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
