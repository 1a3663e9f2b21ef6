"""Who may read and prepare the SAL."""

from partners.models import Project
from partners.permissions import user_can_direct, user_can_see_all_partners

from .models import ProgressReport


def user_can_view_reports(user, project: Project) -> bool:
    """Directors, observers and administrators read the SAL; it holds every partner's money."""
    return user_can_see_all_partners(user, project)


def user_can_prepare_report(user, project: Project) -> bool:
    """Directors draft, edit and approve the SAL."""
    return user_can_direct(user, project)


def user_can_change_report(user, report: ProgressReport) -> bool:
    return report.status == ProgressReport.Status.DRAFT and user_can_prepare_report(user, report.project)
