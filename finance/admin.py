from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from activities.admin import AttachmentAdminMixin
from core.admin import HistoryAdmin
from core.formatters import number_text

from .annex import annex_lines
from .models import (
    Budget,
    BudgetLine,
    ContingencyAuthorisation,
    CostCategory,
    EUPayment,
    ExchangeRate,
    Expenditure,
    ProcurementContract,
    Receipt,
    StaffMember,
    Timesheet,
    TimesheetRow,
)
from .selectors import money_by
from .services import budget_make_current, budget_new_version, procurement_expenses_check

# Stored as fractions (0.8000), shown as percentages (80 %).
RATE_FIELDS = ["eu_max_rate", "indirect_cap", "flexibility_threshold", "contingency_cap"]


def rate_as_percent(rate: Decimal) -> str:
    """Write a rate stored as a fraction as a percentage, as the active language writes numbers: 0.0750 as 7.5 %."""
    return f"{number_text(rate * 100)} %"


def _rate_display(name):
    """An admin column and read-only field showing the Budget rate `name` as a percentage."""

    @admin.display(description=Budget._meta.get_field(name).verbose_name, ordering=name)
    def display(model_admin, budget):
        return rate_as_percent(getattr(budget, name))

    return display


def _heading_totals(lines):
    """Render the lines' amounts by Annex III line, with the computed lines and the total: two queries."""
    rows = money_by("category", lines=lines, expenses=Expenditure.objects.none())
    return render_to_string(
        "admin/finance/includes/heading_totals.html",
        {"rows": annex_lines(rows), "total": sum((row.budget for row in rows), Decimal("0.00"))},
    )


@admin.register(CostCategory)
class CostCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


class BudgetLineInline(admin.TabularInline):
    model = BudgetLine
    extra = 0
    autocomplete_fields = ["partner", "activity"]

    # An approved version is frozen, its lines with it; `obj` is the budget.
    def has_add_permission(self, request, obj=None):
        return not (obj and obj.is_approved) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not (obj and obj.is_approved) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not (obj and obj.is_approved) and super().has_delete_permission(request, obj)


@admin.register(Budget)
class BudgetAdmin(HistoryAdmin):
    """Budget versions; an approved one (with its approval date) is read-only: an amendment is a new version.

    The actions start a version as a copy of another, and swap the current version, in one step each.
    """

    fields = [
        "project",
        "version",
        "label",
        "approved_on",
        "is_current",
        "total_eligible_cost",
        "eu_contribution",
        *RATE_FIELDS,
        "rate_method",
    ]
    list_display = [
        "project",
        "version",
        "label",
        "is_current",
        "approved_on",
        "total_eligible_cost",
        "eu_contribution",
        "lines_total",
        *(f"{name}_percent" for name in RATE_FIELDS),
    ]
    list_filter = ["project", "is_current"]
    list_select_related = ["project"]
    search_fields = ["label"]
    inlines = [BudgetLineInline]
    actions = ["new_version", "make_current"]

    eu_max_rate_percent = _rate_display("eu_max_rate")
    indirect_cap_percent = _rate_display("indirect_cap")
    flexibility_threshold_percent = _rate_display("flexibility_threshold")
    contingency_cap_percent = _rate_display("contingency_cap")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(lines_sum=Sum("lines__amount"))

    def get_fields(self, request, obj=None):
        if obj is not None and obj.is_approved:
            return self.get_readonly_fields(request, obj)
        return [*self.fields, *self.get_readonly_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.is_approved:
            return [f"{name}_percent" if name in RATE_FIELDS else name for name in self.fields] + ["heading_totals"]
        return ["heading_totals"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in RATE_FIELDS:
            formfield.help_text = format_lazy(
                "{} {}", formfield.help_text, _("Written as a fraction of one: 0.80 means 80 percent.")
            )
        return formfield

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_approved:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_approved:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("total of the lines"), ordering="lines_sum")
    def lines_total(self, budget):
        # Written as the admin writes the amounts beside it.
        return number_format(budget.lines_sum or Decimal("0.00"), decimal_pos=2)

    @admin.display(description=_("lines by heading"))
    def heading_totals(self, budget):
        return _heading_totals(budget.lines.all())

    @admin.action(description=_("Start a new version from the selected one"), permissions=["add"])
    def new_version(self, request, queryset):
        copy = self._run_on_one(request, queryset, budget_new_version)
        if copy is not None:
            self.message_user(
                request,
                _("Version %(version)d was started as a copy of version %(source)d: amend it here.")
                % {"version": copy.version, "source": queryset[0].version},
            )
            return redirect("admin:finance_budget_change", copy.pk)
        return None

    @admin.action(description=_("Make the selected version the current budget"), permissions=["change"])
    def make_current(self, request, queryset):
        budget = self._run_on_one(request, queryset, budget_make_current)
        if budget is not None:
            self.message_user(request, _("%(budget)s is now the current budget.") % {"budget": budget})

    def _run_on_one(self, request, queryset, service):
        """Call `service` on the one budget selected; say what went wrong and return None otherwise."""
        if len(queryset) != 1:
            self.message_user(request, _("Select one budget version."), messages.ERROR)
            return None
        try:
            return service(actor=request.user, budget=queryset[0])
        except (PermissionDenied, ValidationError) as error:
            self.message_user(request, " ".join(getattr(error, "messages", [str(error)])), messages.ERROR)
            return None


@admin.register(BudgetLine)
class BudgetLineAdmin(HistoryAdmin):
    list_display = ["budget", "partner", "category", "activity", "amount"]
    list_filter = ["budget", "category", "partner"]
    search_fields = ["partner__organisation__name"]
    list_select_related = ["budget__project", "partner__organisation", "category", "activity"]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            # The totals follow the filters and the search, over every page of the list.
            context["heading_totals"] = _heading_totals(context["cl"].queryset)
        return response

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "budget":
            kwargs["queryset"] = Budget.objects.filter(approved_on__isnull=True).select_related("project")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # A line of an approved version is frozen with it.
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.budget.is_approved:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.budget.is_approved:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(HistoryAdmin):
    list_display = ["currency", "month", "rate"]
    list_filter = ["currency"]
    search_fields = ["currency"]
    date_hierarchy = "month"


class ReceiptInline(AttachmentAdminMixin, admin.TabularInline):
    model = Receipt
    extra = 0
    download_url_name = "finance:receipt-download"
    fields = readonly_fields = AttachmentAdminMixin.attachment_fields


@admin.register(Expenditure)
class ExpenditureAdmin(HistoryAdmin):
    list_display = ["date_incurred", "description", "partner", "category", "amount", "currency", "amount_eur", "status"]
    list_filter = ["status", "partner", "category", "currency", "rate_method"]
    search_fields = ["description", "supplier", "document_ref"]
    date_hierarchy = "date_incurred"
    list_select_related = ["partner__organisation", "category"]
    # The rate and EUR amount are fixed when the expense is declared (or, under the period average, when a SAL
    # reports it); a rate change must not rewrite them.
    readonly_fields = [
        "exchange_rate",
        "amount_eur",
        "currency",
        "rate_method",
        "rate_first_month",
        "rate_last_month",
        "created_at",
        "updated_at",
        "reviewed_at",
    ]
    # Named, or the fields the model takes from core's Reviewed would come first.
    fields = [
        "partner",
        "category",
        "activity",
        "budget_line",
        "date_incurred",
        "description",
        "supplier",
        "document_ref",
        "amount",
        "status",
        "author",
        "reviewer",
        "review_note",
        *readonly_fields,
    ]
    inlines = [ReceiptInline]

    def has_add_permission(self, request):
        # Expenses are declared in the portal, which converts them at the month's rate.
        return False


@admin.register(Receipt)
class ReceiptAdmin(AttachmentAdminMixin, HistoryAdmin):
    list_display = ["original_name", "expenditure", "content_type", "size", "uploaded_by", "uploaded_at"]
    search_fields = ["original_name"]
    list_select_related = ["expenditure", "uploaded_by"]
    download_url_name = "finance:receipt-download"
    fields = ["expenditure", *AttachmentAdminMixin.attachment_fields]
    autocomplete_fields = ["expenditure"]
    readonly_fields = AttachmentAdminMixin.attachment_fields


@admin.register(EUPayment)
class EUPaymentAdmin(HistoryAdmin):
    list_display = ["project", "number", "kind", "received_on", "amount"]
    list_filter = ["project", "kind"]
    date_hierarchy = "received_on"


@admin.register(ContingencyAuthorisation)
class ContingencyAuthorisationAdmin(HistoryAdmin):
    """The Contracting Authority's prior authorisations to spend on the contingency reserve, recorded by administrators.

    Partners declare contingency expenses only up to what is recorded here for them.
    """

    list_display = ["partner", "reference", "authorised_on", "authorised_by", "amount", "recorded_by"]
    list_filter = ["partner__project", "partner"]
    search_fields = ["reference", "authorised_by", "partner__organisation__name"]
    list_select_related = ["partner__organisation", "recorded_by"]
    date_hierarchy = "authorised_on"
    fields = ["partner", "amount", "reference", "authorised_on", "authorised_by", "note", "recorded_by"]
    readonly_fields = ["recorded_by"]
    autocomplete_fields = ["partner"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


class ProcurementContractAdminForm(forms.ModelForm):
    def clean(self):
        data = super().clean()
        if not self.errors:
            self.instance.partner, self.instance.amount = data["partner"], data["amount"]
            procurement_expenses_check(self.instance, data.get("expenses") or [])
        return data


@admin.register(ProcurementContract)
class ProcurementContractAdmin(HistoryAdmin):
    form = ProcurementContractAdminForm
    list_display = ["reference", "partner", "supplier", "amount", "procedure", "signed_on"]
    list_filter = ["procedure", "partner__project", "partner"]
    search_fields = ["reference", "supplier", "subject"]
    date_hierarchy = "signed_on"
    list_select_related = ["partner__organisation"]
    autocomplete_fields = ["expenses"]
    readonly_fields = ["author"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)


@admin.register(StaffMember)
class StaffMemberAdmin(HistoryAdmin):
    """The people a partner pays from heading 1, and the terms agreed with them; managed here only."""

    list_display = ["name", "function", "partner", "hourly_rate", "monthly_hours", "valid_from", "valid_to"]
    list_filter = ["partner"]
    search_fields = ["name", "function"]
    list_select_related = ["partner__organisation"]
    autocomplete_fields = ["partner"]


class TimesheetRowInline(admin.TabularInline):
    model = TimesheetRow
    extra = 0
    fields = ["action", "hours"]
    readonly_fields = ["action", "hours"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Timesheet)
class TimesheetAdmin(HistoryAdmin):
    """Timesheets, read-only: the portal checks the hours against the agreed time and declares them."""

    list_display = ["month", "staff_member", "total_hours", "hourly_rate", "amount", "signed", "expenditure"]
    list_filter = ["signed", "staff_member__partner"]
    search_fields = ["staff_member__name"]
    date_hierarchy = "month"
    list_select_related = ["staff_member__partner__organisation", "expenditure"]
    inlines = [TimesheetRowInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A declared timesheet documents its expense.
        return (obj is None or obj.expenditure_id is None) and super().has_delete_permission(request, obj)
