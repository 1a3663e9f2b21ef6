from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.models import Activity
from core.forms import (
    AttachmentsField,
    HiddenFieldErrorsMixin,
    HoldsUploadsMixin,
    LimitedTextField,
    ListFilterForm,
    RevisionField,
    form_token_field,
)
from core.validators import REVIEW_NOTE_MAX_CHARS, validate_not_in_future
from partners.models import Partner

from .models import CostCategory, EUPayment, Expenditure


class ExpenditureForm(HiddenFieldErrorsMixin, HoldsUploadsMixin, forms.Form):
    """An expense as the partner declares it, in the partner's currency, with its receipts."""

    uploads_field = "receipts"

    date_incurred = forms.DateField(
        label=_("Date incurred"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_not_in_future],
    )
    category = forms.ModelChoiceField(label=_("Budget heading"), queryset=CostCategory.objects.all())
    activity = forms.ModelChoiceField(label=_("Activity"), queryset=Activity.objects.none(), required=False)
    description = forms.CharField(label=_("Description"), max_length=500)
    supplier = forms.CharField(label=_("Supplier"), max_length=200, required=False)
    document_ref = forms.CharField(
        label=_("Document reference"), max_length=100, required=False, help_text=_("Invoice or receipt number.")
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    receipts = AttachmentsField(
        label=_("Receipts"), required=False, help_text=_("Invoices, receipts, payment orders: PDF or images.")
    )
    revision = RevisionField(required=False)

    def __init__(self, *args, partner, expenditure: Expenditure | None = None, **kwargs):
        if expenditure is not None:
            kwargs["initial"] = {
                "date_incurred": expenditure.date_incurred,
                "category": expenditure.category_id,
                "activity": expenditure.activity_id,
                "description": expenditure.description,
                "supplier": expenditure.supplier,
                "document_ref": expenditure.document_ref,
                "amount": expenditure.amount,
                "revision": expenditure.revision,
            }
        else:
            kwargs.setdefault("initial", {"date_incurred": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["revision"].required = expenditure is not None
        if expenditure is None:
            self.fields["form_token"] = form_token_field()
        # The browser's date picker offers no day after today.
        self.fields["date_incurred"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["activity"].queryset = Activity.objects.filter(project=partner.project)
        self.fields["amount"].label = _("Amount in %(currency)s") % {"currency": partner.currency}


class ReviewForm(forms.Form):
    checklist = forms.MultipleChoiceField(
        label=_("Checks"),
        choices=[(field, Expenditure._meta.get_field(field).verbose_name) for field in Expenditure.CHECKLIST],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Every check is needed to verify; what you tick is recorded with your decision."),
    )
    note = LimitedTextField(
        label=_("Note to the partner"),
        required=False,
        max_chars=REVIEW_NOTE_MAX_CHARS,
        rows=3,
        help_text=_("Required when you reject or return the expense: say why."),
    )


class EUPaymentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EUPayment.Kind.choices)
    received_on = forms.DateField(label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(label=_("Amount (EUR)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class BudgetVersionForm(forms.Form):
    """Which budget version to show; none is the current one."""

    version = forms.IntegerField(required=False, min_value=1)


class ExpenseFilterForm(ListFilterForm):
    """The expense list's filters, the same for the page and its CSV export."""

    status = forms.ChoiceField(choices=Expenditure.Status.choices, required=False)
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), required=False)
    category = forms.ModelChoiceField(queryset=CostCategory.objects.none(), required=False)

    def __init__(self, *args, partners, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        self.fields["category"].queryset = categories
