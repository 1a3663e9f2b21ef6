"""The budget in the structure of Annex III of the EU grant contract: its lines, their numbers and their sums.

A cost category's code is its Annex III line number. Lines 1-6 are the direct headings, 8 the contingency reserve,
10 the administrative (indirect) costs and 12 the taxes where the contract makes them eligible: these hold budget
lines. Lines 7, 9, 11 and 13 are sums of the lines above them, computed and never stored. Pages, the SAL, the
statement and the Annex III spreadsheet all read the structure from here.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.formatters import ZERO, percent_of

from .models import CostCategory

Kind = CostCategory.Kind

SUBTOTAL_DIRECT = 7
CONTINGENCY = 8
TOTAL_DIRECT = 9
INDIRECT = 10
TOTAL_ELIGIBLE = 11
TAXES = 12
TOTAL_ACCEPTED = 13

# Kinds of the total direct eligible costs (line 9): the base of the flat rate of indirect costs.
DIRECT_ELIGIBLE_KINDS = (Kind.DIRECT, Kind.CONTINGENCY)
# Kinds an expense may be declared on: indirect costs are a flat rate, never receipted.
DECLARABLE_KINDS = (Kind.DIRECT, Kind.CONTINGENCY, Kind.TAXES)

# The headings that hold budget lines, as the grant contract names them; names are translated on display.
HEADINGS = [
    (1, gettext_noop("Human resources"), Kind.DIRECT),
    (2, gettext_noop("Travel"), Kind.DIRECT),
    (3, gettext_noop("Equipment and supplies"), Kind.DIRECT),
    (4, gettext_noop("Local office"), Kind.DIRECT),
    (5, gettext_noop("Other costs, services"), Kind.DIRECT),
    (6, gettext_noop("Other"), Kind.DIRECT),
    (CONTINGENCY, gettext_noop("Contingency reserve"), Kind.CONTINGENCY),
    (INDIRECT, gettext_noop("Indirect costs"), Kind.INDIRECT),
]
# Taxes, where the contract makes them eligible, are a heading an administrator adds: code 12, kind taxes.


def _computed_lines():
    """Each computed line: its number, its label and the kinds it adds up (taxes' total only where there are taxes)."""
    return (
        (SUBTOTAL_DIRECT, _("Subtotal of direct costs (1–6)"), (Kind.DIRECT,)),
        (TOTAL_DIRECT, _("Total direct eligible costs (7 + 8)"), DIRECT_ELIGIBLE_KINDS),
        (TOTAL_ELIGIBLE, _("Total eligible costs (9 + 10)"), (*DIRECT_ELIGIBLE_KINDS, Kind.INDIRECT)),
        (TOTAL_ACCEPTED, _("Total accepted costs (11 + 12)"), tuple(Kind)),
    )


@dataclass
class MoneyRow:
    """Budget, declared and verified EUR of one heading, partner or activity, or of a computed Annex III line.

    `line` is a heading's Annex III line number (its code); `is_subtotal` marks lines 7, 9, 11 and 13.
    """

    key: object
    label: str
    budget: Decimal = ZERO
    declared: Decimal = ZERO
    verified: Decimal = ZERO
    kind: str = ""
    verified_in_period: Decimal = ZERO
    # Of `verified_in_period`, what was incurred before the period began but verified or reported only now.
    verified_earlier_periods: Decimal = ZERO
    line: int | None = None
    is_subtotal: bool = False

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.verified

    @property
    def verified_percent(self) -> Decimal | None:
        return percent_of(self.verified, self.budget)


MONEY_FIELDS = ("budget", "declared", "verified", "verified_in_period", "verified_earlier_periods")


def sum_rows(rows: list[MoneyRow], *, label: str, **fields) -> MoneyRow:
    """Add up the money of `rows` in a new row with no key."""
    totals = {name: sum((getattr(row, name) for row in rows), ZERO) for name in MONEY_FIELDS}
    return MoneyRow(key=None, label=label, **totals, **fields)


def annex_lines(headings: list[MoneyRow]) -> list[MoneyRow]:
    """Return the heading rows in Annex III order with the computed lines 7, 9 and 11 (13 with taxes) inserted.

    `headings` are the rows of cost categories (MoneyRow.line is their code); computed rows have `is_subtotal`.
    """
    has_taxes = any(row.kind == Kind.TAXES for row in headings)
    computed = []
    for line, label, kinds in _computed_lines():
        if line == TOTAL_ACCEPTED and not has_taxes:
            continue
        included = [row for row in headings if row.kind in kinds and not row.is_subtotal]
        computed.append(sum_rows(included, label=f"{line}. {label}", kind="subtotal", line=line, is_subtotal=True))
    # A computed line comes after the headings it sums: 7 after 1-6, 9 after 8 and so on.
    return sorted([*headings, *computed], key=lambda row: (row.line, row.is_subtotal))


def heading_total(headings: list[MoneyRow], label: str) -> MoneyRow:
    """The total of every heading: line 11, or line 13 where taxes are eligible."""
    return sum_rows([row for row in headings if not row.is_subtotal], label=label)
