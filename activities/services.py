"""Writes on the work plan and its progress, each with its rules and an audit trace."""

import datetime
import uuid
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from core.mail import notify
from core.models import Notification
from core.services import (
    attachment_delete,
    attachments_store,
    delete_audited,
    lock_for_change,
    review_transition,
    save_audited,
    save_audited_once,
)
from core.uploads import CheckedUpload
from partners.permissions import user_can_act_for_partner, user_can_direct
from partners.selectors import director_list

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
from .permissions import (
    DELETABLE_STATUSES,
    EDITABLE_STATUSES,
    partner_responsible_for,
    user_can_change_entry,
    user_can_delete_entry,
    user_can_edit_logframe,
    user_can_record_progress,
)

REVIEWED_STATUSES = (ProgressEntry.Status.APPROVED, ProgressEntry.Status.RETURNED)


def _set_indicator_values(entry: ProgressEntry, values: dict[Indicator, Decimal | None], actor):
    existing = {value.indicator_id: value for value in entry.indicator_values.all()}
    for indicator, amount in values.items():
        if amount is None:
            continue
        value = existing.pop(indicator.pk, None) or IndicatorValue(entry=entry, indicator=indicator)
        value.value = amount
        save_audited(value, actor)
    for stale in existing.values():
        delete_audited(stale, actor)


def _attach_evidence(entry: ProgressEntry, uploads: Sequence[CheckedUpload], actor):
    attachments_store(uploads, build=lambda upload: Evidence(entry=entry), actor=actor)


@transaction.atomic
def progress_entry_create(
    *,
    actor,
    action: Action,
    date: datetime.date,
    percent_complete: int,
    narrative: str,
    indicator_values: dict[Indicator, Decimal | None] | None = None,
    evidence: Sequence[CheckedUpload] = (),
    form_token: uuid.UUID | None = None,
) -> ProgressEntry:
    """Record a draft progress entry on an action the actor's partner is responsible for.

    With `form_token`, raise AlreadySaved if the actor's form with that token created an entry already.
    """
    if not user_can_record_progress(actor, action):
        raise PermissionDenied(_("You can record progress only on actions your organisation is responsible for."))
    entry = ProgressEntry(
        action=action,
        partner=partner_responsible_for(action),
        author=actor,
        date=date,
        percent_complete=percent_complete,
        narrative=narrative,
    )
    save_audited_once(entry, actor, form_token=form_token)
    _set_indicator_values(entry, indicator_values or {}, actor)
    _attach_evidence(entry, evidence, actor)
    return entry


@transaction.atomic
def progress_entry_update(
    *,
    actor,
    entry: ProgressEntry,
    revision: int,
    date: datetime.date,
    percent_complete: int,
    narrative: str,
    indicator_values: dict[Indicator, Decimal | None] | None = None,
    evidence: Sequence[CheckedUpload] = (),
) -> ProgressEntry:
    """Change a draft or returned entry, refusing if someone saved it since `revision` was read."""
    locked = lock_for_change(
        entry,
        editable=EDITABLE_STATUSES,
        refused=_("This entry is %(status)s and can no longer be changed."),
        permitted=lambda row: user_can_change_entry(actor, row),
        denied=_("You can change only your own organisation's entries."),
        revision=revision,
        stale=_(
            "Someone else saved this entry while you were editing it. Your changes were not saved: "
            "copy them, reload the page to see the current version, and apply them again."
        ),
        select_related=("action__activity__project",),
    )
    locked.date = date
    locked.percent_complete = percent_complete
    locked.narrative = narrative
    locked.revision += 1
    save_audited(locked, actor)
    _set_indicator_values(locked, indicator_values or {}, actor)
    _attach_evidence(locked, evidence, actor)
    return locked


@transaction.atomic
def evidence_delete(*, actor, evidence: Evidence) -> None:
    """Remove a file from a draft or returned entry; the file goes once the removal is committed."""
    if not user_can_change_entry(actor, evidence.entry):
        raise PermissionDenied(_("Files can be removed only from your own organisation's drafts."))
    attachment_delete(evidence, actor)


@transaction.atomic
def progress_entry_delete(*, actor, entry: ProgressEntry) -> None:
    """Delete a draft or returned entry with its values and files; its history keeps what it was and who deleted it.

    The director who returned the entry is told that it was withdrawn.
    """
    locked = lock_for_change(
        entry,
        editable=DELETABLE_STATUSES,
        refused=_("This entry is %(status)s and can no longer be deleted."),
        permitted=lambda row: user_can_delete_entry(actor, row),
        denied=_("You can delete only your own organisation's drafts and returned entries."),
        gone=_("This entry was deleted already."),
        select_related=("action__activity__project", "partner"),
        # The record's own row only: its partner and project stay free for everyone else's work.
        of=("self",),
    )
    for value in locked.indicator_values.all():
        delete_audited(value, actor)
    for evidence in locked.evidence.all():
        attachment_delete(evidence, actor)
    if locked.status == ProgressEntry.Status.RETURNED and locked.reviewer is not None:
        notify(
            recipients=[locked.reviewer],
            actor=actor,
            verb=Notification.Verb.WITHDRAWN,
            target=locked,
            summary=_entry_summary(locked),
            link="",
            subject=_("COCAP: the returned progress on %(action)s was withdrawn") % {"action": locked.action.code},
            template="activities/email/entry_deleted.txt",
            context={"entry": locked, "actor": actor},
        )
    delete_audited(locked, actor)


def _transition(entry, **kwargs):
    return review_transition(entry, reviewed_statuses=REVIEWED_STATUSES, **kwargs)


@transaction.atomic
def progress_entry_submit(*, actor, entry: ProgressEntry) -> ProgressEntry:
    """Send a draft or returned entry to the directors for review."""
    if not user_can_act_for_partner(actor, entry.partner):
        raise PermissionDenied(_("You can submit only your own organisation's entries."))
    entry = _transition(entry, allowed_from=EDITABLE_STATUSES, to=ProgressEntry.Status.SUBMITTED, actor=actor)
    notify(
        recipients=director_list(project=entry.action.activity.project),
        actor=actor,
        verb=Notification.Verb.SUBMITTED,
        target=entry,
        summary=_entry_summary(entry),
        link=_entry_link(entry),
        subject=_("COCAP: progress on %(action)s submitted for review") % {"action": entry.action.code},
        template="activities/email/entry_submitted.txt",
        context={"entry": entry, "actor": actor},
    )
    return entry


def _require_reviewer(actor, entry):
    # The status is checked on the locked row, so that a second approval is told it came too late.
    if not user_can_direct(actor, entry.action.activity.project):
        raise PermissionDenied(_("Only directors review progress."))


@transaction.atomic
def progress_entry_approve(*, actor, entry: ProgressEntry, note: str = "") -> ProgressEntry:
    """Approve a submitted entry; it becomes the action's reported progress."""
    _require_reviewer(actor, entry)
    entry = _transition(
        entry, allowed_from=(ProgressEntry.Status.SUBMITTED,), to=ProgressEntry.Status.APPROVED, actor=actor, note=note
    )
    _notify_author(entry, actor, Notification.Verb.APPROVED, _("COCAP: your progress on %(action)s was approved"))
    return entry


@transaction.atomic
def progress_entry_return(*, actor, entry: ProgressEntry, note: str) -> ProgressEntry:
    """Send a submitted entry back to its partner with the reason."""
    _require_reviewer(actor, entry)
    if not note.strip():
        raise ValidationError({"review_note": _("Say what needs fixing when you return an entry.")}, code="required")
    entry = _transition(
        entry, allowed_from=(ProgressEntry.Status.SUBMITTED,), to=ProgressEntry.Status.RETURNED, actor=actor, note=note
    )
    _notify_author(entry, actor, Notification.Verb.RETURNED, _("COCAP: your progress on %(action)s was returned"))
    return entry


def _entry_summary(entry) -> str:
    values = {"action": entry.action.code, "percent": entry.percent_complete}
    return _("Progress on %(action)s, %(percent)d %%") % values


def _entry_link(entry) -> str:
    return reverse("activities:entry-detail", args=[entry.pk])


def _notify_author(entry, actor, verb, subject):
    notify(
        recipients=[entry.author],
        actor=actor,
        verb=verb,
        target=entry,
        summary=_entry_summary(entry),
        link=_entry_link(entry),
        subject=subject % {"action": entry.action.code},
        template="activities/email/entry_reviewed.txt",
        context={"entry": entry},
    )


def _logframe_project_id(item) -> int | None:
    if isinstance(item, Objective | TargetGroup):
        return item.project_id
    if isinstance(item, Result):
        return item.objective.project_id if item.objective_id else None
    if isinstance(item, IndicatorMeasurement):
        return item.indicator.project_id
    return item.project_id


@transaction.atomic
def logframe_item_save(
    *,
    actor,
    project,
    item: Objective | Result | Indicator | TargetGroup | IndicatorMeasurement,
    activities: Sequence[Activity] | None = None,
):
    """Create or change an item of `project`'s logframe, keeping its history; directors only.

    For a result, `activities` (when given) become the activities that work towards it.
    """
    if not user_can_edit_logframe(actor, project):
        raise PermissionDenied(_("Only directors edit the logframe."))
    if isinstance(item, IndicatorMeasurement) and item.recorded_by_id is None:
        item.recorded_by = actor
    # Validated first: an item pointing at another project's objective, result or activity is refused below.
    item.full_clean()
    if _logframe_project_id(item) != project.pk:
        raise ValidationError(_("The logframe item must belong to this project."), code="project")
    save_audited(item, actor)
    if isinstance(item, Result) and activities is not None:
        chosen = {activity.pk for activity in activities}
        for activity in Activity.objects.filter(project=project).select_for_update():
            if activity.pk in chosen and activity.result_id != item.pk:
                activity.result = item
                save_audited(activity, actor)
            elif activity.pk not in chosen and activity.result_id == item.pk:
                activity.result = None
                save_audited(activity, actor)
    return item
