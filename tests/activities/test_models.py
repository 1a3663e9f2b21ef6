import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from activities.models import Action, Activity, IndicatorValue, ProgressEntry
from core.validators import NARRATIVE_MAX_CHARS, REVIEW_NOTE_MAX_CHARS
from tests.constraints import assert_db_refuses, assert_invalid
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    IndicatorFactory,
    PartnerFactory,
    ProgressEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_activity_numbers_are_unique_in_a_project():
    activity = ActivityFactory(number=1)
    assert_db_refuses(lambda: ActivityFactory(project=activity.project, number=1))


@pytest.mark.parametrize(
    "fields",
    [{"number": 0}, {"start_month": 0}, {"start_month": 10, "end_month": 9}],
    ids=["number-zero", "start-month-zero", "ends-before-start"],
)
def test_activity_numbering_and_months_are_checked_by_the_database(fields):
    assert_db_refuses(lambda: ActivityFactory(**fields))


def test_activity_cannot_outlast_the_project():
    activity = ActivityFactory.build(project=ActivityFactory().project, number=99, end_month=37)
    assert_invalid(activity, "end_month", "The project lasts 36 months.")


def test_activity_leader_must_be_a_partner_of_the_project():
    activity = ActivityFactory()
    activity.leader = PartnerFactory()
    assert_invalid(activity, "leader")


def test_action_numbers_are_unique_in_an_activity():
    action = ActionFactory(number=1)
    assert_db_refuses(lambda: ActionFactory(activity=action.activity, number=1))


def test_action_cannot_end_before_it_starts():
    assert_db_refuses(lambda: ActionFactory(start_month=5, end_month=4))


def test_action_stays_inside_its_activity():
    activity = ActivityFactory(start_month=4, end_month=12)
    action = Action(activity=activity, number=1, title="Early", start_month=3, end_month=13)
    assert_invalid(action, "start_month")
    assert_invalid(action, "end_month")


def test_indicator_target_is_positive_and_baseline_not_negative():
    assert_db_refuses(lambda: IndicatorFactory(target=Decimal("0")))
    assert_db_refuses(lambda: IndicatorFactory(baseline=Decimal("-1")))


def test_percent_complete_stays_within_0_and_100():
    assert_db_refuses(lambda: ProgressEntryFactory(percent_complete=101))
    entry = ProgressEntryFactory.build(action=ActionFactory(), author=UserFactory(), percent_complete=101)
    entry.partner = PartnerFactory(project=entry.action.activity.project)
    assert_invalid(entry, "percent_complete")


def test_approved_entry_has_its_reviewer():
    assert_db_refuses(lambda: ProgressEntryFactory(status=ProgressEntry.Status.APPROVED, reviewer=None))


def test_progress_date_falls_inside_the_project_period():
    # A project over by now, so that its last day is not in the future.
    action = ActionFactory(activity__project__start_date=datetime.date(2020, 1, 1))
    entry = ProgressEntryFactory.build(
        action=action,
        partner=PartnerFactory(project=action.activity.project),
        author=UserFactory(),
        date=datetime.date(2019, 12, 31),
    )
    assert_invalid(entry, "date", "The date must fall inside the project period")
    entry.date = datetime.date(2023, 1, 1)
    assert_invalid(entry, "date")
    entry.date = datetime.date(2022, 12, 31)
    entry.full_clean()


def test_progress_partner_must_take_part_in_the_project():
    entry = ProgressEntryFactory.build(action=ActionFactory(), partner=PartnerFactory(), author=UserFactory())
    assert_invalid(entry, "partner")


def test_indicator_values_are_not_negative_and_once_per_entry():
    entry = ProgressEntryFactory()
    indicator = IndicatorFactory(activity=entry.action.activity)
    assert_db_refuses(lambda: IndicatorValue.objects.create(entry=entry, indicator=indicator, value=Decimal("-1")))
    IndicatorValue.objects.create(entry=entry, indicator=indicator, value=Decimal("3"))
    assert_db_refuses(lambda: IndicatorValue.objects.create(entry=entry, indicator=indicator, value=Decimal("4")))


def test_indicator_value_belongs_to_the_entry_activity():
    entry = ProgressEntryFactory()
    value = IndicatorValue(entry=entry, indicator=IndicatorFactory(), value=Decimal("1"))
    assert_invalid(value, "indicator")


def test_activity_str_names_its_number():
    assert str(ActivityFactory(number=4, title="Formazione")) == "Activity 4: Formazione"
    assert Activity._meta.ordering == ["project", "number"]


def test_the_database_refuses_over_long_narratives_and_review_notes():
    entry = ProgressEntryFactory()
    entries = ProgressEntry.objects.filter(pk=entry.pk)
    assert_db_refuses(lambda: entries.update(narrative="x" * (NARRATIVE_MAX_CHARS + 1)))
    assert_db_refuses(lambda: entries.update(review_note="x" * (REVIEW_NOTE_MAX_CHARS + 1)))
    entries.update(narrative="ü" * NARRATIVE_MAX_CHARS, review_note="ü" * REVIEW_NOTE_MAX_CHARS)
    entry.refresh_from_db()
    entry.narrative += "!"
    assert_invalid(entry, "narrative", "at most 10,000 are allowed")


def test_the_database_keeps_one_entry_per_author_and_form_token():
    token = uuid.uuid4()
    entry = ProgressEntryFactory(form_token=token)
    assert_db_refuses(lambda: ProgressEntryFactory(author=entry.author, form_token=token))
    ProgressEntryFactory(form_token=token)
    ProgressEntryFactory(author=entry.author, form_token=None)
    ProgressEntryFactory(author=entry.author, form_token=None)


def test_a_progress_date_in_the_future_is_invalid_and_today_valid():
    today = timezone.localdate()
    action = ActionFactory(activity__project__start_date=today - datetime.timedelta(days=400))
    entry = ProgressEntryFactory.build(
        action=action,
        partner=PartnerFactory(project=action.activity.project),
        author=UserFactory(),
        date=today + datetime.timedelta(days=1),
    )
    assert_invalid(entry, "date", "The date cannot be in the future")
    entry.date = today
    entry.full_clean()
