"""The rules of progress against the plan: what is expected by now, and what is late."""

# An activity is late when its progress trails the share of its planned time already gone by this much.
LATE_TOLERANCE = 10


def expected_progress(start_month: int, end_month: int, elapsed_months: int) -> int:
    """Return the percent of the planned months [start, end] gone by after `elapsed_months`."""
    done = min(max(elapsed_months - start_month + 1, 0), end_month - start_month + 1)
    return round(100 * done / (end_month - start_month + 1))


def is_late(progress: int, start_month: int, end_month: int, elapsed_months: int) -> bool:
    return progress + LATE_TOLERANCE < expected_progress(start_month, end_month, elapsed_months)
