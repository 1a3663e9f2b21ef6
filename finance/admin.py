from django.contrib import admin

from cocap.history import HistoryAdmin

from .models import Budget, BudgetLine, CostCategory, EUPayment, ExchangeRate, Expenditure, Receipt


@admin.register(CostCategory)
class CostCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


class BudgetLineInline(admin.TabularInline):
    model = BudgetLine
    extra = 0
    autocomplete_fields = ["partner", "activity"]


@admin.register(Budget)
class BudgetAdmin(HistoryAdmin):
    list_display = [
        "project",
        "version",
        "label",
        "is_current",
        "approved_on",
        "total_eligible_cost",
        "eu_contribution",
    ]
    list_filter = ["project", "is_current"]
    search_fields = ["label"]
    inlines = [BudgetLineInline]


@admin.register(BudgetLine)
class BudgetLineAdmin(HistoryAdmin):
    list_display = ["budget", "partner", "category", "activity", "amount"]
    list_filter = ["budget", "category", "partner"]
    search_fields = ["partner__organisation__name"]
    list_select_related = ["budget__project", "partner__organisation", "category", "activity"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(HistoryAdmin):
    list_display = ["currency", "month", "rate"]
    list_filter = ["currency"]
    search_fields = ["currency"]
    date_hierarchy = "month"


class ReceiptInline(admin.TabularInline):
    model = Receipt
    extra = 0
    fields = ["file", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Expenditure)
class ExpenditureAdmin(HistoryAdmin):
    list_display = ["date_incurred", "description", "partner", "category", "amount", "currency", "amount_eur", "status"]
    list_filter = ["status", "partner", "category", "currency"]
    search_fields = ["description", "supplier", "document_ref"]
    date_hierarchy = "date_incurred"
    list_select_related = ["partner__organisation", "category"]
    # The rate and EUR amount are fixed when the expense is declared; a rate change must not rewrite them.
    readonly_fields = ["exchange_rate", "amount_eur", "currency", "created_at", "updated_at", "reviewed_at"]
    inlines = [ReceiptInline]

    def has_add_permission(self, request):
        # Expenses are declared in the portal, which converts them at the month's rate.
        return False


@admin.register(Receipt)
class ReceiptAdmin(HistoryAdmin):
    list_display = ["original_name", "expenditure", "content_type", "size", "uploaded_by", "uploaded_at"]
    search_fields = ["original_name"]
    list_select_related = ["expenditure", "uploaded_by"]
    readonly_fields = ["original_name", "content_type", "size", "uploaded_by", "uploaded_at"]

    def has_add_permission(self, request):
        return False


@admin.register(EUPayment)
class EUPaymentAdmin(HistoryAdmin):
    list_display = ["project", "number", "kind", "received_on", "amount"]
    list_filter = ["project", "kind"]
    date_hierarchy = "received_on"
