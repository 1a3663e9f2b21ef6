"""Limits on what people type, shared by the forms, the models and their database constraints."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

# Free texts are bounded so that one record cannot bury the SAL in pages: 300 KB of narrative made 60 more.
# A progress narrative: about four printed pages; longer documents go in as evidence files.
NARRATIVE_MAX_CHARS = 10_000
# A director's note to a partner on what to fix or why.
REVIEW_NOTE_MAX_CHARS = 5_000
# A logframe text (an objective, a result, a source of verification, assumptions): a paragraph or two.
LOGFRAME_TEXT_MAX_CHARS = 2_000
# One part of a partner's contribution to a period's report, on one activity: about two printed pages.
CONTRIBUTION_TEXT_MAX_CHARS = 5_000
# The directors' summary of a SAL: the assessment of the period, about eight printed pages.
SAL_SUMMARY_MAX_CHARS = 20_000


@deconstructible
class MaxCharsValidator(MaxLengthValidator):
    """Refuse a text longer than the limit, saying how long it is and what to do."""

    message = _(
        "This text has %(show_value)s characters; at most %(limit_value)s are allowed. "
        "Shorten it: longer documents can be attached as files."
    )

    def __call__(self, value):
        length = self.clean(value)
        if self.compare(length, self.limit_value):
            # The numbers grouped as the page's language writes them, like the counter under the field.
            params = {
                "limit_value": number_format(self.limit_value, force_grouping=True),
                "show_value": number_format(length, force_grouping=True),
                "value": value,
            }
            raise ValidationError(self.message, code=self.code, params=params)


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
