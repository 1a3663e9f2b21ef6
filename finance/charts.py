"""The absorption chart (cumulative verified costs against a straight-line plan), laid out for SVG."""

from dataclasses import dataclass
from decimal import Decimal

from core.formatters import ZERO, money_text


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


def absorption_layout(*, months: int, total: Decimal, monthly: list[Decimal]) -> AbsorptionChart:
    """Lay out cumulative `monthly` verified EUR against spending `total` evenly over `months`.

    The scale reaches the total, or what was verified when that is more (a partner over its own budget), and stays
    flat when both are zero (a partner without a budget or costs).
    """
    width, height, left, bottom = 600, 200, 40, 20
    top = max(total, sum(monthly, ZERO))
    scale_x = (width - left - 10) / months
    scale_y = (height - bottom - 10) / float(top) if top else 0.0
    points, cumulative = [f"{left},{height - bottom}"], ZERO
    for index, amount in enumerate(monthly):
        cumulative += amount
        points.append(f"{left + (index + 1) * scale_x:.1f},{height - bottom - float(cumulative) * scale_y:.1f}")
    return AbsorptionChart(
        points=" ".join(points),
        plan_points=f"{left},{height - bottom} {width - 10},{height - bottom - float(total) * scale_y:.1f}",
        width=width,
        height=height,
        top_label=money_text(top),
        months=months,
        today_x=left + len(monthly) * scale_x if 0 < len(monthly) < months else None,
    )
