import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import HiddenFieldErrorsMixin, LimitedTextField, RevisionField
from core.validators import SAL_SUMMARY_MAX_CHARS

from .models import ProgressReport

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
