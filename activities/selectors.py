"""Reads on the work plan and its progress: scoped querysets and progress figures."""

import datetime

from django.db.models import Count, Max, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from partners.models import Partner, Project
from partners.permissions import partner_of

from .models import Action, Activity, Evidence, Indicator, IndicatorValue, ProgressEntry
from .rules import expected_progress, is_late


def _approved(until: datetime.date | None, prefix: str = "") -> Q:
    """Approved entries, dated up to `until` when given."""
    condition = Q(**{f"{prefix}status": ProgressEntry.Status.APPROVED})
    if until is not None:
        condition &= Q(**{f"{prefix}date__lte": until})
    return condition


def action_progress_subquery(until: datetime.date | None = None):
    """Percent complete of the action's latest approved entry (dated up to `until`)."""
    return Subquery(
        ProgressEntry.objects.filter(_approved(until), action=OuterRef("pk"))
        .order_by("-date", "-id")
        .values("percent_complete")[:1]
    )


def actions_with_progress(until: datetime.date | None = None) -> QuerySet[Action]:
    """Actions with `progress`, `first_report` and `last_report` from approved entries (dated up to `until`)."""
    approved = _approved(until, "progress_entries__")
    return Action.objects.select_related("responsible__organisation").annotate(
        progress=action_progress_subquery(until),
        first_report=Min("progress_entries__date", filter=approved),
        last_report=Max("progress_entries__date", filter=approved),
    )


def activity_list_with_progress(*, project: Project) -> QuerySet[Activity]:
    """Return the project's activities with their actions, responsible partners and approved progress."""
    return (
        Activity.objects.filter(project=project)
        .select_related("leader__organisation")
        .prefetch_related(Prefetch("actions", queryset=actions_with_progress()))
    )


def activity_progress(activity: Activity) -> int:
    """Return the mean approved progress of the activity's prefetched actions, in percent."""
    actions = activity.actions.all()
    if not actions:
        return 0
    return round(sum(action.progress or 0 for action in actions) / len(actions))


def _set_schedule(activities, elapsed: int) -> list[Activity]:
    for activity in activities:
        activity.progress = activity_progress(activity)
        activity.expected = expected_progress(activity.start_month, activity.end_month, elapsed)
        activity.late = is_late(activity.progress, activity.start_month, activity.end_month, elapsed)
        for action in activity.actions.all():
            action.late = is_late(action.progress or 0, action.start_month, action.end_month, elapsed)
    return activities


def activity_list_with_schedule(*, project: Project, today: datetime.date) -> list[Activity]:
    """Return the activities with `progress`, `expected` and `late` set against the elapsed time."""
    return _set_schedule(list(activity_list_with_progress(project=project)), project.elapsed_months(today))


def activity_get(*, user, project: Project, number: int, today: datetime.date) -> Activity:
    """Return activity `number` with its schedule figures, or 404 when the user may not see it."""
    activity = get_object_or_404(
        activity_list_with_progress(project=project).filter(pk__in=Activity.objects.visible_to(user)), number=number
    )
    return _set_schedule([activity], project.elapsed_months(today))[0]


def indicators_with_achieved(until: datetime.date | None = None) -> QuerySet[Indicator]:
    """Indicators with `achieved`: the value of the latest approved entry (dated up to `until`)."""
    latest = (
        IndicatorValue.objects.filter(_approved(until, "entry__"), indicator=OuterRef("pk"))
        .order_by("-entry__date", "-entry_id")
        .values("value")[:1]
    )
    return Indicator.objects.annotate(achieved=Subquery(latest))


def indicator_list_with_achieved(*, activity: Activity) -> QuerySet[Indicator]:
    """Return the activity's indicators with `achieved`: the value of the latest approved entry."""
    return indicators_with_achieved().filter(activity=activity)


def progress_entry_list(
    *,
    user,
    project: Project,
    status: str | None = None,
    partner: Partner | None = None,
    activity: Activity | None = None,
) -> QuerySet[ProgressEntry]:
    """Return the project's entries the user may see, newest first, ready to list."""
    entries = (
        ProgressEntry.objects.visible_to(user)
        .for_project(project)
        .select_related("action__activity__project", "partner__organisation", "author")
        .annotate(evidence_count=Count("evidence"))
        .order_by("-date", "-id")
    )
    if status:
        entries = entries.filter(status=status)
    if partner:
        entries = entries.filter(partner=partner)
    if activity:
        entries = entries.filter(action__activity=activity)
    return entries


def progress_entry_get(*, user, pk: int) -> ProgressEntry:
    """Return the entry, or 404 when the user may not see it."""
    return get_object_or_404(
        ProgressEntry.objects.visible_to(user).select_related(
            "action__activity__project", "action__responsible", "partner__organisation", "author", "reviewer"
        ),
        pk=pk,
    )


def progress_entry_review_queue(*, user, project: Project) -> QuerySet[ProgressEntry]:
    """Return the project's submitted entries the user may see, oldest first: what the directors review next."""
    return progress_entry_list(user=user, project=project, status=ProgressEntry.Status.SUBMITTED).order_by(
        "updated_at", "id"
    )


def progress_entry_deleted_by(*, user, pk: int) -> bool:
    """Tell whether `user` deleted the entry `pk` (its history keeps who did)."""
    return ProgressEntry.history.filter(id=pk, history_type="-", history_user=user).exists()


def progress_entry_detail(entry: ProgressEntry) -> dict:
    """Return what the entry page shows besides the entry: values, files and the audit history."""
    history = list(entry.history.select_related("history_user").order_by("history_date", "history_id"))
    changes = []
    for previous, record in zip([None, *history], history, strict=False):
        delta = record.diff_against(previous, excluded_fields=["updated_at", "revision"]) if previous else None
        fields = [str(ProgressEntry._meta.get_field(c.field).verbose_name) for c in delta.changes] if delta else []
        user = record.history_user
        who = (user.get_full_name() or user.username) if user else ""
        changes.append({"record": record, "fields": fields, "user": who})
    action = entry.action
    previous = (
        ProgressEntry.objects.filter(action=action, status=ProgressEntry.Status.APPROVED, date__lte=entry.date)
        .exclude(pk=entry.pk)
        .order_by("-date", "-id")
        .values_list("percent_complete", flat=True)
        .first()
    )
    elapsed = action.activity.project.elapsed_months(entry.date)
    return {
        "indicator_values": list(entry.indicator_values.select_related("indicator")),
        "evidence": list(entry.evidence.select_related("uploaded_by")),
        "changes": changes,
        # What a reviewer weighs the entry against: the action's last approved figure, and the plan by its date.
        "previous_approved_percent": previous,
        "expected_percent": expected_progress(action.start_month, action.end_month, elapsed),
    }


def progress_entry_next_in_queue(*, user, entry: ProgressEntry) -> ProgressEntry | None:
    """Return the oldest other entry waiting for review in the entry's project, for a director to go on with."""
    project = entry.action.activity.project
    return progress_entry_review_queue(user=user, project=project).exclude(pk=entry.pk).first()


def evidence_get(*, user, pk: int) -> Evidence:
    """Return the file record, or 404 when the user may not see its entry."""
    return get_object_or_404(Evidence.objects.visible_to(user).select_related("entry__action__activity"), pk=pk)


def recordable_actions(*, partner: Partner | None) -> QuerySet[Action]:
    """Return the actions `partner` reports on: those it is responsible for, or whose activity it leads."""
    if partner is None:
        return Action.objects.none()
    return (
        actions_with_progress()
        .filter(Q(responsible=partner) | Q(responsible__isnull=True, activity__leader=partner))
        .select_related("activity")
    )


def recordable_action_get(*, user, project: Project, pk: int) -> Action:
    """Return the action `pk` the user's partner reports on, or 404 when it reports on no such action."""
    return get_object_or_404(recordable_actions(partner=partner_of(user, project)), pk=pk)


def recordable_action_ids(*, partner: Partner | None, activity: Activity) -> set[int]:
    """Return the ids of the activity's actions `partner` reports on."""
    return set(recordable_actions(partner=partner).filter(activity=activity).values_list("pk", flat=True))


def action_list(*, activity: Activity) -> list[Action]:
    """Return the actions of an activity from `activity_get`, with the progress and lateness it set on them."""
    return list(activity.actions.all())
