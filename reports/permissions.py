"""Who may read and prepare the SAL."""

from partners.models import Project
from partners.permissions import partner_of, user_can_direct, user_can_see_all_partners

from .models import PartnerContribution, ProgressReport

CONTRIBUTION_EDITABLE_STATUSES = (PartnerContribution.Status.DRAFT, PartnerContribution.Status.RETURNED)


def user_can_view_reports(user, project: Project) -> bool:
    """Directors, observers and administrators read the SAL; it holds every partner's money."""
    return user_can_see_all_partners(user, project)


def user_can_prepare_report(user, project: Project) -> bool:
    """Directors draft, edit and approve the SAL."""
    return user_can_direct(user, project)


def user_can_change_report(user, report: ProgressReport) -> bool:
    return report.status == ProgressReport.Status.DRAFT and user_can_prepare_report(user, report.project)


def user_can_change_contribution(user, contribution: PartnerContribution) -> bool:
    """The partner's staff edit and submit its draft and returned contributions."""
    return (
        contribution.status in CONTRIBUTION_EDITABLE_STATUSES
        and partner_of(user, contribution.period.project) == contribution.partner
    )


def user_can_review_contribution(user, contribution: PartnerContribution) -> bool:
    """Directors accept or return submitted contributions."""
    return contribution.status == PartnerContribution.Status.SUBMITTED and user_can_direct(
        user, contribution.period.project
    )
