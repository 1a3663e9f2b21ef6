from django.contrib import admin

from .models import ProgressReport, ReportingPeriod


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(admin.ModelAdmin):
    list_display = ["number", "project", "start", "end", "due_date"]
    list_filter = ["project"]
    search_fields = ["project__code"]


@admin.register(ProgressReport)
class ProgressReportAdmin(admin.ModelAdmin):
    list_display = ["period", "version", "status", "approved_by", "approved_at", "pdf_sha256"]
    list_filter = ["status", "period__project"]
    search_fields = ["summary", "pdf_sha256"]
    list_select_related = ["period__project", "approved_by"]
    # Approval freezes a SAL with its snapshot and PDF; that happens in the portal, not here.
    readonly_fields = [
        "status",
        "pdf",
        "pdf_sha256",
        "snapshot",
        "approved_by",
        "approved_at",
        "created_by",
        "created_at",
    ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
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
