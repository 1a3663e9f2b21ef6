from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import (
    AttachmentsField,
    HiddenFieldErrorsMixin,
    HoldsUploadsMixin,
    LimitedTextField,
    ListFilterForm,
    RevisionField,
    form_token_field,
)
from core.validators import NARRATIVE_MAX_CHARS, REVIEW_NOTE_MAX_CHARS, validate_not_in_future
from partners.models import Partner

from .models import ProgressEntry


class ProgressEntryForm(HiddenFieldErrorsMixin, HoldsUploadsMixin, forms.Form):
    """An entry's fields, a value for each indicator of its activity, and evidence files."""

    uploads_field = "evidence"

    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_not_in_future],
    )
    percent_complete = forms.IntegerField(
        label=_("Percent complete"),
        min_value=0,
        max_value=100,
        help_text=_("How much of the action is done at this date, 0 to 100."),
    )
    narrative = LimitedTextField(
        label=_("Narrative"),
        max_chars=NARRATIVE_MAX_CHARS,
        help_text=_("What was done, with whom, what came out of it."),
    )
    evidence = AttachmentsField(
        label=_("Evidence files"),
        required=False,
        help_text=_("PDF, images or office documents (reports, attendance lists, photos)."),
    )
    revision = RevisionField(required=False)

    def __init__(self, *args, action, entry: ProgressEntry | None = None, **kwargs):
        values = {}
        if entry is not None:
            kwargs["initial"] = {
                "date": entry.date,
                "percent_complete": entry.percent_complete,
                "narrative": entry.narrative,
                "revision": entry.revision,
            }
            values = {v.indicator_id: v.value for v in entry.indicator_values.all()}
        super().__init__(*args, **kwargs)
        self.fields["revision"].required = entry is not None
        if entry is None:
            self.fields["form_token"] = form_token_field()
        # The browser's date picker offers no day after today.
        self.fields["date"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.action = action
        self.indicators = list(action.activity.indicators.all())
        for indicator in self.indicators:
            self.fields[f"indicator_{indicator.pk}"] = forms.DecimalField(
                label=f"{indicator.name} ({indicator.unit})",
                required=False,
                min_value=0,
                max_digits=14,
                decimal_places=2,
                initial=values.get(indicator.pk),
                help_text=_("Target: %(target)s") % {"target": indicator.target.normalize()},
            )

    @property
    def indicator_values(self):
        return {indicator: self.cleaned_data.get(f"indicator_{indicator.pk}") for indicator in self.indicators}


class ReviewForm(forms.Form):
    note = LimitedTextField(
        label=_("Note to the partner"),
        required=False,
        max_chars=REVIEW_NOTE_MAX_CHARS,
        rows=3,
        help_text=_("Required when you return the entry: say what needs fixing."),
    )
    # The confirmation page's button sends it: an approval is asked for once more before it is made.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class EntryFilterForm(ListFilterForm):
    """The entry list's filters: by status and, for those who see every partner, by partner."""

    status = forms.ChoiceField(choices=ProgressEntry.Status.choices, required=False)
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), required=False)

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
