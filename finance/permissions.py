"""Who may declare, change and review expenses, and who sees the project's money."""

from partners.models import Project
from partners.permissions import partner_of, user_can_direct, user_can_see_all_partners

from .models import Expenditure, Timesheet

EDITABLE_STATUSES = (Expenditure.Status.DRAFT, Expenditure.Status.RETURNED)
# A returned expense may be withdrawn too: a duplicate or a mistake would otherwise stay returned for ever.
DELETABLE_STATUSES = EDITABLE_STATUSES


def expenditure_of_timesheet(expenditure: Expenditure) -> bool:
    """Tell whether a timesheet declared the expense: then it changes only through its timesheet."""
    return getattr(expenditure, "timesheet", None) is not None


def user_can_change_expenditure(user, expenditure: Expenditure) -> bool:
    """The partner's staff edit and submit its draft and returned expenses, other than a timesheet's."""
    return (
        expenditure.status in EDITABLE_STATUSES
        and partner_of(user, expenditure.partner.project) == expenditure.partner
        and not expenditure_of_timesheet(expenditure)
    )


def user_can_delete_expenditure(user, expenditure: Expenditure) -> bool:
    """The partner's staff delete its draft and returned expenses, other than a timesheet's; directors never do."""
    return (
        expenditure.status in DELETABLE_STATUSES
        and partner_of(user, expenditure.partner.project) == expenditure.partner
        and not expenditure_of_timesheet(expenditure)
    )


def user_can_review_expenditure(user, expenditure: Expenditure) -> bool:
    """Directors verify, reject or return submitted expenses."""
    return expenditure.status == Expenditure.Status.SUBMITTED and user_can_direct(user, expenditure.partner.project)


def user_can_see_project_finance(user, project: Project) -> bool:
    """Directors, observers and administrators see every partner's money and the EU rule checks."""
    return user_can_see_all_partners(user, project)


def user_can_record_procurement(user, partner) -> bool:
    """A partner's staff record its contracts; directors record any partner's."""
    return partner_of(user, partner.project) == partner or user_can_direct(user, partner.project)


def user_can_change_procurement(user, contract) -> bool:
    """Who records a partner's contracts corrects and removes them; observers only read."""
    return user_can_record_procurement(user, contract.partner)


def user_can_import_budget(user, project: Project) -> bool:
    """Directors and administrators import a new budget version from a workbook."""
    return user_can_direct(user, project)


def user_can_change_timesheet(user, timesheet: Timesheet) -> bool:
    """The partner's staff fill, sign and declare its timesheets until declared, and again once returned."""
    partner = timesheet.staff_member.partner
    return timesheet.is_editable and partner_of(user, partner.project) == partner
