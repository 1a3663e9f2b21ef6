"""Writes on the work plan and its progress, each with its rules and an audit trace."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cocap.services import delete_audited, review_transition, save_audited
from partners.models import Partner
from partners.permissions import user_can_act_for_partner, user_can_direct

from .models import Action, Indicator, IndicatorValue, ProgressEntry

EDITABLE_STATUSES = (ProgressEntry.Status.DRAFT, ProgressEntry.Status.RETURNED)


def _set_indicator_values(entry: ProgressEntry, values: dict[Indicator, Decimal], actor):
    existing = {value.indicator_id: value for value in entry.indicator_values.all()}
    for indicator, amount in values.items():
        value = existing.pop(indicator.pk, None) or IndicatorValue(entry=entry, indicator=indicator)
        value.value = amount
        save_audited(value, actor)
    for stale in existing.values():
        delete_audited(stale, actor)


@transaction.atomic
def progress_entry_create(
    *,
    actor,
    action: Action,
    partner: Partner,
    date: datetime.date,
    percent_complete: int,
    narrative: str,
    indicator_values: dict[Indicator, Decimal] | None = None,
) -> ProgressEntry:
    """Record a draft progress entry for an action on behalf of the actor's partner."""
    if not user_can_act_for_partner(actor, partner):
        raise PermissionDenied(_("You can record progress only for your own organisation."))
    entry = ProgressEntry(
        action=action,
        partner=partner,
        author=actor,
        date=date,
        percent_complete=percent_complete,
        narrative=narrative,
    )
    save_audited(entry, actor)
    _set_indicator_values(entry, indicator_values or {}, actor)
    return entry


REVIEWED_STATUSES = (ProgressEntry.Status.APPROVED, ProgressEntry.Status.RETURNED)


def _transition(entry, **kwargs):
    return review_transition(entry, reviewed_statuses=REVIEWED_STATUSES, **kwargs)


@transaction.atomic
def progress_entry_submit(*, actor, entry: ProgressEntry) -> ProgressEntry:
    """Send a draft or returned entry to the directors for review."""
    if not user_can_act_for_partner(actor, entry.partner):
        raise PermissionDenied(_("You can submit only your own organisation's entries."))
    return _transition(entry, allowed_from=EDITABLE_STATUSES, to=ProgressEntry.Status.SUBMITTED, actor=actor)


@transaction.atomic
def progress_entry_approve(*, actor, entry: ProgressEntry, note: str = "") -> ProgressEntry:
    """Approve a submitted entry; it becomes the action's reported progress."""
    if not user_can_direct(actor, entry.action.activity.project):
        raise PermissionDenied(_("Only directors approve progress."))
    return _transition(
        entry, allowed_from=(ProgressEntry.Status.SUBMITTED,), to=ProgressEntry.Status.APPROVED, actor=actor, note=note
    )


@transaction.atomic
def progress_entry_return(*, actor, entry: ProgressEntry, note: str) -> ProgressEntry:
    """Send a submitted entry back to its partner with the reason."""
    if not user_can_direct(actor, entry.action.activity.project):
        raise PermissionDenied(_("Only directors return progress."))
    if not note.strip():
        raise ValidationError({"review_note": _("Say what needs fixing when you return an entry.")}, code="required")
    return _transition(
        entry, allowed_from=(ProgressEntry.Status.SUBMITTED,), to=ProgressEntry.Status.RETURNED, actor=actor, note=note
    )
