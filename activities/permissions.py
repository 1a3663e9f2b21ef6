"""Who may record, change and review progress."""

from partners.models import Partner, Project
from partners.permissions import partner_of, user_can_direct

from .models import Action, ProgressEntry

EDITABLE_STATUSES = (ProgressEntry.Status.DRAFT, ProgressEntry.Status.RETURNED)
# A returned entry may be withdrawn too: a duplicate or a mistake would otherwise stay returned for ever.
DELETABLE_STATUSES = EDITABLE_STATUSES


def partner_responsible_for(action: Action) -> Partner | None:
    """Return the partner that reports on `action`: its responsible partner, else its activity's leader."""
    return action.responsible or action.activity.leader


def user_can_record_progress(user, action: Action) -> bool:
    """Staff of the partner responsible for the action record its progress."""
    partner = partner_of(user, action.activity.project)
    return partner is not None and partner == partner_responsible_for(action)


def user_can_change_entry(user, entry: ProgressEntry) -> bool:
    """The partner's staff edit and submit its drafts and returned entries (administrators use the admin)."""
    return entry.status in EDITABLE_STATUSES and partner_of(user, entry.action.activity.project) == entry.partner


def user_can_delete_entry(user, entry: ProgressEntry) -> bool:
    """The partner's staff delete its drafts and returned entries; directors and observers never do."""
    return entry.status in DELETABLE_STATUSES and partner_of(user, entry.action.activity.project) == entry.partner


def user_can_review_entry(user, entry: ProgressEntry) -> bool:
    """Directors approve or return submitted entries."""
    return entry.status == ProgressEntry.Status.SUBMITTED and user_can_direct(user, entry.action.activity.project)


def user_can_edit_logframe(user, project: Project) -> bool:
    """Directors (and administrators) edit the objectives, results, indicators and their values."""
    return user_can_direct(user, project)
