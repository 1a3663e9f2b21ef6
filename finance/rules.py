"""The EU grant rules on money: the EU share due, the caps on indirect costs and contingency, the co-financing
rate, the budget flexibility and pre-financing, checked on figures the selectors computed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from core.formatters import CENT, ZERO, cents, money_text, percent_text, rate_text

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


def rule_checks(*, budget: Budget, headings: list[MoneyRow]) -> list[RuleCheck]:
    """Check the EU rules on the current budget and on the verified costs."""
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
    for heading in headings:
        # Every Annex III heading is listed; one with no budget and nothing verified has nothing to check.
        if heading.key is None or not (heading.budget or heading.verified):
            continue
        allowed = heading.budget * (1 + budget.flexibility_threshold)
        ok = heading.verified <= allowed
        checks.append(
            RuleCheck(
                title=_("Heading %(heading)s") % {"heading": heading.label},
                ok=ok,
                figures=_("verified %(verified)s of %(budget)s (%(percent)s); flexibility %(threshold)s %%")
                % {
                    "verified": money_text(heading.verified),
                    "budget": money_text(heading.budget),
                    "percent": percent_text(heading.verified, heading.budget),
                    "threshold": rate_text(budget.flexibility_threshold),
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


def pre_financing_status(*, payments: list[EUPayment], budget: Budget, used: Decimal) -> PreFinancing:
    """Say whether a further tranche may be requested: >= 70 % of the last one and all earlier ones used."""
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
    )
