"""Reads on the work plan and its progress: scoped querysets and progress figures."""

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from partners.models import Project

from .models import Action, Activity, ProgressEntry


def action_progress_subquery():
    """Percent complete of the action's latest approved entry."""
    return Subquery(
        ProgressEntry.objects.filter(action=OuterRef("pk"), status=ProgressEntry.Status.APPROVED)
        .order_by("-date", "-id")
        .values("percent_complete")[:1]
    )


def activity_list_with_progress(*, project: Project) -> QuerySet[Activity]:
    """Return the project's activities with their actions, responsible partners and approved progress."""
    actions = Action.objects.select_related("responsible__organisation").annotate(progress=action_progress_subquery())
    return (
        Activity.objects.filter(project=project)
        .select_related("leader__organisation")
        .prefetch_related(Prefetch("actions", queryset=actions))
    )


def activity_progress(activity: Activity) -> int:
    """Return the mean approved progress of the activity's prefetched actions, in percent."""
    actions = activity.actions.all()
    if not actions:
        return 0
    return round(sum(action.progress or 0 for action in actions) / len(actions))
