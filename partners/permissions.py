"""Who may see or do what in a project, from the user's Membership: the one home of the scoping rules."""

from django.db.models import Q, QuerySet

from .models import Membership, Partner, Project


def user_is_administrator(user) -> bool:
    """Staff and superusers administer every project."""
    return user.is_authenticated and (user.is_staff or user.is_superuser)


def membership_for(user, project: Project) -> Membership | None:
    """Return the user's membership in `project`, cached on the user for the request."""
    if not user.is_authenticated:
        return None
    cache = user.__dict__.setdefault("_cocap_memberships", {})
    if project.pk not in cache:
        memberships = Membership.objects.select_related("partner__organisation")
        cache[project.pk] = memberships.filter(user=user, project=project).first()
    return cache[project.pk]


def user_can_view_project(user, project: Project) -> bool:
    """Administrators and every member of the project may read it."""
    return user_is_administrator(user) or membership_for(user, project) is not None


def user_can_direct(user, project: Project) -> bool:
    """Directors (and administrators) review, approve and report."""
    if user_is_administrator(user):
        return True
    membership = membership_for(user, project)
    return membership is not None and membership.role == Membership.Role.DIRECTOR


def user_can_see_all_partners(user, project: Project) -> bool:
    """Directors, observers and administrators see every partner's records."""
    if user_is_administrator(user):
        return True
    membership = membership_for(user, project)
    return membership is not None and membership.role != Membership.Role.PARTNER_STAFF


def partner_of(user, project: Project) -> Partner | None:
    """Return the partner the user works for in `project`, if partner staff."""
    membership = membership_for(user, project)
    if membership is None or membership.role != Membership.Role.PARTNER_STAFF:
        return None
    return membership.partner


def user_can_act_for_partner(user, partner: Partner) -> bool:
    """Only a partner's own staff record progress and expenses for it."""
    return partner_of(user, partner.project) == partner


def scope_to_user(
    queryset: QuerySet,
    user,
    *,
    project_field: str,
    partner_field: str | None = None,
    members_see: Q | None = None,
    observers_see: Q | None = None,
) -> QuerySet:
    """Keep the rows of `queryset` that `user` may read.

    Administrators read every row; directors every row of the projects they direct; observers every row of the
    projects they observe, or only those matching `observers_see`; partner staff the rows of their own partner
    (through `partner_field`). Where `members_see` is given, every member also reads the rows of their projects
    that match it. Anonymous users read nothing.
    """
    if not user.is_authenticated:
        return queryset.none()
    if user_is_administrator(user):
        return queryset
    memberships = Membership.objects.filter(user=user)
    in_projects = f"{project_field}__in"
    rule = Q(**{in_projects: memberships.filter(role=Membership.Role.DIRECTOR).values("project")})
    rule |= Q(**{in_projects: memberships.filter(role=Membership.Role.OBSERVER).values("project")}) & (
        observers_see or Q()
    )
    if partner_field:
        own_partners = memberships.filter(role=Membership.Role.PARTNER_STAFF).values("partner")
        rule |= Q(**{f"{partner_field}__in": own_partners})
    if members_see is not None:
        rule |= Q(**{in_projects: memberships.values("project")}) & members_see
    return queryset.filter(rule)
