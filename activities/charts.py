"""The Gantt chart of planned months against approved reports, laid out for SVG in pages and the PDF."""

import datetime
from dataclasses import dataclass

from django.utils.dateformat import format as date_format

from partners.models import Project, add_months

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


@dataclass(frozen=True)
class Milestone:
    """A dated event drawn on the project calendar, such as a SAL's due date."""

    label: str
    day: datetime.date


@dataclass(frozen=True)
class CalendarRow:
    code: str
    title: str
    is_activity: bool
    planned_start: datetime.date
    planned_end: datetime.date
    planned_x: float
    planned_width: float
    progress: int
    progress_width: float
    first_report: datetime.date | None
    last_report: datetime.date | None
    actual_x: float | None
    actual_width: float
    late: bool
    y: float


@dataclass(frozen=True)
class CalendarTick:
    x: float
    month: str
    year: str


@dataclass(frozen=True)
class CalendarMilestone:
    label: str
    day: datetime.date
    x: float


@dataclass(frozen=True)
class ProjectCalendar:
    """Every activity and action of a project on one calendar of real months, laid out for SVG."""

    months: int
    ticks: list[CalendarTick]
    rows: list[CalendarRow]
    milestones: list[CalendarMilestone]
    today: datetime.date
    today_x: float | None
    project_end_x: float
    label_width: int = 44
    month_width: int = 22
    header_height: int = 46
    row_height: int = 18

    @property
    def width(self) -> float:
        return self.label_width + self.months * self.month_width + 8

    @property
    def height(self) -> float:
        return self.header_height + len(self.rows) * self.row_height + 6

    @property
    def chart_right(self) -> float:
        return self.label_width + self.months * self.month_width

    @property
    def after_end_width(self) -> float:
        """The width of the months past the project's end, shaded."""
        return self.chart_right - self.project_end_x

    # Drawn 1.25 times the layout's units on screen: a row label of 9 units reads as 11 px.
    scale = 1.25

    @property
    def labels_pixel_width(self) -> float:
        return self.label_width * self.scale

    @property
    def chart_width(self) -> float:
        return self.width - self.label_width

    @property
    def chart_pixel_width(self) -> float:
        return self.chart_width * self.scale

    @property
    def pixel_height(self) -> float:
        return self.height * self.scale

    @property
    def today_pixel_x(self) -> float | None:
        """Where today is drawn, in pixels from the calendar's left edge: a phone scrolls it into view."""
        return None if self.today_x is None else self.today_x * self.scale


def project_calendar(
    *, project: Project, activities, today: datetime.date, milestones: list[Milestone]
) -> ProjectCalendar:
    """Lay out `activities` (from activity_list_with_schedule) and their actions on the project's real months.

    Planned bars run from the first day of the start month to the last day of the end month; the actual line
    from the first to the last approved progress entry; `milestones` (the SAL due dates, given by the caller
    so that activities need not know the reports) are dated marks. Month names are those of the active language.
    """
    label_width, month_width, header_height, row_height = 44, 22, 46, 18
    # The calendar runs past the project's end when a milestone does: the last SAL is due after it.
    months = max([project.duration_months, *(project.month_of(milestone.day) for milestone in milestones)])
    month_starts = [add_months(project.start_date, index) for index in range(months + 1)]

    def x_of(day: datetime.date) -> float:
        """Return the x of a day: its month's left edge plus the share of that month gone by."""
        if day <= month_starts[0]:
            return label_width
        if day >= month_starts[-1]:
            return label_width + months * month_width
        index = project.month_of(day) - 1
        start, end = month_starts[index], month_starts[index + 1]
        return label_width + (index + (day - start).days / (end - start).days) * month_width

    def month_span(start_month: int, end_month: int) -> tuple[datetime.date, datetime.date]:
        return month_starts[start_month - 1], month_starts[end_month] - datetime.timedelta(days=1)

    rows = []

    def add_row(*, code, title, is_activity, start_month, end_month, progress, first, last, late):
        planned_start, planned_end = month_span(start_month, end_month)
        planned_x = label_width + (start_month - 1) * month_width
        planned_width = (end_month - start_month + 1) * month_width
        actual_x = actual_width = None
        if first is not None:
            actual_x = x_of(first)
            # A single report still shows as a short mark.
            actual_width = max(x_of(last + datetime.timedelta(days=1)) - actual_x, 2)
        rows.append(
            CalendarRow(
                code=code,
                title=title,
                is_activity=is_activity,
                planned_start=planned_start,
                planned_end=planned_end,
                planned_x=planned_x,
                planned_width=planned_width,
                progress=progress,
                progress_width=planned_width * progress / 100,
                first_report=first,
                last_report=last,
                actual_x=actual_x,
                actual_width=actual_width or 0,
                late=late,
                y=header_height + len(rows) * row_height,
            )
        )

    for activity in activities:
        actions = list(activity.actions.all())
        firsts = [action.first_report for action in actions if action.first_report]
        lasts = [action.last_report for action in actions if action.last_report]
        add_row(
            code=str(activity.number),
            title=activity.title,
            is_activity=True,
            start_month=activity.start_month,
            end_month=activity.end_month,
            progress=activity.progress,
            first=min(firsts) if firsts else None,
            last=max(lasts) if lasts else None,
            late=activity.late,
        )
        for action in actions:
            add_row(
                code=action.code,
                title=action.title,
                is_activity=False,
                start_month=action.start_month,
                end_month=action.end_month,
                progress=action.progress or 0,
                first=action.first_report,
                last=action.last_report,
                late=action.late,
            )
    ticks = [
        CalendarTick(
            x=label_width + index * month_width,
            month=date_format(month_starts[index], "b"),
            # The year is written where it changes, and at the start.
            year=date_format(month_starts[index], "Y")
            if index == 0 or month_starts[index].year != month_starts[index - 1].year
            else "",
        )
        for index in range(months)
    ]
    return ProjectCalendar(
        months=months,
        ticks=ticks,
        rows=rows,
        milestones=[
            CalendarMilestone(label=milestone.label, day=milestone.day, x=x_of(milestone.day))
            for milestone in milestones
            if milestone.day >= project.start_date
        ],
        project_end_x=label_width + project.duration_months * month_width,
        today=today,
        today_x=x_of(today) if project.contains(today) else None,
        label_width=label_width,
        month_width=month_width,
        header_height=header_height,
        row_height=row_height,
    )
