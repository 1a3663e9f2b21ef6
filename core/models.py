"""Abstract models shared by the apps, and the notifications every app sends."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .validators import REVIEW_NOTE_MAX_CHARS, MaxCharsValidator


class Attachment(models.Model):
    """A file uploaded to document a record; served only through permission-checked views."""

    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.original_name


class Reviewed(models.Model):
    """A record a partner writes and submits, and a director reviews through `core.services.review_transition`.

    Each model declares its own `status`, whose choices differ, and `reviewer`, whose reverse name differs.
    """

    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True, validators=[MaxCharsValidator(REVIEW_NOTE_MAX_CHARS)])
    # Counts saves, so that an edit made on a stale copy is refused instead of overwriting another.
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    # The one-time token of the form that created the record: the same form sent twice creates it once.
    form_token = models.UUIDField(_("form token"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    @staticmethod
    def constraints_named(prefix: str) -> list:
        """Return the constraints every reviewed model keeps, named after it: the note's length, one record a form."""
        return [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("review_note"), REVIEW_NOTE_MAX_CHARS),
                name=f"{prefix}_review_note_length",
                violation_error_message=_("The review note is too long."),
            ),
            models.UniqueConstraint(
                fields=["author", "form_token"],
                condition=Q(form_token__isnull=False),
                name=f"{prefix}_form_token_once",
                violation_error_message=_("This form was already saved."),
            ),
        ]


class Notification(models.Model):
    """What happened to a record that concerns a user, shown in the portal beside the mail that says it."""

    class Verb(models.TextChoices):
        SUBMITTED = "submitted", _("submitted for review")
        APPROVED = "approved", _("approved")
        RETURNED = "returned", _("returned for changes")
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn by its partner")

    # The verb agrees with the record's noun, by the record's model: in Italian and Portuguese an expense (spesa,
    # despesa) is feminine, progress (avanzamento, progresso) masculine, a contribution masculine in Italian
    # (contributo) and feminine in Portuguese (contribuição).
    VERB_LABELS = {
        "expenditure": {
            Verb.SUBMITTED: pgettext_lazy("expense notification", "submitted for review"),
            Verb.RETURNED: pgettext_lazy("expense notification", "returned for changes"),
            Verb.VERIFIED: pgettext_lazy("expense notification", "verified"),
            Verb.REJECTED: pgettext_lazy("expense notification", "rejected"),
            Verb.WITHDRAWN: pgettext_lazy("expense notification", "withdrawn by its partner"),
        },
        "partnercontribution": {
            Verb.SUBMITTED: pgettext_lazy("contribution notification", "submitted for review"),
            Verb.APPROVED: pgettext_lazy("contribution notification", "accepted"),
            Verb.RETURNED: pgettext_lazy("contribution notification", "returned for changes"),
        },
        "progressentry": {
            Verb.SUBMITTED: pgettext_lazy("progress notification", "submitted for review"),
            Verb.APPROVED: pgettext_lazy("progress notification", "approved"),
            Verb.RETURNED: pgettext_lazy("progress notification", "returned for changes"),
            Verb.WITHDRAWN: pgettext_lazy("progress notification", "withdrawn by its partner"),
        },
    }

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    verb = models.CharField(_("what happened"), max_length=10, choices=Verb.choices)
    target_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("kind of record")
    )
    target_id = models.PositiveBigIntegerField(_("record id"))
    target = GenericForeignKey("target_type", "target_id")
    # The record as the mail named it, so that the list needs no query per row and survives a deletion.
    summary = models.CharField(_("record"), max_length=200)
    # The record's page; empty once the record is gone.
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self):
        return f"{self.summary}: {self.verb_label}"

    @property
    def verb_label(self) -> str:
        """What happened, in agreement with the record's noun (read `target_type` with the notification)."""
        return str(self.VERB_LABELS.get(self.target_type.model, {}).get(self.verb, self.get_verb_display()))
