"""Reads that bring the apps together: the project at a glance, the dashboards and the SAL figures."""

import dataclasses
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from activities.charts import gantt_action, gantt_layout
from activities.models import Activity, ProgressEntry
from activities.rules import expected_progress, is_late
from activities.selectors import (
    actions_with_progress,
    activity_list_with_schedule,
    activity_progress,
    indicators_with_achieved,
    progress_entry_list,
    progress_entry_review_queue,
    recordable_actions,
)
from core.formatters import ZERO, money_json, percent_of
from finance.charts import absorption_layout
from finance.models import Budget, BudgetLine, Expenditure
from finance.rules import eu_share_due, rule_checks
from finance.selectors import (
    MoneyRow,
    budget_current,
    expenditure_list,
    expenditure_verification_queue,
    money_by,
    partner_list_with_money,
    verified_by_month,
)
from partners.models import GoverningBody, Partner, Project
from partners.selectors import governing_body_list

from .models import ProgressReport, ReportingPeriod

# Bumped when the snapshot's shape changes, so that old frozen SALs can still be read.
# 2: money rows add `verified_earlier_periods`, and the period's figures are the expenses it reports.
SNAPSHOT_SCHEMA = 2


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
        return percent_of(self.verified_eur, self.budget.total_eligible_cost) if self.budget else None


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


def _with_approved_report(periods: QuerySet[ReportingPeriod]) -> QuerySet[ReportingPeriod]:
    approved = ProgressReport.objects.filter(period=OuterRef("pk"), status=ProgressReport.Status.APPROVED)
    return periods.annotate(has_approved=Exists(approved))


def reporting_periods_overdue(*, project: Project, today: datetime.date) -> list[ReportingPeriod]:
    """Return the periods whose SAL is overdue: the due date has passed and no version is approved. One query."""
    periods = ReportingPeriod.objects.filter(project=project, due_date__lt=today)
    return list(_with_approved_report(periods).filter(has_approved=False).order_by("number"))


def money_at_a_glance(*, project: Project) -> dict | None:
    """Return the project's budget, declared and verified EUR and the EU share due, or None without a budget."""
    budget = budget_current(project=project)
    if budget is None:
        return None
    headings = money_by(
        "category",
        lines=BudgetLine.objects.filter(budget=budget),
        expenses=Expenditure.objects.for_project(project),
    )
    return {
        "budget": budget.total_eligible_cost,
        "declared": sum((h.declared for h in headings), ZERO),
        "verified": sum((h.verified for h in headings), ZERO),
        "eu_share_due": eu_share_due(headings, budget),
    }


def dashboard_partner(*, user, project: Project, partner: Partner, today: datetime.date) -> dict:
    """What partner staff need: their actions, entries and expenses to fix or finish, overdue SALs, due dates."""
    mine = progress_entry_list(user=user, project=project, partner=partner)
    elapsed = project.elapsed_months(today)
    actions = list(recordable_actions(partner=partner))
    for action in actions:
        action.late = is_late(action.progress or 0, action.start_month, action.end_month, elapsed)
    expenses = expenditure_list(user=user, project=project, partner=partner)
    return {
        "partner": partner,
        "actions": actions,
        "drafts": list(mine.filter(status=ProgressEntry.Status.DRAFT)[:10]),
        "returned": list(mine.filter(status=ProgressEntry.Status.RETURNED)[:10]),
        "submitted": list(mine.filter(status=ProgressEntry.Status.SUBMITTED)[:10]),
        "expenses_returned": list(expenses.filter(status=Expenditure.Status.RETURNED)[:10]),
        "expenses_draft": list(expenses.filter(status=Expenditure.Status.DRAFT)[:10]),
        "periods": reporting_periods_upcoming(project=project, today=today),
        "overdue": reporting_periods_overdue(project=project, today=today),
    }


def dashboard_director(*, user, project: Project, today: datetime.date) -> dict:
    """What directors need: the review and verification queues, the money, activities against time, what changed."""
    entries = progress_entry_list(user=user, project=project)
    queue = progress_entry_review_queue(user=user, project=project)
    verification = expenditure_verification_queue(user=user, project=project)
    activities = activity_list_with_schedule(project=project, today=today)
    return {
        "queue": list(queue[:10]),
        "queue_count": queue.count(),
        "verification": list(verification[:10]),
        "verification_count": verification.count(),
        "money": money_at_a_glance(project=project),
        "overdue": reporting_periods_overdue(project=project, today=today),
        "activities": activities,
        "late_count": sum(1 for activity in activities if activity.late),
        "recent": list(entries.exclude(status=ProgressEntry.Status.DRAFT).order_by("-updated_at", "-id")[:10]),
        "periods": reporting_periods_upcoming(project=project, today=today),
    }


def reporting_period_list_with_reports(*, user, project: Project, today: datetime.date) -> list[ReportingPeriod]:
    """Return the project's periods, each with `versions`: the SAL versions the user may see, newest first.

    Each also tells whether it has `ended` by `today`, and whether its SAL is `overdue`: due before today and
    with no approved version.
    """
    reports = ProgressReport.objects.visible_to(user).defer("snapshot", "summary").order_by("-version")
    periods = list(
        _with_approved_report(ReportingPeriod.objects.filter(project=project))
        .prefetch_related(Prefetch("reports", queryset=reports, to_attr="versions"))
        .order_by("number")
    )
    for period in periods:
        period.ended = period.has_ended(today)
        period.overdue = period.due_date < today and not period.has_approved
    return periods


def reporting_period_get(*, project: Project, number: int) -> ReportingPeriod:
    return get_object_or_404(ReportingPeriod, project=project, number=number)


def progress_report_get(*, user, pk: int) -> ProgressReport:
    """Return the SAL, or 404 when the user may not see it."""
    return get_object_or_404(
        ProgressReport.objects.visible_to(user).select_related("period__project", "created_by", "approved_by"),
        pk=pk,
    )


def progress_report_find_by_hash(*, user, sha256: str) -> QuerySet[ProgressReport]:
    """Return the approved SALs of the user's projects whose PDF has this SHA-256 (lower-case hex)."""
    return ProgressReport.objects.filter(
        period__project__in=Project.objects.visible_to(user),
        status=ProgressReport.Status.APPROVED,
        pdf_sha256=sha256,
    ).select_related("period__project", "approved_by")


def _percent_str(part: Decimal, whole: Decimal) -> str | None:
    share = percent_of(part, whole)
    return str(share) if share is not None else None


def _money_rows(rows: list[MoneyRow]) -> list[dict]:
    return [
        {
            "label": row.label,
            "budget": money_json(row.budget),
            "verified_in_period": money_json(row.verified_in_period),
            "verified_earlier_periods": money_json(row.verified_earlier_periods),
            "verified": money_json(row.verified),
            "percent": _percent_str(row.verified, row.budget),
        }
        for row in rows
    ]


def _sal_activities(project: Project, period: ReportingPeriod, elapsed: int) -> list[dict]:
    """Each activity with its actions and indicators as of the period end, and the period's highlights."""
    activities = (
        Activity.objects.filter(project=project)
        .select_related("leader__organisation")
        .prefetch_related(Prefetch("actions", queryset=actions_with_progress(until=period.end)))
        .order_by("number")
    )
    indicators = defaultdict(list)
    for indicator in indicators_with_achieved(until=period.end).filter(activity__project=project).order_by("pk"):
        indicators[indicator.activity_id].append(
            {
                "name": indicator.name,
                "unit": indicator.unit,
                "target": money_json(indicator.target),
                "achieved": money_json(Decimal(indicator.achieved)) if indicator.achieved is not None else None,
                "percent": _percent_str(indicator.achieved, indicator.target)
                if indicator.achieved is not None
                else None,
            }
        )
    highlights = defaultdict(list)
    approved_in_period = (
        ProgressEntry.objects.for_project(project)
        .filter(status=ProgressEntry.Status.APPROVED, date__range=(period.start, period.end))
        .exclude(narrative="")
        .select_related("action__activity", "partner__organisation")
        .order_by("action__number", "date", "id")
    )
    for entry in approved_in_period:
        highlights[entry.action.activity_id].append(
            {
                "date": entry.date.isoformat(),
                "action": entry.action.code,
                "partner": str(entry.partner),
                "percent": entry.percent_complete,
                "narrative": entry.narrative,
            }
        )
    result = []
    for activity in activities:
        progress = activity_progress(activity)
        actions = []
        for action in activity.actions.all():
            row = gantt_action(action, project=project, elapsed=elapsed)
            row["responsible"] = str(action.responsible) if action.responsible else ""
            row["expected"] = expected_progress(action.start_month, action.end_month, elapsed)
            actions.append(row)
        result.append(
            {
                "number": activity.number,
                "kind": activity.get_kind_display(),
                "title": activity.title,
                "leader": str(activity.leader) if activity.leader else "",
                "start_month": activity.start_month,
                "end_month": activity.end_month,
                "progress": progress,
                "expected": expected_progress(activity.start_month, activity.end_month, elapsed),
                "late": is_late(progress, activity.start_month, activity.end_month, elapsed),
                "actions": actions,
                "indicators": indicators[activity.pk],
                "highlights": highlights[activity.pk],
            }
        )
    return result


def sal_expenses_in_period(period: ReportingPeriod) -> Q:
    """Select the expenses a SAL of `period` reports: incurred by its end and not reported by another period's SAL.

    Rows are written only when a SAL is approved, so for a draft this is every verified expense not yet reported
    (up to now, as the draft is approved later), and for a correcting version also what its period already reported.
    """
    return Q(date_incurred__lte=period.end) & (Q(reported__isnull=True) | Q(reported__report__period=period))


def _sal_expenses(project: Project, period: ReportingPeriod) -> tuple[QuerySet[Expenditure], Q]:
    """Return the verified expenses up to the SAL (those reported by earlier periods and its own) and its own."""
    in_period = sal_expenses_in_period(period)
    earlier = Q(reported__report__period__number__lt=period.number)
    return Expenditure.objects.for_project(project).verified().filter(earlier | in_period), in_period


def _sal_finance(project: Project, period: ReportingPeriod, elapsed: int) -> dict | None:
    """Verified costs the SAL reports and up to it against the current budget, the EU share and the checks.

    Each verified expense is reported once, by one SAL; so SAL 1..n's period figures add up to SAL n's cumulative.
    """
    budget = budget_current(project=project)
    if budget is None:
        return None
    lines = BudgetLine.objects.filter(budget=budget)
    expenses, in_period = _sal_expenses(project, period)
    headings = money_by("category", lines=lines, expenses=expenses, in_period=in_period, period_start=period.start)
    partners = money_by("partner", lines=lines, expenses=expenses, in_period=in_period, period_start=period.start)
    totals = MoneyRow(
        key=None,
        label=_("Total"),
        budget=sum((h.budget for h in headings), ZERO),
        verified=sum((h.verified for h in headings), ZERO),
        verified_in_period=sum((h.verified_in_period for h in headings), ZERO),
        verified_earlier_periods=sum((h.verified_earlier_periods for h in headings), ZERO),
    )
    due = eu_share_due(headings, budget)
    before = [dataclasses.replace(h, verified=h.verified - h.verified_in_period) for h in headings]
    return {
        "budget_version": budget.version,
        "total_eligible_cost": money_json(budget.total_eligible_cost),
        "eu_contribution": money_json(budget.eu_contribution),
        "eu_rate_percent": _percent_str(budget.eu_max_rate, Decimal(1)),
        "headings": _money_rows(headings),
        "partners": _money_rows(partners),
        "totals": _money_rows([totals])[0],
        "eu_share_due": money_json(due),
        "eu_share_in_period": money_json(due - eu_share_due(before, budget)),
        "checks": [dataclasses.asdict(check) for check in rule_checks(budget=budget, headings=headings)],
        "verified_by_month": [
            money_json(amount) for amount in verified_by_month(project=project, expenses=expenses, months=elapsed)
        ],
    }


def _sal_pending(project: Project, period: ReportingPeriod) -> dict:
    """What partners have put forward up to the period end and the directors have not yet accepted."""
    status = ProgressEntry.Status
    entries = (
        ProgressEntry.objects.for_project(project)
        .filter(date__lte=period.end)
        .aggregate(
            submitted=Count("pk", filter=Q(status=status.SUBMITTED)),
            returned=Count("pk", filter=Q(status=status.RETURNED)),
            drafts=Count("pk", filter=Q(status=status.DRAFT)),
        )
    )
    money = Expenditure.Status
    expenses = (
        Expenditure.objects.for_project(project)
        .filter(date_incurred__lte=period.end)
        .aggregate(
            submitted=Count("pk", filter=Q(status=money.SUBMITTED)),
            submitted_eur=Sum("amount_eur", filter=Q(status=money.SUBMITTED)),
            returned=Count("pk", filter=Q(status=money.RETURNED)),
            returned_eur=Sum("amount_eur", filter=Q(status=money.RETURNED)),
            drafts=Count("pk", filter=Q(status=money.DRAFT)),
        )
    )
    return {
        "entries_submitted": entries["submitted"],
        "entries_returned": entries["returned"],
        "entries_draft": entries["drafts"],
        "expenses_submitted": expenses["submitted"],
        "expenses_submitted_eur": money_json(expenses["submitted_eur"] or ZERO),
        "expenses_returned": expenses["returned"],
        "expenses_returned_eur": money_json(expenses["returned_eur"] or ZERO),
        "expenses_draft": expenses["drafts"],
    }


def progress_report_figures(report: ProgressReport) -> dict:
    """Gather every figure of the SAL from approved and verified data, as JSON-ready data in its language.

    The same data is frozen on approval and read back for the preview, the PDF and the XLSX.
    """
    period = report.period
    project = period.project
    elapsed = project.elapsed_months(period.end)
    with translation.override(report.language):
        return {
            "schema": SNAPSHOT_SCHEMA,
            "generated_at": timezone.now().isoformat(),
            "language": report.language,
            "version": report.version,
            "summary": report.summary,
            "project": {
                "code": project.code,
                "title": project.title,
                "programme": project.programme,
                "start": project.start_date.isoformat(),
                "end": project.end_date.isoformat(),
                "duration_months": project.duration_months,
                "lead_partner": str(Partner.objects.for_project(project).filter(role=Partner.Role.LEAD).first() or ""),
            },
            "period": {
                "number": period.number,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "due_date": period.due_date.isoformat(),
                "first_month": project.month_of(period.start),
                "last_month": elapsed,
            },
            "activities": _sal_activities(project, period, elapsed),
            "finance": _sal_finance(project, period, elapsed),
            "pending": _sal_pending(project, period),
        }


def progress_report_document(report: ProgressReport) -> dict:
    """Return what the preview, the PDF and the XLSX show: the frozen figures once approved, else live ones.

    Charts are laid out from the figures, so the frozen SAL draws the same charts forever.
    """
    figures = report.snapshot if report.is_frozen else progress_report_figures(report)
    elapsed = figures["period"]["last_month"]
    months = figures["project"]["duration_months"]
    end_day = datetime.date.fromisoformat(figures["period"]["end"]).day
    marker = end_day / 31
    activities = [
        (activity, gantt_layout(months=months, elapsed=elapsed, marker_fraction=marker, actions=activity["actions"]))
        for activity in figures["activities"]
    ]
    finance = figures["finance"]
    absorption = None
    if finance:
        absorption = absorption_layout(
            months=months,
            total=Decimal(finance["total_eligible_cost"]),
            monthly=[Decimal(amount) for amount in finance["verified_by_month"]],
        )
    return {"figures": figures, "activities": activities, "absorption": absorption}
