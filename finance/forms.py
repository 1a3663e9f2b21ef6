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

from .annex import DECLARABLE_KINDS
from .models import CostCategory, EUPayment, Expenditure, ProcurementContract, StaffMember, Timesheet
from .selectors import expense_currency_choices


class ExpenditureForm(HiddenFieldErrorsMixin, HoldsUploadsMixin, forms.Form):
    """An expense as the partner declares it, in the partner's currency or another one, with its receipts."""

    uploads_field = "receipts"

    date_incurred = forms.DateField(
        label=_("Date incurred"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[validate_not_in_future],
    )
    # Indirect costs are a flat rate the portal computes: their heading is not offered.
    category = forms.ModelChoiceField(
        label=_("Budget heading"),
        queryset=CostCategory.objects.filter(kind__in=DECLARABLE_KINDS),
        error_messages={
            "invalid_choice": _(
                "Choose a heading from the list. Indirect costs are not among them: they are a flat rate of the "
                "verified direct costs, computed by the portal."
            )
        },
    )
    activity = forms.ModelChoiceField(label=_("Activity"), queryset=Activity.objects.none(), required=False)
    description = forms.CharField(label=_("Description"), max_length=500)
    supplier = forms.CharField(label=_("Supplier"), max_length=200, required=False)
    document_ref = forms.CharField(
        label=_("Document reference"), max_length=100, required=False, help_text=_("Invoice or receipt number.")
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    # Left out, the partner's currency (or, when editing, the expense's own) applies.
    currency = forms.ChoiceField(
        label=_("Currency"),
        required=False,
        help_text=_("The invoice's currency: your organisation's unless it was paid in another."),
    )
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
                "currency": expenditure.currency,
                "revision": expenditure.revision,
            }
        else:
            kwargs.setdefault("initial", {"date_incurred": timezone.localdate(), "currency": partner.currency})
        super().__init__(*args, **kwargs)
        self.fields["revision"].required = expenditure is not None
        if expenditure is None:
            self.fields["form_token"] = form_token_field()
        # The browser's date picker offers no day after today.
        self.fields["date_incurred"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["activity"].queryset = Activity.objects.filter(project=partner.project)
        # The expense's own currency stays on offer even if no partner or rate names it any longer.
        codes = set(expense_currency_choices(project=partner.project))
        codes.add(expenditure.currency if expenditure is not None else partner.currency)
        self.fields["currency"].choices = [(code, code) for code in sorted(codes)]


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


class PlannedTrancheForm(forms.Form):
    """The next pre-financing tranche as the contract plans it, to see how much of it may be requested."""

    tranche = forms.DecimalField(
        label=_("Next tranche as planned (EUR)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text=_("Leave empty to see all that the cap of 90 per cent of the EU contribution leaves."),
    )


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


class ExpenseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, expense):
        return " · ".join(
            (
                f"{expense.date_incurred:%d/%m/%Y}",
                str(expense.partner),
                expense.description[:60],
                f"EUR {expense.amount_eur}",
            )
        )


class ProcurementContractForm(HiddenFieldErrorsMixin, forms.ModelForm):
    """A contract as the partner records it; directors also choose the partner."""

    partner = forms.ModelChoiceField(label=_("Partner"), queryset=Partner.objects.none())
    expenses = ExpenseChoiceField(
        label=_("Linked expenses"),
        queryset=Expenditure.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("The declared expenses that paid this contract: invoices, instalments."),
    )

    class Meta:
        model = ProcurementContract
        fields = ["partner", "reference", "supplier", "subject", "amount", "procedure", "signed_on", "expenses"]
        widgets = {"signed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, partners, expenses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners
        if len(partners) == 1:
            self.fields["partner"].initial = partners[0]
            self.fields["partner"].widget = forms.HiddenInput()
        self.fields["expenses"].queryset = expenses
        if self.instance.pk:
            # The partner that signed a contract does not change: a mistake there is a new contract.
            self.fields["partner"].disabled = True


class BudgetImportForm(forms.Form):
    """A workbook in the Annex III layout, to become the next budget version."""

    file = forms.FileField(
        label=_("Workbook (XLSX)"),
        help_text=_(
            "The layout of the Annex III download: headings as rows, partners as columns by their full names, "
            "and optionally a sheet by activity."
        ),
    )
    label = forms.CharField(
        label=_("Label"), max_length=200, required=False, help_text=_("For example: addendum 1, proposed.")
    )


class TimesheetForm(forms.Form):
    """A person's month and the hours on each of the project's actions: one field a row of the grid."""

    staff_member = forms.ModelChoiceField(label=_("Staff member"), queryset=StaffMember.objects.none())
    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    revision = RevisionField(required=False)

    def __init__(self, *args, actions, staff_members=None, timesheet: Timesheet | None = None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        if timesheet is not None:
            initial["revision"] = timesheet.revision
            initial.update({f"action_{row.action_id}": row.hours for row in timesheet.rows.all()})
        else:
            initial.setdefault("month", timezone.localdate().replace(day=1))
        super().__init__(*args, **kwargs)
        if timesheet is None:
            self.fields["staff_member"].queryset = staff_members
        else:
            # The person and the month are the timesheet's identity: a different one is a new timesheet.
            del self.fields["staff_member"], self.fields["month"]
            self.fields["revision"].required = True
        self.actions = actions
        for action in actions:
            self.fields[f"action_{action.pk}"] = forms.DecimalField(
                label=f"{action.code} {action.title}",
                max_digits=5,
                decimal_places=2,
                required=False,
                widget=forms.NumberInput(attrs={"step": "0.25", "min": "0", "class": "form-control form-control-sm"}),
            )

    def grid(self):
        """The rows of the grid: each action with its hours field."""
        return [(action, self[f"action_{action.pk}"]) for action in self.actions]

    def hours_by_action(self) -> dict:
        return {action: self.cleaned_data.get(f"action_{action.pk}") or Decimal("0") for action in self.actions}
