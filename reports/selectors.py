"""Reads that bring the apps together: the project at a glance and, later, the SAL figures."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from activities.models import Activity, ProgressEntry
from activities.selectors import activity_list_with_schedule, is_late, progress_entry_list, recordable_actions
from finance.models import Budget
from finance.selectors import budget_current, partner_list_with_money
from partners.models import GoverningBody, Partner, Project
from partners.selectors import governing_body_list

from .models import ReportingPeriod


@dataclass(frozen=True)
class ProjectOverview:
    project: Project
    today: datetime.date
    elapsed_months: int
    activities: list[Activity]
    partners: list[Partner]
    governing_bodies: list[GoverningBody]
    budget: Budget | None
    verified_eur: Decimal
    declared_eur: Decimal

    @property
    def elapsed_percent(self) -> int:
        return round(100 * self.elapsed_months / self.project.duration_months)

    @property
    def verified_percent(self) -> Decimal | None:
        if not self.budget:
            return None
        return (100 * self.verified_eur / self.budget.total_eligible_cost).quantize(Decimal("0.1"))


def project_overview(*, project: Project, today: datetime.date | None = None) -> ProjectOverview:
    """Gather the project at a glance: plan and progress, partners, budget and EU share."""
    today = today or timezone.localdate()
    budget = budget_current(project=project)
    activities = activity_list_with_schedule(project=project, today=today)
    partners = list(partner_list_with_money(project=project, budget=budget))
    return ProjectOverview(
        project=project,
        today=today,
        elapsed_months=project.elapsed_months(today),
        activities=activities,
        partners=partners,
        governing_bodies=list(governing_body_list(project=project)),
        budget=budget,
        verified_eur=sum((p.verified_eur for p in partners), Decimal("0.00")),
        declared_eur=sum((p.declared_eur for p in partners), Decimal("0.00")),
    )


def reporting_periods_upcoming(*, project: Project, today: datetime.date, limit: int = 2) -> list[ReportingPeriod]:
    """Return the next SAL due dates, the current period first."""
    return list(ReportingPeriod.objects.filter(project=project, due_date__gte=today).order_by("due_date")[:limit])


def dashboard_partner(*, user, project: Project, partner: Partner, today: datetime.date) -> dict:
    """What partner staff need: their actions, drafts, returned entries and the next due dates."""
    mine = progress_entry_list(user=user, project=project, partner=partner)
    elapsed = project.elapsed_months(today)
    actions = list(recordable_actions(partner=partner))
    for action in actions:
        action.late = is_late(action.progress or 0, action.start_month, action.end_month, elapsed)
    return {
        "partner": partner,
        "actions": actions,
        "drafts": list(mine.filter(status=ProgressEntry.Status.DRAFT)[:10]),
        "returned": list(mine.filter(status=ProgressEntry.Status.RETURNED)[:10]),
        "submitted": list(mine.filter(status=ProgressEntry.Status.SUBMITTED)[:10]),
        "periods": reporting_periods_upcoming(project=project, today=today),
    }


def dashboard_director(*, user, project: Project, today: datetime.date) -> dict:
    """What directors need: the review queue, activities against time, and the latest changes."""
    entries = progress_entry_list(user=user, project=project)
    queue = entries.filter(status=ProgressEntry.Status.SUBMITTED).order_by("updated_at", "id")
    activities = activity_list_with_schedule(project=project, today=today)
    return {
        "queue": list(queue[:10]),
        "queue_count": queue.count(),
        "activities": activities,
        "late_count": sum(1 for activity in activities if activity.late),
        "recent": list(entries.exclude(status=ProgressEntry.Status.DRAFT).order_by("-updated_at", "-id")[:10]),
        "periods": reporting_periods_upcoming(project=project, today=today),
    }
