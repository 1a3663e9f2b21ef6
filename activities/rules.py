"""The rules of progress against the plan: what is expected by now, what is late, how far an indicator got."""

from collections.abc import Sequence
from decimal import Decimal

from core.formatters import percent_of

# An activity is late when its progress trails the share of its planned time already gone by this much.
LATE_TOLERANCE = 10


def expected_progress(start_month: int, end_month: int, elapsed_months: int) -> int:
    """Return the percent of the planned months [start, end] gone by after `elapsed_months`."""
    done = min(max(elapsed_months - start_month + 1, 0), end_month - start_month + 1)
    return round(100 * done / (end_month - start_month + 1))


def is_late(progress: int, start_month: int, end_month: int, elapsed_months: int) -> bool:
    return progress + LATE_TOLERANCE < expected_progress(start_month, end_month, elapsed_months)


def indicator_achievement(
    *, baseline: Decimal, target: Decimal, cumulative: bool, values: Sequence[Decimal]
) -> tuple[Decimal | None, Decimal | None]:
    """Return (achieved, percent of the way from the baseline to the target) from `values` in date order.

    Cumulative: each value is the total reached so far, so achieved is the latest value.
    Non-cumulative: each value is what was achieved since the previous one, so achieved is the baseline plus
    their sum. Either way percent = (achieved - baseline) / (target - baseline) * 100, to one decimal; it may
    pass 100 or fall below 0. Both are None while no value is recorded.
    """
    if not values:
        return None, None
    achieved = values[-1] if cumulative else baseline + sum(values, Decimal(0))
    return achieved, percent_of(achieved - baseline, target - baseline)


def indicator_period_value(*, cumulative: bool, values: Sequence[Decimal]) -> Decimal | None:
    """Return what one period's `values` (in date order) report: the latest total, or their sum."""
    if not values:
        return None
    return values[-1] if cumulative else sum(values, Decimal(0))
