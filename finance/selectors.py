"""Reads on money: budgets, expenditure aggregates and the EU rule checks, computed in the database."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from activities.models import Activity
from partners.models import Partner, Project, add_months

from .models import Budget, BudgetLine, CostCategory, EUPayment, Expenditure, Receipt

MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
DECLARED_STATUSES = (Expenditure.Status.SUBMITTED, Expenditure.Status.VERIFIED)
# A further pre-financing tranche needs this share of the previous one used on the EU share.
TRANCHE_USE_THRESHOLD = Decimal("0.70")
PRE_FINANCING_CAP = Decimal("0.90")


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

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.verified

    @property
    def verified_percent(self) -> Decimal | None:
        if not self.budget:
            return None
        return (100 * self.verified / self.budget).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


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
    period_start: datetime.date | None = None,
) -> list[MoneyRow]:
    """Group budget lines and expenses by heading, partner or activity: three queries, whatever the rows.

    With `period_start`, also the verified costs incurred since that day.
    """
    column, model, label, order = DIMENSIONS[dimension]
    budgets = dict(lines.order_by().values_list(column).annotate(total=Sum("amount")))
    verified = Q(status=Expenditure.Status.VERIFIED)
    in_period = (
        Sum("amount_eur", filter=verified & Q(date_incurred__gte=period_start))
        if period_start
        else Value(ZERO, output_field=MONEY)
    )
    nothing = (ZERO, ZERO, ZERO)
    spent = {
        key: (declared or ZERO, verified or ZERO, in_period or ZERO)
        for key, declared, verified, in_period in expenses.order_by()
        .values_list(column)
        .annotate(
            declared=Sum("amount_eur", filter=Q(status__in=DECLARED_STATUSES)),
            verified=Sum("amount_eur", filter=verified),
            in_period=in_period,
        )
    }
    keys = set(budgets) | set(spent)
    objects = model.objects.filter(pk__in=[k for k in keys if k is not None])
    if model is Partner:
        objects = objects.select_related("organisation")

    def row(obj, pk, label_text, kind=""):
        declared, verified, in_period = spent.get(pk, nothing)
        return MoneyRow(
            key=obj,
            label=label_text,
            budget=budgets.get(pk, ZERO),
            declared=declared,
            verified=verified,
            kind=kind,
            verified_in_period=in_period,
        )

    rows = [row(obj, obj.pk, label(obj), getattr(obj, "kind", "")) for obj in sorted(objects, key=order)]
    if None in keys:
        rows.append(row(None, None, _("Not assigned")))
    return rows


@dataclass(frozen=True)
class RuleCheck:
    title: str
    ok: bool
    figures: str
    verdict: str


def _percent(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "–"
    share = (100 * part / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{number_format(share, decimal_pos=2, use_l10n=True)} %"


def _rate(rate: Decimal) -> str:
    """Write a rate such as 0.0700 as a plain percentage number: 7."""
    return f"{(rate * 100).normalize():f}"


def _money(amount: Decimal) -> str:
    """Write an amount in EUR as the active language writes numbers: 1,234.56 in English, 1.234,56 in Italian."""
    return "EUR " + number_format(amount.quantize(CENT), decimal_pos=2, use_l10n=True, force_grouping=True)


def eligible_verified(headings: list[MoneyRow], budget: Budget) -> Decimal:
    """Verified costs the EU may pay on: direct costs, and indirect ones up to their cap."""
    direct = sum((h.verified for h in headings if h.kind != CostCategory.Kind.INDIRECT), ZERO)
    indirect = sum((h.verified for h in headings if h.kind == CostCategory.Kind.INDIRECT), ZERO)
    return direct + min(indirect, (direct * budget.indirect_cap).quantize(CENT, rounding=ROUND_HALF_UP))


def eu_share_due(headings: list[MoneyRow], budget: Budget) -> Decimal:
    """The EU pays its rate of verified eligible costs, never more than its contribution."""
    share = (eligible_verified(headings, budget) * budget.eu_max_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(share, budget.eu_contribution)


def rule_checks(*, budget: Budget, headings: list[MoneyRow]) -> list[RuleCheck]:
    """Check the EU rules on the current budget and on the verified costs."""
    checks = []
    direct_kinds = (CostCategory.Kind.DIRECT,)

    def total(rows, attribute, kinds):
        return sum((getattr(r, attribute) for r in rows if r.kind in kinds), ZERO)

    for attribute, title in (("budget", _("Indirect costs in the budget")), ("verified", _("Indirect costs verified"))):
        direct = total(headings, attribute, direct_kinds)
        indirect = total(headings, attribute, (CostCategory.Kind.INDIRECT,))
        cap = direct * budget.indirect_cap
        checks.append(
            RuleCheck(
                title=title,
                ok=indirect <= cap,
                figures=_("%(indirect)s = %(percent)s of direct costs %(direct)s; at most %(cap)s %%")
                % {
                    "indirect": _money(indirect),
                    "percent": _percent(indirect, direct),
                    "direct": _money(direct),
                    "cap": _rate(budget.indirect_cap),
                },
                verdict=_("within the cap") if indirect <= cap else _("over the cap"),
            )
        )
    direct_budget = total(headings, "budget", direct_kinds)
    contingency = total(headings, "budget", (CostCategory.Kind.CONTINGENCY,))
    checks.append(
        RuleCheck(
            title=_("Contingency reserve"),
            ok=contingency <= direct_budget * budget.contingency_cap,
            figures=_("%(amount)s = %(percent)s of direct costs; at most %(cap)s %%")
            % {
                "amount": _money(contingency),
                "percent": _percent(contingency, direct_budget),
                "cap": _rate(budget.contingency_cap),
            },
            verdict=_("within the cap") if contingency <= direct_budget * budget.contingency_cap else _("over the cap"),
        )
    )
    co_financing_ok = budget.eu_contribution <= budget.total_eligible_cost * budget.eu_max_rate
    checks.append(
        RuleCheck(
            title=_("Co-financing rate"),
            ok=co_financing_ok,
            figures=_("EU %(eu)s = %(percent)s of %(total)s; at most %(rate)s %%; partners' co-financing %(co)s")
            % {
                "eu": _money(budget.eu_contribution),
                "percent": _percent(budget.eu_contribution, budget.total_eligible_cost),
                "total": _money(budget.total_eligible_cost),
                "rate": _rate(budget.eu_max_rate),
                "co": _money(budget.co_financing),
            },
            verdict=_("respected") if co_financing_ok else _("exceeded"),
        )
    )
    lines_total = sum((h.budget for h in headings), ZERO)
    checks.append(
        RuleCheck(
            title=_("Budget lines add up to the total"),
            ok=lines_total == budget.total_eligible_cost,
            figures=_("lines %(lines)s, total eligible cost %(total)s")
            % {"lines": _money(lines_total), "total": _money(budget.total_eligible_cost)},
            verdict=_("consistent") if lines_total == budget.total_eligible_cost else _("to be corrected"),
        )
    )
    for heading in headings:
        if heading.key is None:
            continue
        allowed = heading.budget * (1 + budget.flexibility_threshold)
        ok = heading.verified <= allowed
        checks.append(
            RuleCheck(
                title=_("Heading %(heading)s") % {"heading": heading.label},
                ok=ok,
                figures=_("verified %(verified)s of %(budget)s (%(percent)s); flexibility %(threshold)s %%")
                % {
                    "verified": _money(heading.verified),
                    "budget": _money(heading.budget),
                    "percent": _percent(heading.verified, heading.budget),
                    "threshold": _rate(budget.flexibility_threshold),
                },
                verdict=_("within the flexibility") if ok else _("amendment needed"),
            )
        )
    return checks


@dataclass(frozen=True)
class PreFinancing:
    payments: list[EUPayment]
    received: Decimal
    cap: Decimal
    used: Decimal
    needed_for_next: Decimal | None

    @property
    def room(self) -> Decimal:
        return max(self.cap - self.received, ZERO)

    @property
    def next_tranche_possible(self) -> bool:
        return self.room > 0 and (self.needed_for_next is None or self.used >= self.needed_for_next)


def pre_financing(*, project: Project, budget: Budget, used: Decimal) -> PreFinancing:
    """Say whether a further tranche may be requested: >= 70 % of the last one and all earlier ones used."""
    payments = list(EUPayment.objects.filter(project=project).order_by("number"))
    tranches = [p.amount for p in payments if p.kind == EUPayment.Kind.PRE_FINANCING]
    needed = None
    if tranches:
        needed = (sum(tranches[:-1], ZERO) + tranches[-1] * TRANCHE_USE_THRESHOLD).quantize(CENT)
    return PreFinancing(
        payments=payments,
        received=sum(tranches, ZERO),
        cap=(budget.eu_contribution * PRE_FINANCING_CAP).quantize(CENT),
        used=used,
        needed_for_next=needed,
    )


@dataclass(frozen=True)
class AbsorptionChart:
    """Cumulative verified EUR by project month against a straight-line plan, laid out for SVG."""

    points: str
    plan_points: str
    width: int
    height: int
    top_label: str
    months: int
    today_x: float | None


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


def absorption_layout(*, months: int, total: Decimal, monthly: list[Decimal]) -> AbsorptionChart:
    """Lay out cumulative `monthly` verified EUR against spending `total` evenly over `months`."""
    width, height, left, bottom = 600, 200, 40, 20
    scale_x = (width - left - 10) / months
    scale_y = (height - bottom - 10) / float(total)
    points, cumulative = [f"{left},{height - bottom}"], ZERO
    for index, amount in enumerate(monthly):
        cumulative += amount
        points.append(f"{left + (index + 1) * scale_x:.1f},{height - bottom - float(cumulative) * scale_y:.1f}")
    return AbsorptionChart(
        points=" ".join(points),
        plan_points=f"{left},{height - bottom} {width - 10},10",
        width=width,
        height=height,
        top_label=_money(total),
        months=months,
        today_x=left + len(monthly) * scale_x if 0 < len(monthly) < months else None,
    )


def absorption_chart(*, project: Project, budget: Budget, expenses: QuerySet[Expenditure], today: datetime.date):
    months = min(project.elapsed_months(today), project.duration_months)
    return absorption_layout(
        months=project.duration_months,
        total=budget.total_eligible_cost,
        monthly=verified_by_month(project=project, expenses=expenses, months=months),
    )


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


def cost_category_list() -> QuerySet[CostCategory]:
    return CostCategory.objects.all()
