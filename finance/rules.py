"""The EU grant rules on money: the EU share due, the caps on indirect costs and contingency, the co-financing
rate, the budget flexibility and pre-financing, checked on figures the selectors computed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from core.formatters import CENT, ZERO, cents, money_text, percent_of, percent_text, rate_text

from .annex import DIRECT_ELIGIBLE_KINDS
from .models import Budget, CostCategory, EUPayment

if TYPE_CHECKING:
    from .annex import MoneyRow

# A further pre-financing tranche needs this share of the previous one used on the EU share.
TRANCHE_USE_THRESHOLD = Decimal("0.70")
# Pre-financing never exceeds this share of the EU contribution.
PRE_FINANCING_CAP = Decimal("0.90")


@dataclass(frozen=True)
class RuleCheck:
    title: str
    ok: bool
    figures: str
    verdict: str


def indirect_flat_rate(direct_eligible: Decimal, *, rate: Decimal, ceiling: Decimal) -> Decimal:
    """Indirect costs of a partner: `rate` of its direct eligible costs (line 9), at most its indirect budget.

    Rounded down to the cent: the rate is a maximum, and the partners' amounts added up stay within it.
    """
    return min((direct_eligible * rate).quantize(CENT, rounding=ROUND_DOWN), ceiling)


def eligible_verified(headings: list[MoneyRow], budget: Budget) -> Decimal:
    """Verified costs the EU may pay on: every heading, indirect costs at the flat rate the rows already hold."""
    return sum((h.verified for h in headings if not h.is_subtotal), ZERO)


def eu_share_due(headings: list[MoneyRow], budget: Budget) -> Decimal:
    """The EU pays its rate of verified eligible costs, never more than its contribution."""
    share = cents(eligible_verified(headings, budget) * budget.eu_max_rate)
    return min(share, budget.eu_contribution)


@dataclass(frozen=True)
class HeadingChange:
    """A direct heading's amount in a budget version or a projection, against its amount in the contract."""

    key: object
    label: str
    contract: Decimal
    amount: Decimal
    threshold: Decimal

    @property
    def change(self) -> Decimal:
        return self.amount - self.contract

    @property
    def change_percent(self) -> Decimal | None:
        """The change as a percentage of the contract amount; None for a heading the contract does not have."""
        return percent_of(self.change, self.contract, "0.01")

    @property
    def allowed(self) -> Decimal:
        """The change allowed without an addendum: the threshold of the contract amount, rounded down to the cent.

        Amounts are whole cents, so "more than the threshold" and "more than this" say the same.
        """
        return (self.contract * self.threshold).quantize(CENT, rounding=ROUND_DOWN)

    @property
    def breaches(self) -> bool:
        return abs(self.change) > self.allowed

    @property
    def excess(self) -> Decimal:
        """How far the change goes beyond what is allowed, in EUR."""
        return max(abs(self.change) - self.allowed, ZERO)


def heading_changes(
    *, contract: list[MoneyRow], proposed: list[MoneyRow], amount: Callable[[MoneyRow], Decimal], threshold: Decimal
) -> list[HeadingChange]:
    """Compare each direct heading's `amount` in `proposed` with its budget in `contract`.

    Indirect costs and the contingency reserve are outside the flexibility. Increases and decreases both count, and a
    heading on one side only counts as changed from or to nothing.
    """
    direct = CostCategory.Kind.DIRECT
    before = {row.key: row for row in contract if row.kind == direct}
    after = {row.key: row for row in proposed if row.kind == direct}
    changes = [
        HeadingChange(
            key=key,
            label=(before.get(key) or after[key]).label,
            contract=before[key].budget if key in before else ZERO,
            amount=amount(after[key]) if key in after else ZERO,
            threshold=threshold,
        )
        for key in dict.fromkeys([*before, *after])
    ]
    # A heading with nothing on either side (only draft expenses, say) has nothing to compare.
    return [change for change in changes if change.contract or change.amount]


def projected_spending(verified: Decimal, *, elapsed_months: int, duration_months: int) -> Decimal:
    """Extrapolate what was verified in `elapsed_months` (at least 1) linearly to the whole duration."""
    return cents(verified * duration_months / min(elapsed_months, duration_months))


@dataclass(frozen=True)
class FlexibilityComparison:
    """A budget version, or the spending projected to the end, heading by heading against the contract version."""

    title: str
    changes: list[HeadingChange]
    threshold: Decimal

    @property
    def breaches(self) -> list[HeadingChange]:
        return [change for change in self.changes if change.breaches]

    def check(self) -> RuleCheck:
        """Name each heading that breaches the flexibility, with its change in EUR and in percent."""
        breaches = self.breaches
        if breaches:
            figures = "; ".join(
                _("%(heading)s: %(change)s (%(percent)s), %(excess)s beyond the %(allowed)s allowed")
                % {
                    "heading": change.label,
                    "change": signed_money_text(change.change),
                    "percent": signed_percent_text(change.change_percent),
                    "excess": money_text(change.excess),
                    "allowed": money_text(change.allowed),
                }
                for change in breaches
            )
        else:
            figures = _("each direct heading within %(threshold)s %% of its amount in the contract") % {
                "threshold": rate_text(self.threshold)
            }
        return RuleCheck(
            title=self.title,
            ok=not breaches,
            figures=figures,
            verdict=_("addendum needed") if breaches else _("within the flexibility"),
        )


def signed_money_text(amount: Decimal) -> str:
    """Write a change of money with its sign: +EUR 10.00, -EUR 10.00."""
    return ("-" if amount < 0 else "+") + money_text(abs(amount))


def signed_percent_text(percent: Decimal | None) -> str:
    """Write a percentage change with its sign; "new" for a heading the contract does not have."""
    if percent is None:
        return _("new heading")
    return ("-" if percent < 0 else "+") + f"{number_format(abs(percent), decimal_pos=2, use_l10n=True)} %"


def rule_checks(
    *, budget: Budget, headings: list[MoneyRow], flexibility: Iterable[FlexibilityComparison] = ()
) -> list[RuleCheck]:
    """Check the EU rules on the current budget and on the verified costs, then the `flexibility` comparisons."""
    checks = []
    headings = [h for h in headings if not h.is_subtotal]

    def total(rows, attribute, kinds):
        return sum((getattr(r, attribute) for r in rows if r.kind in kinds), ZERO)

    # Indirect costs are at most their rate of the total direct eligible costs, line 9: direct costs and contingency.
    for attribute, title in (("budget", _("Indirect costs in the budget")), ("verified", _("Indirect costs verified"))):
        direct = total(headings, attribute, DIRECT_ELIGIBLE_KINDS)
        indirect = total(headings, attribute, (CostCategory.Kind.INDIRECT,))
        cap = direct * budget.indirect_cap
        checks.append(
            RuleCheck(
                title=title,
                ok=indirect <= cap,
                figures=_("%(indirect)s = %(percent)s of direct costs %(direct)s; at most %(cap)s %%")
                % {
                    "indirect": money_text(indirect),
                    "percent": percent_text(indirect, direct),
                    "direct": money_text(direct),
                    "cap": rate_text(budget.indirect_cap),
                },
                verdict=_("within the cap") if indirect <= cap else _("over the cap"),
            )
        )
    direct_budget = total(headings, "budget", (CostCategory.Kind.DIRECT,))
    contingency = total(headings, "budget", (CostCategory.Kind.CONTINGENCY,))
    checks.append(
        RuleCheck(
            title=_("Contingency reserve"),
            ok=contingency <= direct_budget * budget.contingency_cap,
            figures=_("%(amount)s = %(percent)s of direct costs; at most %(cap)s %%")
            % {
                "amount": money_text(contingency),
                "percent": percent_text(contingency, direct_budget),
                "cap": rate_text(budget.contingency_cap),
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
                "eu": money_text(budget.eu_contribution),
                "percent": percent_text(budget.eu_contribution, budget.total_eligible_cost),
                "total": money_text(budget.total_eligible_cost),
                "rate": rate_text(budget.eu_max_rate),
                "co": money_text(budget.co_financing),
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
            % {"lines": money_text(lines_total), "total": money_text(budget.total_eligible_cost)},
            verdict=_("consistent") if lines_total == budget.total_eligible_cost else _("to be corrected"),
        )
    )
    checks.extend(comparison.check() for comparison in flexibility)
    return checks


@dataclass(frozen=True)
class PreFinancing:
    """The pre-financing received and how much of a further tranche may be requested now."""

    payments: list[EUPayment]
    received: Decimal
    cap: Decimal
    used: Decimal
    # All earlier tranches and 70 % of the last one; None before the first tranche.
    needed_for_next: Decimal | None
    # The next tranche as the contract plans it; None: as much as the 90 % cap leaves.
    planned: Decimal | None = None

    @property
    def room(self) -> Decimal:
        """What the 90 % cap leaves to receive."""
        return max(self.cap - self.received, ZERO)

    @property
    def shortfall(self) -> Decimal:
        """How far the EU share of verified costs falls short of what a full next tranche needs."""
        if self.needed_for_next is None:
            return ZERO
        return max(self.needed_for_next - self.used, ZERO)

    @property
    def nominal(self) -> Decimal:
        """The tranche before any reduction: the planned one, or else all the cap leaves."""
        return self.room if self.planned is None else self.planned

    @property
    def requestable(self) -> Decimal:
        """The nominal tranche less the shortfall, never below zero nor beyond the 90 % cap."""
        return min(max(self.nominal - self.shortfall, ZERO), self.room)


def pre_financing_status(
    *, payments: list[EUPayment], budget: Budget, used: Decimal, planned: Decimal | None = None
) -> PreFinancing:
    """Say how much of a further tranche may be requested: the planned one (or all the 90 % cap leaves), reduced by
    what the EU share of verified costs falls short of all earlier tranches and 70 % of the last one."""
    tranches = [p.amount for p in payments if p.kind == EUPayment.Kind.PRE_FINANCING]
    needed = None
    if tranches:
        needed = cents(sum(tranches[:-1], ZERO) + tranches[-1] * TRANCHE_USE_THRESHOLD)
    return PreFinancing(
        payments=payments,
        received=sum(tranches, ZERO),
        cap=cents(budget.eu_contribution * PRE_FINANCING_CAP),
        used=used,
        needed_for_next=needed,
        planned=planned,
    )


@dataclass(frozen=True)
class HeadingVariance:
    """A heading's verified costs against what its budget, spent evenly, planned by the period end."""

    budget: Decimal
    verified: Decimal
    planned: Decimal
    threshold: Decimal

    @property
    def deviation(self) -> Decimal:
        return self.verified - self.planned

    @property
    def percent(self) -> Decimal | None:
        return percent_of(self.deviation, self.planned)

    @property
    def needs_explanation(self) -> bool:
        """Beyond the threshold either way; spending on a heading that planned nothing always needs one."""
        if self.planned == 0:
            return self.verified > 0
        return abs(self.deviation) > self.planned * self.threshold


def heading_variance(
    *, budget: Decimal, verified: Decimal, elapsed_months: int, duration_months: int, threshold: Decimal
) -> HeadingVariance:
    """Compare a heading's verified costs with its budget spent evenly over the months started (to the cent)."""
    planned = cents(budget * min(elapsed_months, duration_months) / duration_months) if duration_months else ZERO
    return HeadingVariance(budget=budget, verified=verified, planned=planned, threshold=threshold)
