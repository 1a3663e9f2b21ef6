import datetime

import pytest
from django.urls import reverse

from cocap_data.seed import cocap_load
from tests.factories import ActionFactory, ActivityFactory, ProgressEntryFactory, director_of, observer_of, staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def cocap():
    return cocap_load(start_date=datetime.date(2026, 1, 1))


def test_schedule_shows_every_action_with_the_sal_due_dates(client, cocap):
    lead = cocap.partners.get()
    action = cocap.activities.get(number=1).actions.get(number=1)
    ProgressEntryFactory(
        action=action,
        partner=lead,
        date=datetime.date(2026, 2, 15),
        percent_complete=40,
        status="approved",
        reviewer=director_of(cocap),
    )
    client.force_login(staff_of(lead))

    response = client.get(reverse("reports:schedule"))

    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('class="calendar-chart" role="img"') == 1
    rows = response.context["calendar"].rows
    assert len(rows) == cocap.activities.count() + sum(a.actions.count() for a in cocap.activities.all())
    assert "15/02/2026" in content and "1.1 · 40 %" in content
    # SAL 1 covers months 1-6 and is due 60 days after 30 June.
    assert "SAL 1 due: 29/08/2026" in content
    assert 'aria-labelledby="calendar-title calendar-desc"' in content
    assert '<a class="nav-link" href="/schedule/" aria-current="page">' in content


def test_schedule_writes_months_in_the_users_language(client, cocap):
    client.force_login(observer_of(cocap))
    client.cookies["django_language"] = "it"
    content = client.get(reverse("reports:schedule"), headers={"accept-language": "it"}).content.decode()
    assert ">gen<" in content and ">dic<" in content
    assert "1 gennaio 2026" in content and "31 dicembre 2028" in content


def test_schedule_query_count_does_not_grow_with_activities(client, django_assert_num_queries, cocap):
    client.force_login(director_of(cocap))
    client.get(reverse("reports:schedule"))
    activity = ActivityFactory(project=cocap, number=11, start_month=3, end_month=9)
    ActionFactory.create_batch(3, activity=activity, start_month=3, end_month=9)
    with django_assert_num_queries(9):
        response = client.get(reverse("reports:schedule"))
    assert response.status_code == 200
