"""Reads on the partnership, scoped to the user."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from .models import GoverningBody, Membership, Partner, Project
from .permissions import user_can_see_all_partners


def project_list(*, user) -> QuerySet[Project]:
    """Return the projects the user may see."""
    return Project.objects.visible_to(user)


def project_current(*, user) -> Project | None:
    """Return the project the user works in: COCAP where visible, else the first they may see."""
    projects = list(project_list(user=user))
    return next((p for p in projects if p.code == "cocap"), projects[0] if projects else None)


def project_current_or_404(*, user) -> Project:
    """Return the user's project, or 404 when the user is a member of none."""
    project = project_current(user=user)
    if project is None:
        raise Http404(_("You are not a member of any project."))
    return project


def partner_list(*, project: Project) -> QuerySet[Partner]:
    return Partner.objects.for_project(project).select_related("organisation")


def partner_filter_choices(*, user, project: Project) -> QuerySet[Partner]:
    """Return the partners a list may be filtered by: all for those who see every partner, none for partner staff."""
    partners = partner_list(project=project)
    return partners if user_can_see_all_partners(user, project) else partners.none()


def governing_body_list(*, project: Project) -> QuerySet[GoverningBody]:
    return GoverningBody.objects.filter(project=project)


def director_list(*, project: Project) -> QuerySet:
    """Return the active users who direct `project`: they are told of what partners submit."""
    return get_user_model().objects.filter(
        memberships__project=project, memberships__role=Membership.Role.DIRECTOR, is_active=True
    )
