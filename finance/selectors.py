"""Reads on money: budgets and expenditure aggregates, computed in the database."""

import dataclasses
import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter, itemgetter

from django.db.models import Case, Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from activities.models import Action, Activity
from core.formatters import ZERO, cents
from core.validators import ISO_4217_CURRENCIES
from partners.models import Partner, Project, add_months
from partners.permissions import partner_of, user_can_direct
from partners.selectors import partner_list

from .annex import DIRECT_ELIGIBLE_KINDS, MoneyRow, annex_lines, heading_total
from .annex_xlsx import AnnexLine, annex_layout_lines
from .charts import AbsorptionChart, absorption_layout
from .models import (
    Budget,
    BudgetLine,
    ContingencyAuthorisation,
    CostCategory,
    EUPayment,
    ExchangeRate,
    Expenditure,
    MonthStart,
    ProcurementContract,
    Receipt,
    StaffMember,
    Timesheet,
    TimesheetRow,
    partners_whose_expenses_are_visible_to,
)
from .rules import (
    FlexibilityComparison,
    PreFinancing,
    RuleCheck,
    eu_share_due,
    heading_changes,
    indirect_flat_rate,
    pre_financing_status,
    projected_spending,
    rule_checks,
)

Kind = CostCategory.Kind

MONEY = DecimalField(max_digits=14, decimal_places=2)
DECLARED_STATUSES = (Expenditure.Status.SUBMITTED, Expenditure.Status.VERIFIED)


def budget_current(*, project: Project) -> Budget | None:
    return Budget.objects.filter(project=project, is_current=True).first()


def budget_list(*, project: Project) -> QuerySet[Budget]:
    return Budget.objects.filter(project=project).order_by("-version")


def budget_get(*, project: Project, version: int | None) -> Budget:
    """Return the budget `version` of the project, or the current one; 404 when there is none."""
    if version is None:
        return get_object_or_404(Budget, project=project, is_current=True)
    return get_object_or_404(Budget, project=project, version=version)


def budget_contract(*, project: Project) -> Budget | None:
    """Return the contract version: the project's first approved budget version, or else its first version."""
    first_approved = Case(When(approved_on__isnull=False, then=Value(0)), default=Value(1))
    return Budget.objects.filter(project=project).order_by(first_approved, "version").first()


def budget_of_project(*, project: Project, pk: int) -> Budget:
    """Return the project's budget version `pk`; 404 for another project's."""
    return get_object_or_404(Budget, project=project, pk=pk)


def budget_breakdown(*, budget: Budget, partner: Partner | None) -> dict:
    """Return the budget by Annex III line, by partner and by activity; with `partner`, only that partner's lines.

    Activities are left out when no budget is assigned to them.
    """
    lines = budget.lines.all() if partner is None else budget.lines.filter(partner=partner)
    expenses = Expenditure.objects.none()
    activities = money_by("activity", lines=lines, expenses=expenses)
    return {
        "headings": annex_lines(money_by("category", lines=lines, expenses=expenses)),
        "partners": money_by("partner", lines=lines, expenses=expenses),
        "activities": activities if has_activity_budget(activities) else [],
    }


@dataclass(frozen=True)
class ActivitySplit:
    """The part of a partner's heading budgeted for one activity: a row of the Annex's activity sheet."""

    line: AnnexLine
    partner: Partner
    activity_number: int
    activity_title: str
    amount: Decimal


@dataclass(frozen=True)
class BudgetAnnex:
    """A budget version in the Annex III layout: its lines by partner, and the amounts split by activity."""

    budget: Budget
    partner: Partner | None
    lines: list[AnnexLine]
    partners: list[Partner]
    amounts: dict[int, dict[int, Decimal]]  # partner id -> category id -> EUR, activities included
    activities: list[ActivitySplit]

    def row(self, line: AnnexLine) -> list[Decimal]:
        """Return the line's amount for each partner, in the columns' order."""
        return [line.amount(self.amounts.get(partner.pk, {})) for partner in self.partners]


def budget_annex(*, budget: Budget, partner: Partner | None) -> BudgetAnnex:
    """Lay the budget out as Annex III, lead partner first; with `partner`, only its column: three queries."""
    lines = annex_layout_lines(list(CostCategory.objects.all()))
    headings = {line.category.pk: line for line in lines if not line.is_total}
    if partner is None:
        partners = Partner.objects.filter(project_id=budget.project_id).select_related("organisation")
        partners = sorted(partners, key=lambda p: (p.role != Partner.Role.LEAD, p.organisation.name))
    else:
        partners = [partner]
    by_pk = {p.pk: p for p in partners}
    amounts, activities = {}, []
    rows = budget.lines.filter(partner__in=partners).values_list(
        "partner_id", "category_id", "activity__number", "activity__title", "amount"
    )
    for partner_id, category_id, number, title, amount in rows.order_by():
        column = amounts.setdefault(partner_id, {})
        column[category_id] = column.get(category_id, ZERO) + amount
        if number is not None:
            activities.append(ActivitySplit(headings[category_id], by_pk[partner_id], number, title, amount))
    order = {p.pk: index for index, p in enumerate(partners)}
    activities.sort(key=lambda s: (lines.index(s.line), order[s.partner.pk], s.activity_number))
    return BudgetAnnex(
        budget=budget, partner=partner, lines=lines, partners=partners, amounts=amounts, activities=activities
    )


def partner_list_with_money(*, project: Project, budget: Budget | None) -> list[Partner]:
    """Return the project's partners with their budget, declared and verified EUR as the finance overview has them.

    Indirect costs count at each partner's flat rate. Six queries.
    """
    partners = list(Partner.objects.for_project(project).select_related("organisation"))
    [rows] = money_with_flat_rate("partner", budget=budget, expenses=Expenditure.objects.for_project(project))
    money = {row.key.pk: row for row in rows}
    for partner in partners:
        row = money.get(partner.pk, MoneyRow(key=partner, label=""))
        partner.budget_amount, partner.declared_eur, partner.verified_eur = row.budget, row.declared, row.verified
    return partners


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


@dataclass(frozen=True)
class ExpenseSums:
    """Expenses' EUR summed by partner, heading, activity and month incurred, as `expense_sums` reads them.

    Every money table sums these groups further, so one pass over the expenses serves the overview's tables.
    """

    # (partner id, category id, heading kind, activity id, first day of the month incurred,
    #  (declared, verified, in period, earlier))
    groups: list[tuple]

    def by(self, key, *, kinds=None, exclude_kinds=()) -> dict:
        """Sum the groups by `key(group)`, of the headings of `kinds` (all if None) but those of `exclude_kinds`."""
        totals = {}
        for group in self.groups:
            kind = group[2]
            if kind in exclude_kinds or (kinds is not None and kind not in kinds):
                continue
            name = key(group)
            money = group[5]
            before = totals.get(name)
            totals[name] = money if before is None else tuple(a + b for a, b in zip(before, money, strict=True))
        return totals


# What a column of money_by reads from a group of ExpenseSums.
GROUP_KEYS = {"partner_id": itemgetter(0), "category_id": itemgetter(1), "activity_id": itemgetter(3)}


def expense_sums(
    expenses: QuerySet[Expenditure], *, in_period: Q | None = None, period_start: datetime.date | None = None
) -> ExpenseSums:
    """Sum declared and verified EUR of `expenses` by partner, heading, activity and month incurred.

    With `in_period` (a filter on the expenses), also the verified costs it selects, and of those the ones
    incurred before `period_start`. Two queries, none for `Expenditure.objects.none()`.
    """
    if expenses.query.is_empty():
        return ExpenseSums(groups=[])
    verified = Q(status=Expenditure.Status.VERIFIED)
    none = Value(ZERO, output_field=MONEY)
    period = verified & in_period if in_period is not None else None
    rows = (
        # Drafts, returned and rejected expenses count in no sum: leaving them out spares reading them.
        expenses.filter(status__in=DECLARED_STATUSES)
        .order_by()
        .annotate(month=MonthStart("date_incurred"))
        .values_list("partner_id", "category_id", "activity_id", "month")
        .annotate(
            declared=Sum("amount_eur"),
            verified=Sum("amount_eur", filter=verified),
            in_period=Sum("amount_eur", filter=period) if period is not None else none,
            earlier=Sum("amount_eur", filter=period & Q(date_incurred__lt=period_start))
            if period is not None and period_start
            else none,
        )
    )
    # The headings' kinds are read apart: joining them to every expense costs more than the sums.
    kinds = dict(CostCategory.objects.values_list("pk", "kind"))
    return ExpenseSums(
        groups=[
            (partner, category, kinds[category], activity, month, tuple(amount or ZERO for amount in money))
            for partner, category, activity, month, *money in rows
        ]
    )


def _sums(
    expenses: "QuerySet[Expenditure] | ExpenseSums", in_period: Q | None, period_start: datetime.date | None
) -> ExpenseSums:
    """Return the sums of `expenses`, read from the database unless the caller has them already."""
    if isinstance(expenses, ExpenseSums):
        return expenses
    return expense_sums(expenses, in_period=in_period, period_start=period_start)


def indirect_by_partner(
    *,
    budget: Budget,
    lines: QuerySet[BudgetLine],
    expenses: "QuerySet[Expenditure] | ExpenseSums",
    in_period: Q | None = None,
    period_start: datetime.date | None = None,
) -> dict[int, MoneyRow]:
    """Each partner's indirect costs at the flat rate, keyed by partner id: three queries, one with `ExpenseSums`.

    The budget's indirect rate of the partner's direct eligible costs (lines 1-6 and 8), at most the partner's
    indirect budget lines: for the declared and the verified costs, and with `in_period` (see `money_by`) for the
    verified costs of the period as the difference the period's direct costs make to the flat rate.
    """
    ceilings = dict(
        lines.filter(category__kind=Kind.INDIRECT).order_by().values_list("partner_id").annotate(total=Sum("amount"))
    )
    sums = _sums(expenses, in_period, period_start)
    base = sums.by(GROUP_KEYS["partner_id"], kinds=DIRECT_ELIGIBLE_KINDS)
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
    expenses: "QuerySet[Expenditure] | ExpenseSums",
    in_period: Q | None = None,
    period_start: datetime.date | None = None,
    indirect: dict[int, MoneyRow] | None = None,
) -> list[MoneyRow]:
    """Group budget lines and expenses by heading, partner or activity: four queries, two with `ExpenseSums`.

    `expenses` may be their `expense_sums` already (`in_period` is then the one they were summed with), which saves
    reading them again when several tables sum the same expenses.

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
    spent = _sums(expenses, in_period, period_start).by(GROUP_KEYS[column], exclude_kinds=(Kind.INDIRECT,))
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


def money_with_flat_rate(
    *dimensions: str, budget: Budget | None, expenses: QuerySet[Expenditure]
) -> list[list[MoneyRow]]:
    """Group the budget's lines and `expenses` by each of `dimensions`, with indirect costs at the flat rate.

    The same figures as the finance overview's: three queries (two without a budget), then two per dimension.
    """
    sums = expense_sums(expenses)
    if budget is None:
        lines, indirect = BudgetLine.objects.none(), {}
    else:
        lines = BudgetLine.objects.filter(budget=budget)
        indirect = indirect_by_partner(budget=budget, lines=lines, expenses=sums)
    return [money_by(dimension, lines=lines, expenses=sums, indirect=indirect) for dimension in dimensions]


def _with_flat_rate(row: MoneyRow, flat_rate: list[MoneyRow]) -> MoneyRow:
    """Add the flat-rate indirect costs `flat_rate` to the expenses of `row` (not to its budget, held by lines)."""
    added = {name: getattr(row, name) + sum((getattr(f, name) for f in flat_rate), ZERO) for name in SPENT_FIELDS}
    return dataclasses.replace(row, **added)


@dataclass(frozen=True)
class MoneyCell:
    """Budget and verified EUR of one partner under one heading."""

    budget: Decimal = ZERO
    verified: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.verified


@dataclass(frozen=True)
class PartnerHeadingRow:
    partner: MoneyRow
    cells: list[MoneyCell]


def money_by_partner_and_heading(
    *,
    lines: QuerySet[BudgetLine],
    expenses: "QuerySet[Expenditure] | ExpenseSums",
    partners: list[MoneyRow],
    headings: list[MoneyRow],
    indirect: dict[int, MoneyRow],
) -> list[PartnerHeadingRow]:
    """Lay out budget and verified EUR per partner (rows) and heading (columns): two queries, whatever the rows.

    `partners`, `headings` and `indirect` are what `money_by` and `indirect_by_partner` gave for the same lines and
    expenses, so every pair is there and each row adds up to its partner's total: the indirect heading holds the
    partner's flat rate, never expenses.
    """
    budgets = {
        (partner, category): total
        for partner, category, total in lines.order_by()
        .values_list("partner_id", "category_id")
        .annotate(total=Sum("amount"))
    }
    sums = _sums(expenses, None, None).by(itemgetter(0, 1), exclude_kinds=(Kind.INDIRECT,))
    verified = {key: money[1] for key, money in sums.items()}

    def spent(partner, heading):
        if heading.kind == Kind.INDIRECT:
            return indirect[partner.pk].verified if partner.pk in indirect else ZERO
        return verified.get((partner.pk, heading.key.pk), ZERO)

    return [
        PartnerHeadingRow(
            partner=row,
            cells=[
                MoneyCell(budget=budgets.get((row.key.pk, heading.key.pk), ZERO), verified=spent(row.key, heading))
                for heading in headings
            ],
        )
        for row in partners
    ]


def has_activity_budget(activities: list[MoneyRow]) -> bool:
    """Tell whether any budget is assigned to an activity: without, a table by activity shows only zeros."""
    return any(isinstance(row.key, Activity) and row.budget for row in activities)


def verified_by_month(
    *, project: Project, expenses: "QuerySet[Expenditure] | ExpenseSums", months: int
) -> list[Decimal]:
    """Return verified EUR per project month for the first `months` months, by month incurred."""
    monthly = _sums(expenses, None, None).by(itemgetter(4))
    start = project.start_date.replace(day=1)
    return [monthly.get(add_months(start, index), NOTHING)[1] for index in range(months)]


def absorption_chart(
    *, project: Project, total: Decimal, expenses: "QuerySet[Expenditure] | ExpenseSums", today: datetime.date
):
    """Lay out the `expenses` verified by month against spending `total` evenly over the project."""
    months = min(project.elapsed_months(today), project.duration_months)
    return absorption_layout(
        months=project.duration_months,
        total=total,
        monthly=verified_by_month(project=project, expenses=expenses, months=months),
    )


def pre_financing(*, project: Project, budget: Budget, used: Decimal, planned: Decimal | None = None) -> PreFinancing:
    """Return the project's EU payments and how much of a further pre-financing tranche may be requested."""
    payments = list(EUPayment.objects.filter(project=project).order_by("number"))
    return pre_financing_status(payments=payments, budget=budget, used=used, planned=planned)


@dataclass(frozen=True)
class BudgetFlexibility:
    contract: Budget
    # The budget version against the contract; the verified spending extrapolated to the end (None before the start).
    version: FlexibilityComparison
    projection: FlexibilityComparison | None
    elapsed_months: int

    @property
    def comparisons(self) -> list[FlexibilityComparison]:
        return [c for c in (self.version, self.projection) if c is not None]


def budget_flexibility(
    *, project: Project, budget: Budget, today: datetime.date, headings: list[MoneyRow] | None = None
) -> BudgetFlexibility:
    """Compare `budget` and the spending projected to the project's end with the contract, heading by heading.

    `headings` are the budget's rows with the project's verified costs, when the caller has them already.
    """
    contract = budget_contract(project=project)
    if headings is None:
        headings = money_by("category", lines=budget.lines.all(), expenses=Expenditure.objects.for_project(project))
    if contract.pk == budget.pk:
        contract_rows = headings
    else:
        contract_rows = money_by("category", lines=contract.lines.all(), expenses=Expenditure.objects.none())
    threshold = contract.flexibility_threshold
    names = {"version": budget.version, "contract": contract.version}
    version = FlexibilityComparison(
        title=_("Budget version %(version)d against the contract (version %(contract)d)") % names,
        changes=heading_changes(
            contract=contract_rows, proposed=headings, amount=attrgetter("budget"), threshold=threshold
        ),
        threshold=threshold,
    )
    elapsed = project.elapsed_months(today)
    projection = None
    if elapsed:

        def projected(row: MoneyRow) -> Decimal:
            return projected_spending(row.verified, elapsed_months=elapsed, duration_months=project.duration_months)

        projection = FlexibilityComparison(
            title=_("Spending projected to month %(months)d against the contract (version %(contract)d)")
            % {"months": project.duration_months, "contract": contract.version},
            changes=heading_changes(contract=contract_rows, proposed=headings, amount=projected, threshold=threshold),
            threshold=threshold,
        )
    return BudgetFlexibility(contract=contract, version=version, projection=projection, elapsed_months=elapsed)


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
    Three queries; only partners with an authorisation or such an expense are listed.
    """
    partners = Partner.objects.for_project(project).select_related("organisation").order_by("organisation__name")
    if partner is not None:
        partners = partners.filter(pk=partner.pk)
    authorised = (
        ContingencyAuthorisation.objects.filter(partner=OuterRef("pk"))
        .order_by()
        .values("partner")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    partners = list(
        partners.annotate(
            authorised=Coalesce(Subquery(authorised, output_field=MONEY), Value(ZERO), output_field=MONEY)
        )
    )
    # By the partners' and headings' keys, so that the expenses are found in the index of sums even before
    # PostgreSQL has statistics on them.
    headings = list(CostCategory.objects.filter(kind=Kind.CONTINGENCY).values_list("pk", flat=True))
    spent = {
        row["partner"]: row
        for row in Expenditure.objects.filter(partner__in=[p.pk for p in partners], category__in=headings)
        .exclude(status=Expenditure.Status.REJECTED)
        .order_by()
        .values("partner")
        .annotate(committed=Sum("amount_eur"), verified=Sum("amount_eur", filter=Q(status=Expenditure.Status.VERIFIED)))
    }
    rows = []
    for p in partners:
        money = spent.get(p.pk, {})
        committed, verified = money.get("committed") or ZERO, money.get("verified") or ZERO
        if p.authorised > 0 or committed > 0:
            rows.append(ContingencyRow(p, p.authorised, committed, verified))
    return rows


@dataclass(frozen=True)
class FinanceOverview:
    budget: Budget
    partner: Partner | None
    # The rows of the headings that hold money (see `annex` for the Annex III table with its computed lines).
    headings: list[MoneyRow]
    partners: list[MoneyRow]
    # Empty when no budget is assigned to activities: the table would show only zeros.
    activities: list[MoneyRow]
    # Directors' partner x heading table; empty for a partner.
    partner_headings: list[PartnerHeadingRow]
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


def finance_overview(
    *, project: Project, partner: Partner | None, today: datetime.date, planned_tranche: Decimal | None = None
) -> FinanceOverview | None:
    """Gather budget against declared and verified costs, the EU share and the rule checks.

    With `partner`, only that partner's lines and expenses, its chart scaled to its own budget, and no project-wide
    checks. `planned_tranche` is the next
    pre-financing tranche as the contract plans it, if known.
    """
    budget = budget_current(project=project)
    if budget is None:
        return None
    lines = BudgetLine.objects.filter(budget=budget)
    expenses = Expenditure.objects.for_project(project)
    if partner is not None:
        lines, expenses = lines.filter(partner=partner), expenses.filter(partner=partner)
    # One pass over the expenses feeds every table and the chart.
    expenses = expense_sums(expenses)
    indirect = indirect_by_partner(budget=budget, lines=lines, expenses=expenses)
    headings = money_by("category", lines=lines, expenses=expenses, indirect=indirect)
    totals = heading_total(headings, _("Total"))
    due = eu_share_due(headings, budget)
    activities = money_by("activity", lines=lines, expenses=expenses, indirect=indirect)
    checks, payments, partners, partner_headings = [], None, [], []
    if partner is None:
        partners = money_by("partner", lines=lines, expenses=expenses, indirect=indirect)
        partner_headings = money_by_partner_and_heading(
            lines=lines, expenses=expenses, partners=partners, headings=headings, indirect=indirect
        )
        flexibility = budget_flexibility(project=project, budget=budget, today=today, headings=headings)
        checks = rule_checks(budget=budget, headings=headings, flexibility=flexibility.comparisons)
        payments = pre_financing(project=project, budget=budget, used=due, planned=planned_tranche)
    return FinanceOverview(
        budget=budget,
        partner=partner,
        headings=headings,
        partners=partners,
        activities=activities if has_activity_budget(activities) else [],
        partner_headings=partner_headings,
        totals=totals,
        eu_share_due=due,
        checks=checks,
        pre_financing=payments,
        # A partner's chart is scaled to its own budget, the project's to the total eligible cost.
        absorption=absorption_chart(
            project=project,
            total=budget.total_eligible_cost if partner is None else totals.budget,
            expenses=expenses,
            today=today,
        ),
        contingency=contingency_use(project=project, partner=partner),
    )


@dataclass(frozen=True)
class RateUsed:
    """One rate non-EUR expenses were converted at, and what it converted."""

    currency: str
    method: str  # a Budget.RateMethod
    first_month: datetime.date
    last_month: datetime.date
    rate: Decimal
    expenses: int
    amount: Decimal  # in `currency`
    amount_eur: Decimal
    # A month's rate under a period-average budget: the SAL that reports these expenses replaces it.
    provisional: bool


def exchange_rates_used(*, expenses: QuerySet[Expenditure], budget: Budget | None) -> list[RateUsed]:
    """Return the rates the non-EUR `expenses` are converted at, by currency and months, in one query."""
    rows = (
        expenses.exclude(currency="EUR")
        .order_by()
        .values("currency", "rate_method", "exchange_rate", "rate_first_month", "rate_last_month")
        .annotate(
            month=TruncMonth("date_incurred"), count=Count("pk"), amount=Sum("amount"), amount_eur=Sum("amount_eur")
        )
    )
    period_average = Budget.RateMethod.PERIOD_AVERAGE
    merged: dict[tuple, list] = {}
    for row in rows:
        # A period's average converts expenses of several months: one line for all of them.
        if row["rate_method"] == period_average:
            months = (row["rate_first_month"], row["rate_last_month"])
        else:
            months = (row["month"], row["month"])
        key = (row["currency"], *months, row["rate_method"], row["exchange_rate"])
        totals = merged.setdefault(key, [0, ZERO, ZERO])
        totals[0] += row["count"]
        totals[1] += row["amount"]
        totals[2] += row["amount_eur"]
    provisional_method = Budget.RateMethod.MONTH_INCURRED if budget and budget.rate_method == period_average else None
    return [
        RateUsed(
            currency=currency,
            method=method,
            first_month=first,
            last_month=last,
            rate=rate,
            expenses=count,
            amount=amount,
            amount_eur=amount_eur,
            provisional=method == provisional_method,
        )
        for (currency, first, last, method, rate), (count, amount, amount_eur) in sorted(merged.items())
    ]


def expenditure_list(
    *,
    user,
    project: Project,
    status: str | None = None,
    partner: Partner | None = None,
    category: CostCategory | None = None,
) -> QuerySet[Expenditure]:
    """Return the project's expenses the user may see, newest first, ready to list."""
    # Whether an expense may be seen follows from its partner alone: given the partners' keys, PostgreSQL counts
    # and pages the expenses without joining each one to its partner.
    partners = partners_whose_expenses_are_visible_to(user).filter(project=project)
    expenses = (
        Expenditure.objects.filter(partner__in=list(partners.values_list("pk", flat=True)))
        # The timesheet too: an expense a timesheet declared changes only through it.
        .select_related("partner__organisation", "partner__project", "category", "activity", "author", "timesheet")
        .order_by("-date_incurred", "-id")
    )
    if status:
        expenses = expenses.filter(status=status)
    if partner:
        expenses = expenses.filter(partner=partner)
    if category:
        expenses = expenses.filter(category=category)
    return expenses


class PagedByKeys:
    """A queryset for a `Paginator` that picks a page's rows by their keys alone, then reads those rows whole.

    Sorting every matching key, then joining 25 rows, costs far less than joining every row to sort it.
    """

    def __init__(self, queryset: QuerySet):
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> QuerySet:
        # The rows are read by key alone, with the joins and order of `queryset`: its filters are in the keys
        # already. The keys are read first, as a list: given the keys' query as a subquery, PostgreSQL joins every
        # row before it picks the page's.
        keys = list(self.queryset.values_list("pk", flat=True)[window])
        rows = self.queryset.model._default_manager.filter(pk__in=keys)
        rows.query.select_related = self.queryset.query.select_related
        return rows.order_by(*self.queryset.query.order_by)


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
            "partner__organisation", "partner__project", "category", "activity", "author", "reviewer", "timesheet"
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
    """Return what the expense page shows besides the expense: its receipts, its audit history, and whether its
    rate is provisional (a month's rate under a period-average budget, which the SAL reporting it replaces)."""
    history = expenditure.history.select_related("history_user").order_by("history_date", "history_id")
    rate_provisional = (
        expenditure.currency != "EUR"
        and expenditure.rate_method == Budget.RateMethod.MONTH_INCURRED
        and Budget.objects.filter(
            project_id=expenditure.partner.project_id, is_current=True, rate_method=Budget.RateMethod.PERIOD_AVERAGE
        ).exists()
    )
    return {
        "receipts": receipt_list(expenditure=expenditure),
        "history": list(history),
        "rate_provisional": rate_provisional,
    }


def expense_currency_choices(*, project: Project) -> list[str]:
    """The currencies an expense of `project` may be in: its partners', those with monthly rates, EUR and USD."""
    partners = Partner.objects.for_project(project).values_list("currency", flat=True)
    rated = ExchangeRate.objects.order_by().values_list("currency", flat=True).distinct()
    return sorted({"EUR", "USD", *partners, *rated} & ISO_4217_CURRENCIES)


def cost_category_list() -> QuerySet[CostCategory]:
    return CostCategory.objects.all()


# The EU financial report lists every contract above this value with its procurement procedure.
PROCUREMENT_REPORTED_ABOVE = Decimal("10000.00")


def procurement_contract_list(*, user, project: Project) -> QuerySet[ProcurementContract]:
    """Return the contracts the user may see, newest first, with what their linked expenses add up to."""
    return (
        ProcurementContract.objects.visible_to(user)
        .filter(partner__project=project)
        .select_related("partner__organisation", "partner__project")
        .annotate(
            expense_count=Count("expenses"),
            invoiced_eur=Coalesce(Sum("expenses__amount_eur"), Value(ZERO), output_field=MONEY),
        )
        .order_by("-signed_on", "-id")
    )


def procurement_contract_get(*, user, pk: int) -> ProcurementContract:
    """Return the contract, or 404 when the user may not see it."""
    return get_object_or_404(
        ProcurementContract.objects.visible_to(user).select_related("partner__organisation", "partner__project"),
        pk=pk,
    )


def procurement_contracts_reported(*, project: Project, until: datetime.date) -> list[ProcurementContract]:
    """Return the contracts above EUR 10,000 signed by `until`, with their linked expenses, for the EU report."""
    return list(
        ProcurementContract.objects.filter(
            partner__project=project, amount__gt=PROCUREMENT_REPORTED_ABOVE, signed_on__lte=until
        )
        .select_related("partner__organisation")
        .prefetch_related("expenses")
        .order_by("signed_on", "id")
    )


def procurement_expense_choices(*, user, project: Project) -> QuerySet[Expenditure]:
    """The expenses a contract may be linked to: those the user sees, except drafts, newest first."""
    return (
        Expenditure.objects.visible_to(user)
        .for_project(project)
        .exclude(status__in=[Expenditure.Status.DRAFT, Expenditure.Status.REJECTED])
        .select_related("partner__organisation")
        .order_by("-date_incurred", "-id")
    )


def procurement_contract_deleted_by(*, user, pk: int) -> bool:
    """Tell whether `user` deleted the contract `pk`."""
    return ProcurementContract.history.filter(id=pk, history_type="-", history_user=user).exists()


def procurement_partner_choices(*, user, project: Project) -> QuerySet[Partner]:
    """The partners whose contracts the user records: its own as partner staff, every one as a director."""
    partners = partner_list(project=project)
    if user_can_direct(user, project):
        return partners
    partner = partner_of(user, project)
    return partners.filter(pk=partner.pk) if partner else partners.none()


def staff_member_choices(*, partner: Partner) -> QuerySet[StaffMember]:
    """The partner's staff members, whose timesheets its staff fill."""
    return StaffMember.objects.filter(partner=partner).order_by("name", "-valid_from")


def timesheet_actions(*, project: Project) -> list[Action]:
    """The project's actions, the rows of a timesheet's grid, in the work plan's order."""
    return list(
        Action.objects.filter(activity__project=project)
        .select_related("activity")
        .order_by("activity__number", "number")
    )


def timesheet_list(*, user, project: Project) -> QuerySet[Timesheet]:
    """Return the project's timesheets the user may see, newest month first, ready to list."""
    return (
        Timesheet.objects.visible_to(user)
        .filter(staff_member__partner__project=project)
        .select_related("staff_member__partner__organisation", "staff_member__partner__project", "expenditure")
        .order_by("-month", "staff_member__name", "-id")
    )


def timesheet_get(*, user, pk: int) -> Timesheet:
    """Return the timesheet, or 404 when the user may not see it."""
    return get_object_or_404(
        Timesheet.objects.visible_to(user).select_related(
            "staff_member__partner__organisation", "staff_member__partner__project", "expenditure", "signed_by"
        ),
        pk=pk,
    )


def timesheet_rows_priced(timesheet: Timesheet) -> list[TimesheetRow]:
    """Return the timesheet's rows with the amount of each, its hours times the timesheet's rate, to the cent."""
    rows = list(
        timesheet.rows.select_related("action__activity").order_by("action__activity__number", "action__number")
    )
    for row in rows:
        row.amount = cents(row.hours * timesheet.hourly_rate)
    return rows
