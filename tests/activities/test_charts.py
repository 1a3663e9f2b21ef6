import datetime

import pytest
from django.utils import translation

from activities.charts import Milestone, project_calendar
from activities.selectors import activity_list_with_schedule
from tests.factories import ActionFactory, ActivityFactory, ProgressEntryFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_project_calendar_places_planned_and_actual_on_real_months():
    project = ProjectFactory(start_date=datetime.date(2026, 1, 1), duration_months=36)
    activity = ActivityFactory(project=project, number=1, start_month=2, end_month=4)
    action = ActionFactory(activity=activity, number=1, start_month=2, end_month=4)
    reviewer = UserFactory()
    ProgressEntryFactory(
        action=action, date=datetime.date(2026, 2, 15), percent_complete=20, status="approved", reviewer=reviewer
    )
    ProgressEntryFactory(
        action=action, date=datetime.date(2026, 3, 31), percent_complete=50, status="approved", reviewer=reviewer
    )
    # A submitted entry is not approved progress: it moves neither the bar nor the actual line.
    ProgressEntryFactory(action=action, date=datetime.date(2026, 4, 10), percent_complete=90, status="submitted")
    today = datetime.date(2026, 3, 16)

    with translation.override("it"):
        calendar = project_calendar(
            project=project,
            activities=activity_list_with_schedule(project=project, today=today),
            today=today,
            milestones=[Milestone(label="SAL 1", day=datetime.date(2026, 8, 29))],
        )

    activity_row, action_row = calendar.rows
    assert (activity_row.code, action_row.code) == ("1", "1.1")
    # Month 2 starts 22 units after the 44 of the labels; three months of 22.
    assert (action_row.planned_x, action_row.planned_width) == (66, 66)
    assert (action_row.planned_start, action_row.planned_end) == (datetime.date(2026, 2, 1), datetime.date(2026, 4, 30))
    assert action_row.progress == 50 and action_row.progress_width == 33
    # 15 February is 14 of February's 28 days in: 44 + 1.5 * 22; the line ends with 31 March, at April's edge.
    assert action_row.actual_x == 77
    assert action_row.actual_width == 110 - 77
    assert (action_row.first_report, action_row.last_report) == (datetime.date(2026, 2, 15), datetime.date(2026, 3, 31))
    assert activity_row.first_report == datetime.date(2026, 2, 15)
    # 16 March: 44 + (2 + 15/31) * 22.
    assert calendar.today_x == pytest.approx(44 + (2 + 15 / 31) * 22)
    assert calendar.milestones[0].x == pytest.approx(44 + (7 + 28 / 31) * 22)
    assert [tick.month for tick in calendar.ticks[:3]] == ["gen", "feb", "mar"]
    assert [tick.year for tick in calendar.ticks if tick.year] == ["2026", "2027", "2028"]
    assert calendar.months == 36 and calendar.after_end_width == 0


def test_project_calendar_runs_on_to_a_milestone_past_the_end():
    project = ProjectFactory(start_date=datetime.date(2026, 1, 1), duration_months=36)
    calendar = project_calendar(
        project=project,
        activities=[],
        today=datetime.date(2029, 1, 20),
        milestones=[Milestone(label="SAL 6", day=datetime.date(2029, 2, 28))],
    )
    # The last SAL is due in the 38th month; the two months after the project are shaded.
    assert calendar.months == 38
    assert calendar.project_end_x == 44 + 36 * 22
    assert calendar.after_end_width == 2 * 22
    assert calendar.today_x is None
