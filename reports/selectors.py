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

from activities.charts import Milestone, ProjectCalendar, gantt_action, gantt_layout, project_calendar
from activities.models import Activity, Indicator, ProgressEntry
from activities.rules import expected_progress, is_late
from activities.selectors import (
    actions_with_progress,
    activity_list_with_schedule,
    activity_progress,
    indicators_with_achievement,
    progress_entry_list,
    progress_entry_review_queue,
    recordable_actions,
)
from core.formatters import ZERO, money_json, months_text, percent_of
from core.validators import SAL_SUMMARY_MAX_CHARS
from finance.annex import MoneyRow, annex_lines, heading_total
from finance.charts import absorption_layout
from finance.models import Budget, BudgetLine, CostCategory, EUPayment, Expenditure
from finance.rules import eu_share_due, heading_variance, pre_financing_status, rule_checks
from finance.selectors import (
    PROCUREMENT_REPORTED_ABOVE,
    RateUsed,
    budget_current,
    budget_flexibility,
    exchange_rates_used,
    expenditure_list,
    expenditure_verification_queue,
    expense_sums,
    indirect_by_partner,
    money_by,
    money_with_flat_rate,
    partner_list_with_money,
    procurement_contracts_reported,
    verified_by_month,
)
from partners.models import GoverningBody, Partner, Project
from partners.selectors import governing_body_list

from .models import ContributionActivity, PartnerContribution, ProgressReport, ReportingPeriod, ReportSection

# Bumped when the snapshot's shape changes, so that old frozen SALs can still be read.
# 2: money rows add `verified_earlier_periods`, and the period's figures are the expenses it reports.
# 3: the project adds its contract number, region, partners by full name and the facts still assumed;
# `sections` holds the narrative chapters of the EU interim report; headings in Annex III order with the computed
# lines 7, 9, 11 (`subtotal`), indirect costs at their flat rate; the finance figures add `rates`, the exchange
# rates the period's expenses were converted at.
SNAPSHOT_SCHEMA = 3


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
    [headings] = money_with_flat_rate("category", budget=budget, expenses=Expenditure.objects.for_project(project))
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


def reporting_period_list(*, project: Project) -> QuerySet[ReportingPeriod]:
    return ReportingPeriod.objects.filter(project=project).order_by("number")


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
            "subtotal": row.is_subtotal,
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
    project_indicators = list(Indicator.objects.filter(activity__project=project).order_by("pk"))
    for indicator in indicators_with_achievement(project_indicators, until=period.end):
        indicators[indicator.activity_id].append(
            {
                "name": indicator.name,
                "unit": indicator.unit,
                "baseline": money_json(indicator.baseline),
                "target": money_json(indicator.target),
                "achieved": money_json(indicator.achieved) if indicator.achieved is not None else None,
                # From the baseline: (achieved - baseline) / (target - baseline).
                "percent": str(indicator.percent) if indicator.percent is not None else None,
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


def _rate_rows(rates: list[RateUsed]) -> list[dict]:
    return [
        {
            "currency": rate.currency,
            "method": str(Budget.RateMethod(rate.method).label),
            "months": months_text(rate.first_month, rate.last_month),
            "rate": str(rate.rate),
            "expenses": rate.expenses,
            "amount": money_json(rate.amount),
            "amount_eur": money_json(rate.amount_eur),
            "provisional": rate.provisional,
        }
        for rate in rates
    ]


def _sal_finance(project: Project, period: ReportingPeriod, elapsed: int, report: ProgressReport) -> dict | None:
    """Verified costs the SAL reports and up to it against the current budget, the EU share and the checks.

    Each verified expense is reported once, by one SAL; so SAL 1..n's period figures add up to SAL n's cumulative.
    """
    budget = budget_current(project=project)
    if budget is None:
        return None
    lines = BudgetLine.objects.filter(budget=budget)
    reported, in_period = _sal_expenses(project, period)
    # Summed once for the tables by heading and partner, the flat rate and the months.
    expenses = expense_sums(reported, in_period=in_period, period_start=period.start)
    indirect = indirect_by_partner(budget=budget, lines=lines, expenses=expenses)
    money = {"lines": lines, "expenses": expenses, "indirect": indirect}
    headings = money_by("category", **money)
    partners = money_by("partner", **money)
    totals = heading_total(headings, _("Total"))
    due = eu_share_due(headings, budget)
    rates = exchange_rates_used(expenses=reported.filter(in_period), budget=budget)
    before = [dataclasses.replace(h, verified=h.verified - h.verified_in_period) for h in headings]
    # The budget and the spending up to the SAL, projected from the period's end, against the contract.
    flexibility = budget_flexibility(project=project, budget=budget, today=period.end, headings=headings).comparisons
    return {
        "budget_version": budget.version,
        "total_eligible_cost": money_json(budget.total_eligible_cost),
        "eu_contribution": money_json(budget.eu_contribution),
        "eu_rate_percent": _percent_str(budget.eu_max_rate, Decimal(1)),
        "indirect_rate_percent": _percent_str(budget.indirect_cap, Decimal(1)),
        "headings": _money_rows(annex_lines(headings)),
        "partners": _money_rows(partners),
        "totals": _money_rows([totals])[0],
        "eu_share_due": money_json(due),
        "eu_share_in_period": money_json(due - eu_share_due(before, budget)),
        "checks": [
            dataclasses.asdict(check)
            for check in rule_checks(budget=budget, headings=headings, flexibility=flexibility)
        ],
        "rate_method": str(budget.get_rate_method_display()),
        "rates": _rate_rows(rates),
        "rates_provisional": any(rate.provisional for rate in rates),
        "verified_by_month": [
            money_json(amount) for amount in verified_by_month(project=project, expenses=expenses, months=elapsed)
        ],
        **_sal_financial_report(report, budget=budget, headings=headings, verified=totals.verified, eu_share=due),
    }


# The headings a variance is explained for: those partners spend on; indirect costs follow them at a flat rate.
VARIANCE_KINDS = (CostCategory.Kind.DIRECT, CostCategory.Kind.CONTINGENCY)


def _sal_financial_report(
    report: ProgressReport, *, budget: Budget, headings: list[MoneyRow], verified: Decimal, eu_share: Decimal
) -> dict:
    """The EU financial report's parts besides the tables: variances, sources of funding, contracts, forecast."""
    period, project = report.period, report.project
    elapsed = project.elapsed_months(period.end)
    explained = dict(report.variances.values_list("category_id", "explanation"))
    variances = []
    for row in headings:
        if row.key is None or row.kind not in VARIANCE_KINDS or getattr(row, "is_subtotal", False):
            continue
        variance = heading_variance(
            budget=row.budget,
            verified=row.verified,
            elapsed_months=elapsed,
            duration_months=project.duration_months,
            threshold=budget.flexibility_threshold,
        )
        variances.append(
            {
                "category": row.key.pk,
                "label": row.label,
                "budget": money_json(row.budget),
                "planned": money_json(variance.planned),
                "verified": money_json(row.verified),
                "deviation": money_json(variance.deviation),
                "percent": str(variance.percent) if variance.percent is not None else None,
                "required": variance.needs_explanation,
                "explanation": explained.get(row.key.pk, ""),
            }
        )
    payments = list(EUPayment.objects.filter(project=project, received_on__lte=period.end).order_by("number"))
    tranche = pre_financing_status(payments=payments, budget=budget, used=eu_share)
    own_funds = verified - eu_share
    funding = report.other_donors_eur + report.in_kind_eur
    contracts = procurement_contracts_reported(project=project, until=period.end)
    return {
        "variance_threshold_percent": _percent_str(budget.flexibility_threshold, Decimal(1)),
        "variances": variances,
        "sources": {
            "eu_pre_financing_received": money_json(tranche.received),
            "eu_share": money_json(eu_share),
            "own_funds": money_json(own_funds),
            "other_donors": money_json(report.other_donors_eur),
            "in_kind": money_json(report.in_kind_eur),
            "total": money_json(eu_share + own_funds + funding),
            "interest": money_json(report.interest_eur),
            "note": report.funding_note,
        },
        "contracts": [
            {
                "partner": contract.partner.organisation.name,
                "reference": contract.reference,
                "supplier": contract.supplier,
                "subject": contract.subject,
                "amount": money_json(contract.amount),
                "procedure": str(contract.get_procedure_display()),
                "signed_on": contract.signed_on.isoformat(),
                "expenses": len(contract.expenses.all()),
                "paid": money_json(sum((e.amount_eur for e in contract.expenses.all()), ZERO)),
            }
            for contract in contracts
        ],
        "contracts_above": money_json(PROCUREMENT_REPORTED_ABOVE),
        "forecast": {"amount": money_json(report.forecast_eur), "note": report.forecast_note},
        "payment_request": {
            "received": money_json(tranche.received),
            "needed": money_json(tranche.needed_for_next) if tranche.needed_for_next is not None else None,
            "used": money_json(tranche.used),
            "shortfall": money_json(tranche.shortfall),
            "requestable": money_json(tranche.requestable),
        },
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


def _sal_project_facts(project: Project) -> dict:
    """The cover's facts: contract, region, every partner by its full name, and what is still an assumption."""
    partners = Partner.objects.for_project(project).select_related("organisation").order_by("organisation__name")
    partners = sorted(partners, key=lambda partner: partner.role != Partner.Role.LEAD)
    assumed = []
    if not project.start_date_confirmed:
        assumed.append(_("the start date"))
    if not project.schedule_confirmed:
        assumed.append(_("the planned months of the activities and actions"))
    return {
        "contract_number": project.contract_number,
        "region": project.region,
        "partners": [
            {
                "name": partner.organisation.name,
                "country": partner.organisation.country,
                "role": partner.get_role_display(),
                "demo": partner.organisation.is_demo,
            }
            for partner in partners
        ],
        "assumed": assumed,
        "start_assumed": not project.start_date_confirmed,
        "schedule_assumed": not project.schedule_confirmed,
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
                **_sal_project_facts(project),
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
            "sections": _sal_sections(report),
            "finance": _sal_finance(project, period, elapsed, report),
            "pending": _sal_pending(project, period),
        }


# The action plan looks this many months past the period: the next period of a six-month cycle.
REPORTING_LOOKAHEAD_MONTHS = 6
SECTION_ORDER = {kind: index for index, kind in enumerate(ReportSection.Kind.values)}


def report_section_list(report: ProgressReport) -> list[ReportSection]:
    """Return the SAL's narrative sections in the order of the EU report, an activity's by its number."""
    sections = report.sections.select_related("activity", "edited_by")
    return sorted(sections, key=lambda s: (SECTION_ORDER[s.kind], s.activity.number if s.activity_id else 0))


def _sal_sections(report: ProgressReport) -> list[dict]:
    return [
        {
            "kind": section.kind,
            "title": str(section.get_kind_display()),
            "activity": section.activity.number if section.activity_id else None,
            "activity_title": section.activity.title if section.activity_id else "",
            "text": section.text,
        }
        for section in report_section_list(report)
    ]


def _fit_section(text: str) -> str:
    """Cut a compiled text to whole lines within a section's limit, saying how many lines were left out."""
    if len(text) <= SAL_SUMMARY_MAX_CHARS:
        return text
    lines = text.split("\n")
    kept, length = [], 0
    # Room for the closing remark, in any language.
    room = SAL_SUMMARY_MAX_CHARS - 300
    for line in lines:
        if length + len(line) + 1 > room:
            break
        kept.append(line)
        length += len(line) + 1
    left_out = sum(1 for line in lines[len(kept) :] if line.strip())
    remark = _("[%(count)d more lines are in the period's approved entries and accepted contributions.]") % {
        "count": left_out
    }
    return "\n".join(kept).rstrip() + "\n\n" + remark


def report_sections_compile(report: ProgressReport) -> dict[tuple[str, int | None], str]:
    """Draft each narrative section from the period's accepted contributions and approved data, in its language.

    Keyed by (kind, activity pk or None). Directors then edit what is compiled; chapters no data can speak
    for (sustainability, lessons learned) start empty.
    """
    period = report.period
    project = period.project
    elapsed = project.elapsed_months(period.end)
    kind = ReportSection.Kind
    with translation.override(report.language):
        activities = _sal_activities(project, period, elapsed)
        contributions = contributions_accepted_by_activity(period=period)
        pks = dict(Activity.objects.filter(project=project).values_list("number", "pk"))
        chapters = {key: [] for key in (kind.RESULTS, kind.PROBLEMS, kind.ACTION_PLAN, kind.VISIBILITY)}
        texts = {(key, None): "" for key in kind.values if key != kind.ACTIVITIES}
        partners = set()
        for activity in activities:
            pk = pks[activity["number"]]
            heading = _("Activity %(number)d – %(title)s") % activity
            done = []
            for part in contributions.get(pk, []):
                partner = str(part.contribution.partner)
                partners.add(partner)
                if part.done:
                    done.append(f"{partner}: {part.done}")
                for key, text in (
                    (kind.RESULTS, part.results),
                    (kind.PROBLEMS, part.problems),
                    (kind.ACTION_PLAN, part.next_period),
                    (kind.VISIBILITY, part.visibility),
                ):
                    if text:
                        chapters[key].append(f"{heading} – {partner}: {text}")
            for highlight in activity["highlights"]:
                partners.add(highlight["partner"])
                done.append(_("Action %(action)s (%(partner)s, %(percent)s %% on %(date)s): %(narrative)s") % highlight)
            texts[(kind.ACTIVITIES, pk)] = "\n\n".join(done)
            for indicator in activity["indicators"]:
                if indicator["achieved"] is not None:
                    chapters[kind.RESULTS].append(
                        _("%(heading)s – %(name)s: %(achieved)s of %(target)s %(unit)s")
                        % {"heading": heading, **indicator}
                    )
            if activity["late"]:
                chapters[kind.PROBLEMS].append(
                    _("%(heading)s: %(progress)s %% done, %(expected)s %% expected by now.")
                    % {"heading": heading, **activity}
                )
            for action in activity["actions"]:
                if action["start_month"] <= elapsed + REPORTING_LOOKAHEAD_MONTHS and action["end_month"] > elapsed:
                    chapters[kind.ACTION_PLAN].append(
                        _("Action %(code)s – %(title)s (months %(start_month)d–%(end_month)d)") % action
                    )
        for key, lines in chapters.items():
            texts[(key, None)] = "\n".join(lines)
        if partners:
            texts[(kind.PARTNERSHIP, None)] = _("Partners that reported progress in the period: %(partners)s.") % {
                "partners": ", ".join(sorted(partners))
            }
        return {key: _fit_section(text) for key, text in texts.items()}


def progress_report_document(report: ProgressReport) -> dict:
    """Return what the preview, the PDF and the XLSX show: the frozen figures once approved, else live ones.

    Charts are laid out from the figures, so the frozen SAL draws the same charts forever.
    """
    figures = report.snapshot if report.is_frozen else progress_report_figures(report)
    elapsed = figures["period"]["last_month"]
    months = figures["project"]["duration_months"]
    end_day = datetime.date.fromisoformat(figures["period"]["end"]).day
    marker = end_day / 31
    sections = figures.get("sections", [])
    written = {s["activity"]: s["text"] for s in sections if s["kind"] == ReportSection.Kind.ACTIVITIES}
    activities = [
        (
            {**activity, "section": written.get(activity["number"], "")},
            gantt_layout(months=months, elapsed=elapsed, marker_fraction=marker, actions=activity["actions"]),
        )
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
    # Before schema 3 a SAL had no narrative chapters: it prints as it was approved.
    chapters = [s for s in sections if s["kind"] != ReportSection.Kind.ACTIVITIES]
    return {
        "figures": figures,
        "activities": activities,
        "chapters": chapters,
        "has_chapters": "sections" in figures,
        "absorption": absorption,
    }


def project_schedule(*, project: Project, today: datetime.date) -> ProjectCalendar:
    """Lay out every activity and action of the project on its calendar, the SAL due dates as milestones."""
    periods = ReportingPeriod.objects.filter(project=project).order_by("number")
    return project_calendar(
        project=project,
        activities=activity_list_with_schedule(project=project, today=today),
        today=today,
        milestones=[
            Milestone(label=_("SAL %(number)s due") % {"number": period.number}, day=period.due_date)
            for period in periods
        ],
    )


def contribution_list(*, user, project: Project) -> QuerySet[PartnerContribution]:
    """Return the project's contributions the user may see, latest period first."""
    return (
        PartnerContribution.objects.visible_to(user)
        .filter(period__project=project)
        .select_related("period", "partner__organisation", "author", "reviewer")
        .order_by("-period__number", "partner__organisation__name")
    )


def contribution_get(*, user, pk: int) -> PartnerContribution:
    """Return the contribution with its activities, or 404 when the user may not see it."""
    return get_object_or_404(
        PartnerContribution.objects.visible_to(user)
        .select_related("period__project", "partner__organisation", "author", "reviewer")
        .prefetch_related(Prefetch("lines", queryset=ContributionActivity.objects.select_related("activity"))),
        pk=pk,
    )


def contributions_accepted_by_activity(*, period: ReportingPeriod) -> dict[int, list[ContributionActivity]]:
    """Return, per activity id, what each partner's accepted contribution of `period` says on it, for the SAL."""
    lines = (
        ContributionActivity.objects.filter(
            contribution__period=period, contribution__status=PartnerContribution.Status.APPROVED
        )
        .select_related("activity", "contribution__partner__organisation")
        .order_by("activity__number", "contribution__partner__organisation__name")
    )
    by_activity = defaultdict(list)
    for line in lines:
        by_activity[line.activity_id].append(line)
    return dict(by_activity)
