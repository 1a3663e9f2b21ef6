"""Reads on money: budgets and expenditure aggregates, computed in the database."""

import dataclasses
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from activities.models import Activity
from core.formatters import ZERO
from partners.models import Partner, Project, add_months

from .annex import DIRECT_ELIGIBLE_KINDS, MoneyRow, annex_lines, heading_total
from .charts import AbsorptionChart, absorption_layout
from .models import Budget, BudgetLine, ContingencyAuthorisation, CostCategory, EUPayment, Expenditure, Receipt
from .rules import PreFinancing, RuleCheck, eu_share_due, indirect_flat_rate, pre_financing_status, rule_checks

Kind = CostCategory.Kind

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
    """Return the budget by Annex III line, by partner and by activity; with `partner`, only that partner's lines."""
    lines = budget.lines.all() if partner is None else budget.lines.filter(partner=partner)
    expenses = Expenditure.objects.none()
    return {
        "headings": annex_lines(money_by("category", lines=lines, expenses=expenses)),
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


NOTHING = (ZERO, ZERO, ZERO, ZERO)
SPENT_FIELDS = ("declared", "verified", "verified_in_period", "verified_earlier_periods")


def _spent(
    expenses: QuerySet[Expenditure], column: str, in_period: Q | None, period_start: datetime.date | None
) -> dict:
    """Sum declared and verified EUR by `column`, and the verified in the period and of those incurred earlier."""
    verified = Q(status=Expenditure.Status.VERIFIED)
    none = Value(ZERO, output_field=MONEY)
    period = verified & in_period if in_period is not None else None
    return {
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


def indirect_by_partner(
    *,
    budget: Budget,
    lines: QuerySet[BudgetLine],
    expenses: QuerySet[Expenditure],
    in_period: Q | None = None,
    period_start: datetime.date | None = None,
) -> dict[int, MoneyRow]:
    """Each partner's indirect costs at the flat rate, keyed by partner id: two queries.

    The budget's indirect rate of the partner's direct eligible costs (lines 1-6 and 8), at most the partner's
    indirect budget lines: for the declared and the verified costs, and with `in_period` (see `money_by`) for the
    verified costs of the period as the difference the period's direct costs make to the flat rate.
    """
    ceilings = dict(
        lines.filter(category__kind=Kind.INDIRECT).order_by().values_list("partner_id").annotate(total=Sum("amount"))
    )
    base = _spent(expenses.filter(category__kind__in=DIRECT_ELIGIBLE_KINDS), "partner_id", in_period, period_start)
    rows = {}
    for partner_id in set(ceilings) | set(base):
        ceiling = ceilings.get(partner_id, ZERO)
        declared, verified, in_period_eur, earlier = base.get(partner_id, NOTHING)
        before = verified - in_period_eur

        def flat(direct, ceiling=ceiling):
            return indirect_flat_rate(direct, rate=budget.indirect_cap, ceiling=ceiling)

        rows[partner_id] = MoneyRow(
            key=partner_id,
            label="",
            kind=Kind.INDIRECT,
            budget=ceiling,
            declared=flat(declared),
            verified=flat(verified),
            verified_in_period=flat(verified) - flat(before),
            verified_earlier_periods=flat(before + earlier) - flat(before),
        )
    return rows


def money_by(
    dimension: str,
    *,
    lines: QuerySet[BudgetLine],
    expenses: QuerySet[Expenditure],
    in_period: Q | None = None,
    period_start: datetime.date | None = None,
    indirect: dict[int, MoneyRow] | None = None,
) -> list[MoneyRow]:
    """Group budget lines and expenses by heading, partner or activity: three queries, whatever the rows.

    With `in_period` (a filter on the expenses), also the verified costs it selects, and of those the ones
    incurred before `period_start`.
    By heading, every Annex III heading that holds money is listed, in line order, each with `line` its number.
    Indirect costs are never receipted: expenses on their heading are left out, and `indirect` (from
    `indirect_by_partner`) gives their flat rate, added to the indirect heading and to each partner; by activity
    the indirect budget and flat rate are a row of their own, as they belong to no activity.
    """
    column, model, label, order = DIMENSIONS[dimension]
    budgets = defaultdict(lambda: ZERO)
    indirect_budget = ZERO
    for key, kind, total in lines.order_by().values_list(column, "category__kind").annotate(total=Sum("amount")):
        if dimension == "activity" and kind == Kind.INDIRECT:
            indirect_budget += total
        else:
            budgets[key] += total
    spent = _spent(expenses.exclude(category__kind=Kind.INDIRECT), column, in_period, period_start)
    keys = set(budgets) | set(spent)
    if model is CostCategory:
        objects = CostCategory.objects.all()
    else:
        objects = model.objects.filter(pk__in=[k for k in keys if k is not None])
    if model is Partner:
        objects = objects.select_related("organisation")
    flat_rate = list((indirect or {}).values())

    def row(obj, pk, label_text, kind=""):
        declared, verified, in_period, earlier = spent.get(pk, NOTHING)
        money = MoneyRow(
            key=obj,
            label=label_text,
            budget=budgets.get(pk, ZERO),
            declared=declared,
            verified=verified,
            kind=kind,
            verified_in_period=in_period,
            verified_earlier_periods=earlier,
            line=getattr(obj, "code", None),
        )
        if dimension == "category" and kind == Kind.INDIRECT:
            money = _with_flat_rate(money, flat_rate)
        elif dimension == "partner" and pk in (indirect or {}):
            money = _with_flat_rate(money, [indirect[pk]])
        return money

    rows = [row(obj, obj.pk, label(obj), getattr(obj, "kind", "")) for obj in sorted(objects, key=order)]
    if None in keys:
        rows.append(row(None, None, _("Not assigned")))
    if dimension == "activity" and indirect_budget:
        rows.append(
            _with_flat_rate(
                MoneyRow(key=Kind.INDIRECT, label=_("Indirect costs (flat rate)"), budget=indirect_budget),
                flat_rate,
            )
        )
    return rows


def _with_flat_rate(row: MoneyRow, flat_rate: list[MoneyRow]) -> MoneyRow:
    """Add the flat-rate indirect costs `flat_rate` to the expenses of `row` (not to its budget, held by lines)."""
    added = {name: getattr(row, name) + sum((getattr(f, name) for f in flat_rate), ZERO) for name in SPENT_FIELDS}
    return dataclasses.replace(row, **added)


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
class ContingencyRow:
    partner: Partner
    authorised: Decimal
    committed: Decimal
    verified: Decimal

    @property
    def available(self) -> Decimal:
        return self.authorised - self.committed


def contingency_use(*, project: Project, partner: Partner | None) -> list[ContingencyRow]:
    """Each partner's contingency spending against its prior authorisations (of `partner` alone if given).

    Committed counts every expense on the contingency heading but the rejected ones, drafts too, as the expense
    service does.
    One query; only partners with an authorisation or such an expense are listed.
    """
    partners = Partner.objects.for_project(project).select_related("organisation")
    if partner is not None:
        partners = partners.filter(pk=partner.pk)
    contingency = Expenditure.objects.filter(category__kind=Kind.CONTINGENCY)
    authorised = (
        ContingencyAuthorisation.objects.filter(partner=OuterRef("pk"))
        .order_by()
        .values("partner")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    rows = partners.annotate(
        authorised=Coalesce(Subquery(authorised, output_field=MONEY), Value(ZERO), output_field=MONEY),
        committed=_sum_per_partner(contingency.exclude(status=Expenditure.Status.REJECTED), "amount_eur"),
        verified=_sum_per_partner(contingency.verified(), "amount_eur"),
    ).filter(Q(authorised__gt=0) | Q(committed__gt=0))
    return [ContingencyRow(p, p.authorised, p.committed, p.verified) for p in rows.order_by("organisation__name")]


@dataclass(frozen=True)
class FinanceOverview:
    budget: Budget
    partner: Partner | None
    # The rows of the headings that hold money (see `annex` for the Annex III table with its computed lines).
    headings: list[MoneyRow]
    partners: list[MoneyRow]
    activities: list[MoneyRow]
    totals: MoneyRow
    eu_share_due: Decimal
    checks: list[RuleCheck]
    pre_financing: PreFinancing | None
    absorption: AbsorptionChart
    contingency: list[ContingencyRow]

    @property
    def annex(self) -> list[MoneyRow]:
        """The headings in Annex III order with lines 7, 9 and 11 computed."""
        return annex_lines(self.headings)


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
    indirect = indirect_by_partner(budget=budget, lines=lines, expenses=expenses)
    headings = money_by("category", lines=lines, expenses=expenses, indirect=indirect)
    totals = heading_total(headings, _("Total"))
    due = eu_share_due(headings, budget)
    return FinanceOverview(
        budget=budget,
        partner=partner,
        headings=headings,
        partners=money_by("partner", lines=lines, expenses=expenses, indirect=indirect) if partner is None else [],
        activities=money_by("activity", lines=lines, expenses=expenses, indirect=indirect),
        totals=totals,
        eu_share_due=due,
        checks=rule_checks(budget=budget, headings=headings) if partner is None else [],
        pre_financing=pre_financing(project=project, budget=budget, used=due) if partner is None else None,
        absorption=absorption_chart(project=project, budget=budget, expenses=expenses, today=today),
        contingency=contingency_use(project=project, partner=partner),
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
