from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import HistoryAdmin, download_link

from .models import (
    Action,
    Activity,
    Evidence,
    Indicator,
    IndicatorMeasurement,
    IndicatorValue,
    Objective,
    ProgressEntry,
    Result,
    TargetGroup,
)


class ActionInline(admin.TabularInline):
    model = Action
    extra = 0
    fields = ["number", "title", "responsible", "start_month", "end_month"]


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["name", "unit", "baseline", "target", "cumulative"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "kind", "leader", "result", "start_month", "end_month", "project"]
    list_display_links = ["number", "title"]
    list_filter = ["project", "kind"]
    search_fields = ["title", "description"]
    list_select_related = ["leader__organisation", "project", "result__objective"]
    filter_horizontal = ["participants"]
    inlines = [ActionInline, IndicatorInline]


@admin.register(Action)
class ActionAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "responsible", "start_month", "end_month"]
    list_filter = ["activity__project", "activity", "responsible"]
    search_fields = ["title"]
    list_select_related = ["activity", "responsible__organisation"]

    @admin.display(description="#", ordering="activity__number")
    def code(self, obj):
        return obj.code


class ResultInline(admin.TabularInline):
    model = Result
    extra = 0


class ObjectiveIndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    # The objective's own indicators: their result and activity stay empty.
    fields = ["name", "unit", "baseline", "target", "cumulative"]


@admin.register(Objective)
class ObjectiveAdmin(HistoryAdmin):
    list_display = ["code", "kind", "text", "project"]
    list_filter = ["project", "kind"]
    search_fields = ["text"]
    list_select_related = ["project"]
    inlines = [ResultInline, ObjectiveIndicatorInline]


@admin.register(Result)
class ResultAdmin(HistoryAdmin):
    list_display = ["code", "text", "objective"]
    list_filter = ["objective__project", "objective"]
    search_fields = ["text"]
    list_select_related = ["objective__project"]


@admin.register(TargetGroup)
class TargetGroupAdmin(HistoryAdmin):
    list_display = ["number", "name", "project"]
    list_filter = ["project"]
    search_fields = ["name"]
    list_select_related = ["project"]


class IndicatorMeasurementInline(admin.TabularInline):
    model = IndicatorMeasurement
    extra = 0
    fields = ["date", "value", "note", "recorded_by"]


@admin.register(Indicator)
class IndicatorAdmin(HistoryAdmin):
    list_display = ["name", "measured", "unit", "baseline", "target", "cumulative"]
    list_filter = ["cumulative", "activity__project", "activity"]
    search_fields = ["name", "source_of_verification", "assumptions"]
    list_select_related = ["activity", "result__objective", "objective"]
    inlines = [IndicatorMeasurementInline]

    @admin.display(description=_("measures"))
    def measured(self, indicator):
        return indicator.measured


@admin.register(IndicatorMeasurement)
class IndicatorMeasurementAdmin(HistoryAdmin):
    list_display = ["indicator", "date", "value", "recorded_by"]
    list_filter = ["indicator"]
    search_fields = ["indicator__name", "note"]
    date_hierarchy = "date"
    list_select_related = ["indicator", "recorded_by"]


class IndicatorValueInline(admin.TabularInline):
    model = IndicatorValue
    extra = 0


class AttachmentAdminMixin:
    """An uploaded file, shown as a link to its download view, and added or replaced only in the portal.

    The portal checks an upload's type and size by its content and records them; a file replaced here would
    skip that check and leave the recorded name, type and size wrong.
    """

    download_url_name: str
    attachment_fields = ["download", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]

    @admin.display(description=_("file"))
    def download(self, attachment):
        if not attachment.pk or not attachment.file:
            return self.get_empty_value_display()
        return download_link(self.download_url_name, attachment.pk, attachment.original_name)

    def has_add_permission(self, request, obj=None):
        return False


class EvidenceInline(AttachmentAdminMixin, admin.TabularInline):
    model = Evidence
    extra = 0
    download_url_name = "activities:evidence-download"
    fields = readonly_fields = AttachmentAdminMixin.attachment_fields


@admin.register(ProgressEntry)
class ProgressEntryAdmin(HistoryAdmin):
    list_display = ["action", "partner", "date", "percent_complete", "status", "author", "reviewer"]
    list_filter = ["status", "partner", "action__activity"]
    search_fields = ["narrative", "action__title", "author__username"]
    date_hierarchy = "date"
    list_select_related = ["action__activity", "partner__organisation", "author", "reviewer"]
    readonly_fields = ["created_at", "updated_at", "reviewed_at"]
    # Named, or the fields the model takes from core's Reviewed would come first.
    fields = [
        "action",
        "partner",
        "author",
        "date",
        "percent_complete",
        "narrative",
        "status",
        "reviewer",
        "review_note",
        *readonly_fields,
    ]
    inlines = [IndicatorValueInline, EvidenceInline]


@admin.register(IndicatorValue)
class IndicatorValueAdmin(HistoryAdmin):
    list_display = ["indicator", "value", "entry"]
    list_filter = ["indicator"]
    list_select_related = ["indicator", "entry__action__activity"]
    autocomplete_fields = ["entry"]


@admin.register(Evidence)
class EvidenceAdmin(AttachmentAdminMixin, HistoryAdmin):
    list_display = ["original_name", "entry", "content_type", "size", "uploaded_by", "uploaded_at"]
    search_fields = ["original_name"]
    list_select_related = ["entry__action__activity", "uploaded_by"]
    download_url_name = "activities:evidence-download"
    fields = ["entry", *AttachmentAdminMixin.attachment_fields]
    # A search box, not a list of every entry (each entry's name reads its action).
    autocomplete_fields = ["entry"]
    readonly_fields = AttachmentAdminMixin.attachment_fields
