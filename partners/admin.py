from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from .models import GoverningBody, Membership, Organisation, Partner, Project

User = get_user_model()


class PartnerInline(admin.TabularInline):
    model = Partner
    extra = 0
    autocomplete_fields = ["organisation"]


class GoverningBodyInline(admin.TabularInline):
    model = GoverningBody
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "programme", "contract_number", "start_date", "start_date_confirmed"]
    list_filter = ["start_date_confirmed", "schedule_confirmed"]
    search_fields = ["code", "title", "programme", "contract_number"]
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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["project", "role", "partner"]
    autocomplete_fields = ["partner"]


admin.site.unregister(User)


@admin.register(User)
class CocapUserAdmin(UserAdmin):
    """Django's user admin, with each user's roles and partners in the project."""

    list_display = [*UserAdmin.list_display, "roles", "partners"]
    list_filter = [*UserAdmin.list_filter, "memberships__role"]
    search_fields = [
        *UserAdmin.search_fields,
        "memberships__partner__organisation__name",
        "memberships__partner__organisation__short_name",
    ]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        # One query for the memberships of a whole page of users, with their partners' names.
        memberships = Membership.objects.select_related("partner__organisation").order_by()
        return super().get_queryset(request).prefetch_related(Prefetch("memberships", queryset=memberships))

    @admin.display(description=_("roles"))
    def roles(self, user):
        return ", ".join(sorted({str(m.get_role_display()) for m in user.memberships.all()}))

    @admin.display(description=_("partners"))
    def partners(self, user):
        return ", ".join(sorted({str(m.partner) for m in user.memberships.all() if m.partner}))
