"""The Gantt chart of planned months against approved reports, laid out for SVG in pages and the PDF."""

import datetime
from dataclasses import dataclass

from partners.models import Project

from .models import Action
from .rules import is_late


@dataclass(frozen=True)
class GanttRow:
    label: str
    title: str
    planned_x: float
    planned_width: float
    actual_x: float | None
    actual_width: float
    progress: int
    late: bool
    y: float


@dataclass(frozen=True)
class GanttChart:
    months: int
    rows: list[GanttRow]
    today_x: float | None
    label_width: int = 60
    month_width: int = 20
    row_height: int = 22

    @property
    def width(self) -> float:
        return self.label_width + self.months * self.month_width + 10

    @property
    def height(self) -> float:
        return 30 + len(self.rows) * self.row_height

    @property
    def ticks(self) -> list[tuple[int, float]]:
        """Label every sixth month (the reporting periods)."""
        return [(m, self.label_width + (m - 1) * self.month_width) for m in range(1, self.months + 1, 6)]


def gantt_action(action: Action, *, project: Project, elapsed: int) -> dict:
    """Return what the Gantt chart draws of an action (prefetched with progress), as plain data."""
    return {
        "code": action.code,
        "title": action.title,
        "start_month": action.start_month,
        "end_month": action.end_month,
        "progress": action.progress or 0,
        "first_month": project.month_of(action.first_report) if action.first_report else None,
        "last_month": project.month_of(action.last_report) if action.last_report else None,
        "late": is_late(action.progress or 0, action.start_month, action.end_month, elapsed),
    }


def gantt_layout(*, months: int, elapsed: int, marker_fraction: float, actions: list[dict]) -> GanttChart:
    """Lay out planned months against the months with approved reports; a marker at `elapsed` + fraction."""
    chart = GanttChart(months=months, rows=[], today_x=None)

    def x(month):
        return chart.label_width + (month - 1) * chart.month_width

    rows = []
    for index, action in enumerate(actions):
        actual_x, actual_width = None, 0
        if action["first_month"]:
            actual_x = x(action["first_month"])
            actual_width = (action["last_month"] - action["first_month"] + 1) * chart.month_width
        rows.append(
            GanttRow(
                label=action["code"],
                title=action["title"],
                planned_x=x(action["start_month"]),
                planned_width=(action["end_month"] - action["start_month"] + 1) * chart.month_width,
                actual_x=actual_x,
                actual_width=actual_width,
                progress=action["progress"],
                late=action["late"],
                y=24 + index * chart.row_height,
            )
        )
    today_x = x(elapsed) + chart.month_width * marker_fraction if 0 < elapsed < months else None
    return GanttChart(months=months, rows=rows, today_x=today_x)


def gantt_chart(*, project: Project, actions, today: datetime.date) -> GanttChart:
    """Lay out planned months against approved reports for `actions` (prefetched with progress), up to today."""
    elapsed = project.elapsed_months(today)
    return gantt_layout(
        months=project.duration_months,
        elapsed=elapsed,
        marker_fraction=today.day / 31,
        actions=[gantt_action(action, project=project, elapsed=elapsed) for action in actions],
    )
