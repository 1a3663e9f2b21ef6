"""Reads on the work plan and its progress: scoped querysets and progress figures."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404

from core.formatters import plain_number
from partners.models import Partner, Project
from partners.permissions import partner_of

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
from .rules import expected_progress, indicator_achievement, indicator_period_value, is_late


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


def indicator_values(
    indicators: list[Indicator], *, until: datetime.date | None = None
) -> dict[int, list[tuple[datetime.date, Decimal]]]:
    """Return each indicator's dated values up to `until`, in date order: approved entries' and directors'.

    A partner's value is dated by its progress entry and counts once the entry is approved; a director's
    measurement counts as recorded. Two queries, whatever the number of indicators.
    """
    ids = [indicator.pk for indicator in indicators]
    values = defaultdict(list)
    entry_values = IndicatorValue.objects.filter(_approved(until, "entry__"), indicator_id__in=ids)
    for indicator_id, day, entry_id, value in entry_values.values_list(
        "indicator_id", "entry__date", "entry_id", "value"
    ):
        values[indicator_id].append((day, 0, entry_id, value))
    measurements = IndicatorMeasurement.objects.filter(indicator_id__in=ids)
    if until is not None:
        measurements = measurements.filter(date__lte=until)
    for indicator_id, day, pk, value in measurements.values_list("indicator_id", "date", "pk", "value"):
        values[indicator_id].append((day, 1, pk, value))
    return {key: [(day, value) for day, _kind, _pk, value in sorted(rows)] for key, rows in values.items()}


def indicators_with_achievement(
    indicators: list[Indicator],
    *,
    until: datetime.date | None = None,
    period_start: datetime.date | None = None,
) -> list[Indicator]:
    """Set `achieved`, `percent` (from the baseline, see `rules.indicator_achievement`) and `dated_values` on each.

    With `period_start`, also `period_value`: what the values dated from `period_start` to `until` report.
    """
    values = indicator_values(indicators, until=until)
    for indicator in indicators:
        dated = values.get(indicator.pk, [])
        indicator.dated_values = dated
        indicator.achieved, indicator.percent = indicator_achievement(
            baseline=indicator.baseline,
            target=indicator.target,
            cumulative=indicator.cumulative,
            values=[value for _day, value in dated],
        )
        if period_start is not None:
            indicator.period_value = indicator_period_value(
                cumulative=indicator.cumulative, values=[value for day, value in dated if day >= period_start]
            )
    return indicators


def indicator_list_with_achieved(*, activity: Activity) -> list[Indicator]:
    """Return the activity's indicators with `achieved` and `percent` from all their values."""
    return indicators_with_achievement(list(activity.indicators.all()))


@dataclass
class Logframe:
    """The project's logframe, each indicator with its figures as of a date."""

    overall: list[Objective]
    specific: list[Objective]
    unlinked_activities: list[Activity]
    target_groups: list[TargetGroup]


def logframe_get(
    *, project: Project, until: datetime.date | None = None, period_start: datetime.date | None = None
) -> Logframe:
    """Return the logframe of `project` with each indicator's figures as of `until` (see indicators_with_achievement).

    Each objective gets `indicator_list`, each specific one `result_list`; each result `indicator_list` and
    `activity_list`; each activity `indicator_list`. A reporting period is passed as its dates
    (`period_start`, `until`): this app cannot know the reports app's periods. Seven queries in all.
    """
    objectives = list(Objective.objects.filter(project=project).order_by("kind", "number"))
    results = list(Result.objects.filter(objective__project=project).order_by("objective__number", "number"))
    activities = list(Activity.objects.filter(project=project).select_related("leader__organisation"))
    indicators = indicators_with_achievement(
        list(Indicator.objects.for_project(project).order_by("pk")), until=until, period_start=period_start
    )
    by_owner = defaultdict(list)
    for indicator in indicators:
        if indicator.objective_id:
            by_owner["objective", indicator.objective_id].append(indicator)
        elif indicator.result_id:
            by_owner["result", indicator.result_id].append(indicator)
        else:
            by_owner["activity", indicator.activity_id].append(indicator)
    for activity in activities:
        activity.indicator_list = by_owner[("activity", activity.pk)]
    activities_by_result = defaultdict(list)
    for activity in activities:
        activities_by_result[activity.result_id].append(activity)
    results_by_objective = defaultdict(list)
    for result in results:
        result.indicator_list = by_owner[("result", result.pk)]
        result.activity_list = activities_by_result[result.pk]
        results_by_objective[result.objective_id].append(result)
    for objective in objectives:
        objective.indicator_list = by_owner[("objective", objective.pk)]
        objective.result_list = results_by_objective[objective.pk]
    return Logframe(
        overall=[o for o in objectives if o.kind == Objective.Kind.OVERALL],
        specific=[o for o in objectives if o.kind == Objective.Kind.SPECIFIC],
        unlinked_activities=activities_by_result[None],
        target_groups=list(TargetGroup.objects.filter(project=project)),
    )


def _indicator_json(indicator: Indicator) -> dict:
    def number(value):
        return None if value is None else plain_number(value)

    return {
        "name": indicator.name,
        "unit": indicator.unit,
        "baseline": number(indicator.baseline),
        "target": number(indicator.target),
        "cumulative": indicator.cumulative,
        "source_of_verification": indicator.source_of_verification,
        "assumptions": indicator.assumptions,
        "period_value": number(getattr(indicator, "period_value", None)),
        "achieved": number(indicator.achieved),
        "percent": number(indicator.percent),
    }


def logframe_json(*, project: Project, period_start: datetime.date, period_end: datetime.date) -> dict:
    """Return the logframe with its figures for a reporting period as plain JSON-able data, for the SAL."""
    logframe = logframe_get(project=project, until=period_end, period_start=period_start)

    def activity_json(activity):
        return {
            "number": activity.number,
            "title": activity.title,
            "indicators": [_indicator_json(i) for i in activity.indicator_list],
        }

    def objective_json(objective):
        return {
            "code": objective.code,
            "text": objective.text,
            "indicators": [_indicator_json(i) for i in objective.indicator_list],
            "results": [
                {
                    "code": result.code,
                    "text": result.text,
                    "indicators": [_indicator_json(i) for i in result.indicator_list],
                    "activities": [activity_json(a) for a in result.activity_list],
                }
                for result in objective.result_list
            ],
        }

    return {
        "overall": [objective_json(o) for o in logframe.overall],
        "specific": [objective_json(o) for o in logframe.specific],
        "unlinked_activities": [activity_json(a) for a in logframe.unlinked_activities],
        "target_groups": [group.name for group in logframe.target_groups],
    }


def objective_get(*, user, pk: int) -> Objective:
    """Return the objective, or 404 outside the user's projects."""
    return get_object_or_404(Objective.objects.filter(project__in=Project.objects.visible_to(user)), pk=pk)


def result_get(*, user, pk: int) -> Result:
    """Return the result, or 404 outside the user's projects."""
    return get_object_or_404(
        Result.objects.select_related("objective").filter(objective__project__in=Project.objects.visible_to(user)),
        pk=pk,
    )


def indicator_get(*, user, project: Project, pk: int) -> Indicator:
    """Return the indicator of `project`, or 404 when the user may not see the project or it is another's."""
    if not Project.objects.visible_to(user).filter(pk=project.pk).exists():
        raise Http404
    return get_object_or_404(Indicator.objects.for_project(project), pk=pk)


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


def target_group_get(*, user, pk: int) -> TargetGroup:
    """Return the target group, or 404 outside the user's projects."""
    return get_object_or_404(TargetGroup.objects.filter(project__in=Project.objects.visible_to(user)), pk=pk)


def activities_of_partner(*, partner: Partner) -> QuerySet[Activity]:
    """Return the activities `partner` leads, takes part in or is responsible for an action of, by number."""
    return (
        Activity.objects.filter(
            Q(leader=partner) | Q(participants=partner) | Q(actions__responsible=partner), project=partner.project
        )
        .distinct()
        .order_by("number")
    )
