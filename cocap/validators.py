"""Limits on what people type, shared by the forms, the models and their database constraints."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Free texts are bounded so that one record cannot bury the SAL in pages: 300 KB of narrative made 60 more.
# A progress narrative: about four printed pages; longer documents go in as evidence files.
NARRATIVE_MAX_CHARS = 10_000
# A director's note to a partner on what to fix or why.
REVIEW_NOTE_MAX_CHARS = 5_000
# The directors' summary of a SAL: the assessment of the period, about eight printed pages.
SAL_SUMMARY_MAX_CHARS = 20_000


@deconstructible
class MaxCharsValidator(MaxLengthValidator):
    """Refuse a text longer than the limit, saying how long it is and what to do."""

    message = _(
        "This text has %(show_value)d characters; at most %(limit_value)d are allowed. "
        "Shorten it: longer documents can be attached as files."
    )


def validate_not_in_future(day):
    """Refuse a date after today.

    Today is the portal's (Europe/Rome), the first of the partners' time zones to reach a new day, so a
    partner in Mercosur is never refused their own today. The database cannot check this: a constraint
    cannot depend on the current date.
    """
    today = timezone.localdate()
    if day > today:
        raise ValidationError(
            _("The date cannot be in the future (today is %(today)s)."),
            code="future",
            params={"today": today.isoformat()},
        )
