from django.contrib import admin

from .models import GoverningBody, Membership, Organisation, Partner, Project


class PartnerInline(admin.TabularInline):
    model = Partner
    extra = 0
    autocomplete_fields = ["organisation"]


class GoverningBodyInline(admin.TabularInline):
    model = GoverningBody
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "programme", "start_date", "duration_months"]
    search_fields = ["code", "title", "programme"]
    inlines = [PartnerInline, GoverningBodyInline]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "country", "kind", "city", "is_demo"]
    list_filter = ["country", "kind", "is_demo"]
    search_fields = ["name", "short_name", "city"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["organisation", "project", "role", "currency"]
    list_filter = ["project", "role", "currency"]
    search_fields = ["organisation__name", "organisation__short_name"]
    list_select_related = ["organisation", "project"]
    autocomplete_fields = ["organisation"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "partner"]
    list_filter = ["project", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "partner__organisation__name"]
    list_select_related = ["user", "project", "partner__organisation"]
    autocomplete_fields = ["user"]


@admin.register(GoverningBody)
class GoverningBodyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "project", "order"]
    list_filter = ["project", "kind"]
    search_fields = ["name"]
