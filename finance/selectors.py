"""Reads on money: budgets and expenditure aggregates, computed in the database."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from activities.models import Activity
from core.formatters import ZERO, percent_of
from partners.models import Partner, Project, add_months

from .charts import AbsorptionChart, absorption_layout
from .models import Budget, BudgetLine, CostCategory, EUPayment, Expenditure, Receipt
from .rules import PreFinancing, RuleCheck, eu_share_due, pre_financing_status, rule_checks

MONEY = DecimalField(max_digits=14, decimal_places=2)
DECLARED_STATUSES = (Expenditure.Status.SUBMITTED, Expenditure.Status.VERIFIED)


def _sum_per_partner(queryset: QuerySet, field: str):
    """A subquery summing `field` of `queryset` for the outer partner; 0 when there are no rows."""
    total = (
        queryset.filter(partner=OuterRef("pk")).order_by().values("partner").annotate(total=Sum(field)).values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def budget_current(*, project: Project) -> Budget | None:
    return Budget.objects.filter(project=project, is_current=True).first()


def budget_list(*, project: Project) -> QuerySet[Budget]:
    return Budget.objects.filter(project=project).order_by("-version")


def budget_get(*, project: Project, version: int | None) -> Budget:
    """Return the budget `version` of the project, or the current one; 404 when there is none."""
    if version is None:
        return get_object_or_404(Budget, project=project, is_current=True)
    return get_object_or_404(Budget, project=project, version=version)


def budget_breakdown(*, budget: Budget, partner: Partner | None) -> dict:
    """Return the budget by heading, by partner and by activity; with `partner`, only that partner's lines."""
    lines = budget.lines.all() if partner is None else budget.lines.filter(partner=partner)
    expenses = Expenditure.objects.none()
    return {
        "headings": money_by("category", lines=lines, expenses=expenses),
        "partners": money_by("partner", lines=lines, expenses=expenses),
        "activities": money_by("activity", lines=lines, expenses=expenses),
    }


def partner_list_with_money(*, project: Project, budget: Budget | None) -> QuerySet[Partner]:
    """Return the project's partners with their budget, declared and verified amounts in EUR."""
    return (
        Partner.objects.for_project(project)
        .select_related("organisation")
        .annotate(
            budget_amount=_sum_per_partner(BudgetLine.objects.filter(budget=budget), "amount"),
            declared_eur=_sum_per_partner(Expenditure.objects.declared(), "amount_eur"),
            verified_eur=_sum_per_partner(Expenditure.objects.verified(), "amount_eur"),
        )
    )


@dataclass
class MoneyRow:
    """Budget, declared and verified EUR of one heading, partner or activity."""

    key: object
    label: str
    budget: Decimal = ZERO
    declared: Decimal = ZERO
    verified: Decimal = ZERO
    kind: str = ""
    verified_in_period: Decimal = ZERO
    # Of `verified_in_period`, what was incurred before the period began but verified or reported only now.
    verified_earlier_periods: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.verified

    @property
    def verified_percent(self) -> Decimal | None:
        return percent_of(self.verified, self.budget)


# column, model, label, order: headings by code, the lead partner first, activities by number.
DIMENSIONS = {
    "category": ("category_id", CostCategory, str, lambda c: c.code),
    "partner": ("partner_id", Partner, str, lambda p: (p.role != Partner.Role.LEAD, str(p))),
    "activity": (
        "activity_id",
        Activity,
        lambda a: _("Activity %(number)d") % {"number": a.number} + f" – {a.title}",
        lambda a: a.number,
    ),
}


def money_by(
    dimension: str,
    *,
    lines: QuerySet[BudgetLine],
    expenses: QuerySet[Expenditure],
    in_period: Q | None = None,
    period_start: datetime.date | None = None,
) -> list[MoneyRow]:
    """Group budget lines and expenses by heading, partner or activity: three queries, whatever the rows.

    With `in_period` (a filter on the expenses), also the verified costs it selects, and of those the ones
    incurred before `period_start`.
    """
    column, model, label, order = DIMENSIONS[dimension]
    budgets = dict(lines.order_by().values_list(column).annotate(total=Sum("amount")))
    verified = Q(status=Expenditure.Status.VERIFIED)
    none = Value(ZERO, output_field=MONEY)
    period = verified & in_period if in_period is not None else None
    nothing = (ZERO, ZERO, ZERO, ZERO)
    spent = {
        key: (declared or ZERO, verified or ZERO, in_period or ZERO, earlier or ZERO)
        for key, declared, verified, in_period, earlier in expenses.order_by()
        .values_list(column)
        .annotate(
            declared=Sum("amount_eur", filter=Q(status__in=DECLARED_STATUSES)),
            verified=Sum("amount_eur", filter=verified),
            in_period=Sum("amount_eur", filter=period) if period is not None else none,
            earlier=Sum("amount_eur", filter=period & Q(date_incurred__lt=period_start))
            if period is not None and period_start
            else none,
        )
    }
    keys = set(budgets) | set(spent)
    objects = model.objects.filter(pk__in=[k for k in keys if k is not None])
    if model is Partner:
        objects = objects.select_related("organisation")

    def row(obj, pk, label_text, kind=""):
        declared, verified, in_period, earlier = spent.get(pk, nothing)
        return MoneyRow(
            key=obj,
            label=label_text,
            budget=budgets.get(pk, ZERO),
            declared=declared,
            verified=verified,
            kind=kind,
            verified_in_period=in_period,
            verified_earlier_periods=earlier,
        )

    rows = [row(obj, obj.pk, label(obj), getattr(obj, "kind", "")) for obj in sorted(objects, key=order)]
    if None in keys:
        rows.append(row(None, None, _("Not assigned")))
    return rows


def verified_by_month(*, project: Project, expenses: QuerySet[Expenditure], months: int) -> list[Decimal]:
    """Return verified EUR per project month for the first `months` months, by month incurred: one query."""
    monthly = dict(
        expenses.verified()
        .order_by()
        .annotate(month=TruncMonth("date_incurred"))
        .values_list("month")
        .annotate(total=Sum("amount_eur"))
    )
    start = project.start_date.replace(day=1)
    return [monthly.get(add_months(start, index)) or ZERO for index in range(months)]


def absorption_chart(*, project: Project, budget: Budget, expenses: QuerySet[Expenditure], today: datetime.date):
    months = min(project.elapsed_months(today), project.duration_months)
    return absorption_layout(
        months=project.duration_months,
        total=budget.total_eligible_cost,
        monthly=verified_by_month(project=project, expenses=expenses, months=months),
    )


def pre_financing(*, project: Project, budget: Budget, used: Decimal) -> PreFinancing:
    """Return the project's EU payments and whether a further pre-financing tranche may be requested."""
    payments = list(EUPayment.objects.filter(project=project).order_by("number"))
    return pre_financing_status(payments=payments, budget=budget, used=used)


@dataclass(frozen=True)
class FinanceOverview:
    budget: Budget
    partner: Partner | None
    headings: list[MoneyRow]
    partners: list[MoneyRow]
    activities: list[MoneyRow]
    totals: MoneyRow
    eu_share_due: Decimal
    checks: list[RuleCheck]
    pre_financing: PreFinancing | None
    absorption: AbsorptionChart


def finance_overview(*, project: Project, partner: Partner | None, today: datetime.date) -> FinanceOverview | None:
    """Gather budget against declared and verified costs, the EU share and the rule checks.

    With `partner`, only that partner's lines and expenses, and no project-wide checks.
    """
    budget = budget_current(project=project)
    if budget is None:
        return None
    lines = BudgetLine.objects.filter(budget=budget)
    expenses = Expenditure.objects.for_project(project)
    if partner is not None:
        lines, expenses = lines.filter(partner=partner), expenses.filter(partner=partner)
    headings = money_by("category", lines=lines, expenses=expenses)
    totals = MoneyRow(
        key=None,
        label=_("Total"),
        budget=sum((h.budget for h in headings), ZERO),
        declared=sum((h.declared for h in headings), ZERO),
        verified=sum((h.verified for h in headings), ZERO),
    )
    due = eu_share_due(headings, budget)
    return FinanceOverview(
        budget=budget,
        partner=partner,
        headings=headings,
        partners=money_by("partner", lines=lines, expenses=expenses) if partner is None else [],
        activities=money_by("activity", lines=lines, expenses=expenses),
        totals=totals,
        eu_share_due=due,
        checks=rule_checks(budget=budget, headings=headings) if partner is None else [],
        pre_financing=pre_financing(project=project, budget=budget, used=due) if partner is None else None,
        absorption=absorption_chart(project=project, budget=budget, expenses=expenses, today=today),
    )


def expenditure_list(
    *,
    user,
    project: Project,
    status: str | None = None,
    partner: Partner | None = None,
    category: CostCategory | None = None,
) -> QuerySet[Expenditure]:
    """Return the project's expenses the user may see, newest first, ready to list."""
    expenses = (
        Expenditure.objects.visible_to(user)
        .for_project(project)
        .select_related("partner__organisation", "partner__project", "category", "activity", "author")
        .order_by("-date_incurred", "-id")
    )
    if status:
        expenses = expenses.filter(status=status)
    if partner:
        expenses = expenses.filter(partner=partner)
    if category:
        expenses = expenses.filter(category=category)
    return expenses


def expenditure_verification_queue(*, user, project: Project) -> QuerySet[Expenditure]:
    """Return the project's submitted expenses the user may see, oldest first: what the directors verify next."""
    return expenditure_list(user=user, project=project, status=Expenditure.Status.SUBMITTED).order_by(
        "updated_at", "id"
    )


def expenditure_statement_list(*, user, project: Project, partner: Partner | None) -> QuerySet[Expenditure]:
    """Return the declared expenses the user may see, of `partner` or all, by heading then date, for the statement."""
    expenses = expenditure_list(user=user, project=project, partner=partner).declared()
    return expenses.order_by("category__code", "date_incurred", "id")


def expenditure_get(*, user, pk: int) -> Expenditure:
    """Return the expense, or 404 when the user may not see it."""
    return get_object_or_404(
        Expenditure.objects.visible_to(user).select_related(
            "partner__organisation", "partner__project", "category", "activity", "author", "reviewer"
        ),
        pk=pk,
    )


def expenditure_deleted_by(*, user, pk: int) -> bool:
    """Tell whether `user` deleted the expense `pk` (its history keeps who did)."""
    return Expenditure.history.filter(id=pk, history_type="-", history_user=user).exists()


def receipt_get(*, user, pk: int) -> Receipt:
    """Return the receipt, or 404 when the user may not see its expense."""
    return get_object_or_404(Receipt.objects.visible_to(user).select_related("expenditure__partner__project"), pk=pk)


def receipt_list(*, expenditure: Expenditure) -> list[Receipt]:
    return list(expenditure.receipts.all())


def expenditure_detail(expenditure: Expenditure) -> dict:
    """Return what the expense page shows besides the expense: its receipts and its audit history."""
    history = expenditure.history.select_related("history_user").order_by("history_date", "history_id")
    return {"receipts": receipt_list(expenditure=expenditure), "history": list(history)}


def cost_category_list() -> QuerySet[CostCategory]:
    return CostCategory.objects.all()
