"""Write helpers shared by the apps' services: audited saves, creations made once, row locks, review transitions."""

import logging
import uuid

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Notification

logger = logging.getLogger(__name__)


def save_audited(instance, actor, **clean_kwargs):
    """Validate and save `instance`, recording `actor` in its history."""
    instance.full_clean(**clean_kwargs)
    instance._history_user = actor
    instance.save()


class AlreadySaved(Exception):
    """The form was sent before and created `instance`; nothing new was created."""

    def __init__(self, instance):
        super().__init__(instance)
        self.instance = instance


def save_audited_once(instance, actor, *, form_token: uuid.UUID | None):
    """Create `instance`, unless its author's form with `form_token` already created one: then raise AlreadySaved.

    A double click or a form sent again makes one record. Call inside a transaction: when two requests race,
    the model's unique constraint on (author, form_token) stops the second, which then finds the first's record.
    """
    if form_token is None:
        save_audited(instance, actor)
        return
    instance.form_token = form_token
    sent_before = type(instance).objects.filter(author=instance.author, form_token=form_token)
    if existing := sent_before.first():
        raise AlreadySaved(existing)
    try:
        with transaction.atomic():
            save_audited(instance, actor)
    except IntegrityError:
        existing = sent_before.first()
        if existing is None:
            raise
        raise AlreadySaved(existing) from None


def delete_audited(instance, actor):
    """Delete `instance`, recording `actor` in its history."""
    instance._history_user = actor
    instance.delete()


def lock_for_change(
    instance,
    *,
    editable,
    refused=None,
    refused_code="invalid_transition",
    permitted=None,
    denied="",
    revision=None,
    stale="",
    gone="",
    select_related=(),
    of=(),
):
    """Lock the row of `instance` and return it fresh, once its status, the actor and the revision allow a change.

    Call inside a transaction. In order, raise:
    - ValidationError `gone` (code "gone") if the row was deleted meanwhile; without `gone`, DoesNotExist;
    - ValidationError `refused` (code `refused_code`) if its status is not in `editable` (None: a record without a
      status); the message may name the row's fields as placeholders, %(status)s as displayed;
    - PermissionDenied `denied` if `permitted(row)` is false;
    - ValidationError `stale` (code "stale") if `revision` is given and the row has another: someone saved it since.
    `of=("self",)` locks the row alone, not the rows `select_related` joins to it.
    """
    rows = type(instance).objects.select_for_update(of=of)
    if select_related:
        rows = rows.select_related(*select_related)
    try:
        locked = rows.get(pk=instance.pk)
    except ObjectDoesNotExist:
        if not gone:
            raise
        raise ValidationError(gone, code="gone") from None
    if editable is not None and locked.status not in editable:
        refused = refused or _("This item is %(status)s and cannot be changed that way.")
        raise ValidationError(refused % {**vars(locked), "status": locked.get_status_display()}, code=refused_code)
    if permitted is not None and not permitted(locked):
        raise PermissionDenied(denied)
    if revision is not None and locked.revision != revision:
        raise ValidationError(stale, code="stale")
    return locked


def review_transition(instance, *, allowed_from, to, actor, reviewed_statuses, note="", prepare=None):
    """Move a reviewed record to status `to`, locking its row so that a race changes it once.

    `prepare(locked)`, if given, completes the fresh row before it is validated and saved with the new status.
    Call inside a transaction. Returns the fresh, saved instance.
    """
    locked = lock_for_change(instance, editable=allowed_from)
    if prepare is not None:
        prepare(locked)
    locked.status = to
    # A review also outdates any edit form opened on the old state.
    locked.revision += 1
    if to in reviewed_statuses:
        locked.reviewer = actor
        locked.reviewed_at = timezone.now()
        locked.review_note = note
    save_audited(locked, actor)
    return locked


def attachments_store(uploads, *, build, actor):
    """Store checked uploads as attachment records made by `build(upload)`; on failure remove the files written.

    Call inside the transaction that creates the record they belong to: a storage failure (a full disk)
    becomes a ValidationError, which rolls the record back too.
    """
    written = []
    try:
        for upload in uploads:
            attachment = build(upload)
            attachment.original_name = upload.original_name
            attachment.content_type = upload.content_type
            attachment.size = upload.size
            attachment.uploaded_by = actor
            try:
                attachment.file.save(upload.stored_name, upload.file, save=False)
            except OSError as error:
                logger.exception("Storing the upload %r failed", upload.original_name)
                raise ValidationError(
                    _(
                        "The server could not store the file %(name)s (%(reason)s). Nothing was saved: "
                        "try again later, and tell an administrator if it happens again."
                    )
                    % {"name": upload.original_name, "reason": error.strerror or error},
                    code="storage_failed",
                ) from error
            written.append(attachment.file)
            save_audited(attachment, actor)
    except BaseException:
        for file in written:
            file.delete(save=False)
        raise


def attachment_delete(attachment, actor):
    """Delete an attachment record; its file goes once the deletion is committed."""
    file = attachment.file
    delete_audited(attachment, actor)
    transaction.on_commit(lambda: file.storage.delete(file.name))


def notifications_mark_read(*, actor, pk: int | None = None) -> int:
    """Mark the actor's unread notifications read (only the one `pk` if given); return how many changed.

    Only the actor's own are touched: another user's id changes nothing.
    """
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if pk is not None:
        unread = unread.filter(pk=pk)
    return unread.update(read_at=timezone.now())
