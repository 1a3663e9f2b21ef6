from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import AttachmentsField

from .models import ProgressEntry


class ProgressEntryForm(forms.Form):
    """An entry's fields, a value for each indicator of its activity, and evidence files."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    percent_complete = forms.IntegerField(
        label=_("Percent complete"),
        min_value=0,
        max_value=100,
        help_text=_("How much of the action is done at this date, 0 to 100."),
    )
    narrative = forms.CharField(
        label=_("Narrative"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What was done, with whom, what came out of it."),
    )
    evidence = AttachmentsField(
        label=_("Evidence files"),
        required=False,
        help_text=_("PDF, images or office documents (reports, attendance lists, photos)."),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

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
    note = forms.CharField(
        label=_("Note to the partner"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you return the entry: say what needs fixing."),
    )
