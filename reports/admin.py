from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import HistoryAdmin, download_link

from .models import (
    CONTRIBUTION_TEXT_FIELDS,
    ContributionActivity,
    HeadingVariance,
    PartnerContribution,
    ProgressReport,
    ReportedExpenditure,
    ReportingPeriod,
    ReportSection,
)


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(admin.ModelAdmin):
    list_display = ["number", "project", "start", "end", "due_date"]
    list_filter = ["project"]
    search_fields = ["project__code"]


@admin.register(ProgressReport)
class ProgressReportAdmin(HistoryAdmin):
    list_display = ["period", "version", "status", "language", "approved_by", "approved_at", "pdf_status"]
    list_filter = ["status", "pdf_status", "language", "period__project"]
    search_fields = ["summary", "pdf_sha256"]
    list_select_related = ["period__project", "approved_by"]
    # Versions are numbered, approved (frozen) and rendered in the portal, where the rules live; here a draft's
    # summary and language can be corrected.
    readonly_fields = [
        "period",
        "version",
        "status",
        "pdf_download",
        "pdf_sha256",
        "pdf_status",
        "pdf_pages",
        "pdf_error",
        "pdf_started_at",
        "approved_by",
        "approved_at",
        "created_by",
        "created_at",
        # The financial report is written in the portal, beside the variances it explains.
        "other_donors_eur",
        "in_kind_eur",
        "interest_eur",
        "funding_note",
        "forecast_eur",
        "forecast_note",
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("PDF"))
    def pdf_download(self, report):
        if report.pdf_status != ProgressReport.PdfStatus.READY:
            return report.get_pdf_status_display()
        return download_link("reports:report-pdf", report.pk, report.pdf.name.rsplit("/", 1)[-1])

    def save_model(self, request, obj, form, change):
        # An edit form opened in the portal on the older text must not overwrite this one.
        obj.revision += 1
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        # An approved SAL never changes; a correction is a new version.
        if obj is not None and obj.status == ProgressReport.Status.APPROVED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status == ProgressReport.Status.APPROVED:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ReportedExpenditure)
class ReportedExpenditureAdmin(admin.ModelAdmin):
    """Which approved SAL reports each expense: written by the approval alone, so read-only here."""

    list_display = ["expenditure", "report"]
    list_filter = ["report__period__project", "report__period__number"]
    search_fields = ["expenditure__description", "expenditure__document_ref"]
    list_select_related = ["report__period__project", "expenditure__partner__organisation"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ContributionActivityInline(admin.StackedInline):
    model = ContributionActivity
    extra = 0
    fields = ["activity", *CONTRIBUTION_TEXT_FIELDS]


@admin.register(PartnerContribution)
class PartnerContributionAdmin(HistoryAdmin):
    list_display = ["period", "partner", "status", "author", "reviewer", "updated_at"]
    list_filter = ["status", "period__project", "period", "partner"]
    search_fields = ["partner__organisation__name", "review_note", "lines__done"]
    list_select_related = ["period__project", "partner__organisation", "author", "reviewer"]
    readonly_fields = ["created_at", "updated_at", "reviewed_at"]
    # Named, or the fields the model takes from core's Reviewed would come first.
    fields = ["period", "partner", "author", "status", "reviewer", "review_note", *readonly_fields]
    inlines = [ContributionActivityInline]


@admin.register(ContributionActivity)
class ContributionActivityAdmin(HistoryAdmin):
    list_display = ["contribution", "activity"]
    list_filter = ["contribution__period__project", "contribution__status"]
    search_fields = ["done", "results", "problems", "next_period", "visibility"]
    list_select_related = ["contribution__period", "contribution__partner__organisation", "activity"]


@admin.register(ReportSection)
class ReportSectionAdmin(HistoryAdmin):
    list_display = ["report", "kind", "activity", "edited_by", "edited_at"]
    list_filter = ["kind", "report__period__project"]
    search_fields = ["text"]
    list_select_related = ["report__period__project", "activity", "edited_by"]
    # Sections are compiled and edited in the portal, which keeps approved SALs unchanged.
    readonly_fields = ["report", "kind", "activity", "edited_by", "edited_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.report.status == ProgressReport.Status.DRAFT

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HeadingVariance)
class HeadingVarianceAdmin(HistoryAdmin):
    list_display = ["report", "category"]
    list_filter = ["category", "report__period__project"]
    search_fields = ["explanation"]
    list_select_related = ["report__period__project", "category"]
    # Written in the portal's financial report of a draft; an approved SAL keeps them as they were.
    readonly_fields = ["report", "category"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.report.status == ProgressReport.Status.DRAFT

    def has_delete_permission(self, request, obj=None):
        return False
