import re
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.formatters import money_text
from core.forms import HiddenFieldErrorsMixin, LimitedTextField, RevisionField
from core.validators import CONTRIBUTION_TEXT_MAX_CHARS, REVIEW_NOTE_MAX_CHARS, SAL_SUMMARY_MAX_CHARS

from .models import CONTRIBUTION_TEXT_FIELDS, ProgressReport

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A SAL PDF of many pages with charts stays well below this; it bounds the work a verification may cause.
VERIFY_MAX_BYTES = 100 * 1024 * 1024


class ProgressReportCreateForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of the report"), choices=settings.LANGUAGES)
    # Only the button that starts a draft of a period still running sends it: a deliberate choice.
    before_period_end = forms.BooleanField(required=False)


class ProgressReportForm(HiddenFieldErrorsMixin, forms.ModelForm):
    summary = LimitedTextField(
        label=_("Directors' summary"),
        required=False,
        max_chars=SAL_SUMMARY_MAX_CHARS,
        rows=8,
        help_text=_("The directors' assessment of the period: results, delays and their causes, next steps."),
    )
    revision = RevisionField()

    class Meta:
        model = ProgressReport
        fields = ["summary", "language"]
        labels = {"language": _("Language of the report")}


class ProgressReportApproveForm(forms.Form):
    revision = RevisionField()
    # The approval page asks first; its confirmation button sends this.
    confirmed = forms.BooleanField(required=False)


class VerifyForm(forms.Form):
    sha256 = forms.CharField(label=_("SHA-256 of the PDF"), required=False, max_length=64 + 8)
    pdf = forms.FileField(label=_("or the PDF file itself"), required=False)

    def clean_sha256(self):
        value = self.cleaned_data["sha256"].strip().lower()
        if value and not SHA256.match(value):
            raise ValidationError(_("A SHA-256 is 64 hexadecimal characters (0-9, a-f)."), code="not_sha256")
        return value

    def clean_pdf(self):
        pdf = self.cleaned_data["pdf"]
        if pdf and pdf.size > VERIFY_MAX_BYTES:
            raise ValidationError(_("The file is larger than any SAL: it cannot be one of them."), code="too_large")
        return pdf

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("sha256") and not data.get("pdf"):
            raise ValidationError(_("Enter the SHA-256 or choose the PDF file."), code="empty")
        return data


CONTRIBUTION_LABELS = {
    "done": (_("What was done"), _("The work of the period on this activity: events, products, with whom.")),
    "results": (_("Results"), _("What came out of it, against the logframe's results and indicators.")),
    "problems": (_("Problems met and measures taken"), _("Delays and their reasons, and what was done about them.")),
    "next_period": (_("Next period's plan"), _("What the partner will do on this activity in the next period.")),
    "visibility": (_("Visibility actions"), _("How the EU's support was made known: logos, events, publications.")),
}


class ContributionForm(HiddenFieldErrorsMixin, forms.Form):
    """The five texts of each activity of a contribution, as fields named `<part id>-<field>`."""

    revision = RevisionField()

    def __init__(self, *args, contribution, **kwargs):
        super().__init__(*args, initial={"revision": contribution.revision}, **kwargs)
        self.parts = []
        for line in contribution.lines.all():
            names = []
            for field in CONTRIBUTION_TEXT_FIELDS:
                label, help_text = CONTRIBUTION_LABELS[field]
                name = f"{line.pk}-{field}"
                self.fields[name] = LimitedTextField(
                    label=label,
                    required=False,
                    max_chars=CONTRIBUTION_TEXT_MAX_CHARS,
                    rows=3,
                    help_text=help_text,
                    initial=getattr(line, field),
                )
                names.append(name)
            self.parts.append((line, [self[name] for name in names]))

    @property
    def texts(self) -> dict[int, dict[str, str]]:
        texts = {}
        for line, _bound in self.parts:
            texts[line.pk] = {field: self.cleaned_data[f"{line.pk}-{field}"] for field in CONTRIBUTION_TEXT_FIELDS}
        return texts


class ContributionReviewForm(forms.Form):
    note = LimitedTextField(
        label=_("Note to the partner"),
        required=False,
        max_chars=REVIEW_NOTE_MAX_CHARS,
        rows=3,
        help_text=_("Required when you return the contribution: say what needs fixing."),
    )


class ReportSectionsForm(HiddenFieldErrorsMixin, forms.Form):
    """One text box per narrative section of the draft, in the order of the EU report."""

    revision = RevisionField()

    def __init__(self, *args, sections, **kwargs):
        super().__init__(*args, **kwargs)
        for section in sections:
            label = section.get_kind_display()
            if section.activity_id:
                label = _("%(section)s: activity %(number)d – %(title)s") % {
                    "section": label,
                    "number": section.activity.number,
                    "title": section.activity.title,
                }
            self.fields[f"section_{section.pk}"] = LimitedTextField(
                label=label, required=False, max_chars=SAL_SUMMARY_MAX_CHARS, rows=5, initial=section.text
            )

    def texts(self) -> dict[int, str]:
        """The text of each section, by section id."""
        return {
            int(name.removeprefix("section_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("section_")
        }


class ReportFinancialForm(HiddenFieldErrorsMixin, forms.ModelForm):
    """The draft's financial report: an explanation per heading that strays from plan, other funding, the forecast."""

    revision = RevisionField()

    class Meta:
        model = ProgressReport
        fields = ["other_donors_eur", "in_kind_eur", "interest_eur", "funding_note", "forecast_eur", "forecast_note"]
        help_texts = {
            "other_donors_eur": _("Funding from donors other than the EU, to the period end."),
            "in_kind_eur": _("The value of contributions in kind, to the period end."),
            "interest_eur": _("Interest the pre-financing earned: the Commission may recover it."),
        }

    def __init__(self, *args, variances, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("funding_note", "forecast_note"):
            self.fields[name] = LimitedTextField(
                label=self.fields[name].label, required=False, max_chars=REVIEW_NOTE_MAX_CHARS, rows=3
            )
        self.variance_fields = []
        for variance in variances:
            name = f"explanation_{variance['category']}"
            help_text = _("Planned by now %(planned)s, verified %(verified)s (%(percent)s %%).") % {
                "planned": money_text(Decimal(variance["planned"])),
                "verified": money_text(Decimal(variance["verified"])),
                "percent": variance["percent"] or "–",
            }
            self.fields[name] = LimitedTextField(
                label=_("Variance of %(heading)s") % {"heading": variance["label"]}
                + (" *" if variance["required"] else ""),
                required=False,
                max_chars=REVIEW_NOTE_MAX_CHARS,
                rows=3,
                initial=variance["explanation"],
                help_text=help_text,
            )
            self.variance_fields.append(name)
        # The explanations the approval waits for come first.
        self.order_fields(self.variance_fields)

    def explanations(self) -> dict[int, str]:
        """Each heading's explanation, by heading id."""
        return {int(name.removeprefix("explanation_")): self.cleaned_data[name] for name in self.variance_fields}
