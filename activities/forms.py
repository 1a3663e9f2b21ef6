from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.formatters import number_text
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

from .models import Activity, Indicator, IndicatorMeasurement, Objective, ProgressEntry, Result, TargetGroup


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
                help_text=_("Target: %(target)s") % {"target": number_text(indicator.target)},
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


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = Objective
        fields = ["kind", "number", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}


class ResultForm(forms.ModelForm):
    activities = forms.ModelMultipleChoiceField(
        label=_("Activities"),
        queryset=Activity.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The activities that work towards this result."),
    )

    class Meta:
        model = Result
        fields = ["objective", "number", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = Objective.objects.filter(project=project, kind=Objective.Kind.SPECIFIC)
        self.fields["activities"].queryset = Activity.objects.filter(project=project)
        if self.instance.pk:
            self.fields["activities"].initial = list(self.instance.activities.values_list("pk", flat=True))


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = [
            "objective",
            "result",
            "activity",
            "name",
            "unit",
            "baseline",
            "target",
            "cumulative",
            "source_of_verification",
            "assumptions",
        ]
        widgets = {
            "source_of_verification": forms.Textarea(attrs={"rows": 2}),
            "assumptions": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "objective": _("Choose one: the objective, the result or the activity the indicator measures."),
            "cumulative": _(
                "Cumulative: the latest value counts. Not cumulative: the values add up. Achieved % = "
                "(achieved − baseline) / (target − baseline)."
            ),
        }

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objective"].queryset = Objective.objects.filter(project=project)
        self.fields["result"].queryset = Result.objects.filter(objective__project=project).select_related("objective")
        self.fields["activity"].queryset = Activity.objects.filter(project=project)


class TargetGroupForm(forms.ModelForm):
    class Meta:
        model = TargetGroup
        fields = ["number", "name"]


class IndicatorMeasurementForm(forms.ModelForm):
    class Meta:
        model = IndicatorMeasurement
        fields = ["date", "value", "note"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {"date": _("The date the value was measured: it places the value in a reporting period.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].min_value = 0
