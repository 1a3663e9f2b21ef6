"""Reads that bring the apps together: the project at a glance and, later, the SAL figures."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from activities.models import Activity
from activities.selectors import activity_list_with_progress, activity_progress
from finance.models import Budget
from finance.selectors import budget_current, partner_list_with_money
from partners.models import GoverningBody, Partner, Project
from partners.selectors import governing_body_list


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
    activities = list(activity_list_with_progress(project=project))
    for activity in activities:
        activity.progress = activity_progress(activity)
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
