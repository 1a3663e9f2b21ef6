import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from activities.models import Indicator, IndicatorMeasurement, IndicatorValue, Objective, TargetGroup
from activities.selectors import indicators_with_achievement, logframe_get
from cocap_data.seed import cocap_load
from core.formatters import plain_number
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    IndicatorFactory,
    PartnerFactory,
    ProgressEntryFactory,
    ProjectFactory,
    director_of,
    logframe_of,
    observer_of,
    staff_of,
)

pytestmark = pytest.mark.django_db


def test_the_seed_loads_each_objective_and_target_group_word_for_word_as_its_own_item():
    project = cocap_load(start_date=datetime.date(2026, 1, 1))
    cocap_load(start_date=datetime.date(2026, 1, 1))  # loading twice adds nothing
    overall = Objective.objects.filter(project=project, kind="overall")
    specific = Objective.objects.filter(project=project, kind="specific").order_by("number")
    assert [o.text for o in overall] == [
        "rafforzare, nei territori dell'America Latina interessati, la coesione sociale attraverso il "
        "miglioramento delle catene produttive delle piccole e medie imprese"
    ]
    assert [o.text for o in specific] == [
        "il rafforzamento del vincolo fra le istituzioni ed il territorio",
        "lo sviluppo del capitale sociale attraverso le politiche di sviluppo locale delle PMI, tenendo conto del "
        "modello innovativo realizzato nel Veneto",
    ]
    assert list(TargetGroup.objects.filter(project=project).values_list("name", flat=True)) == [
        "piccole e medie imprese",
        "micro e piccole imprese",
        "imprenditori, esperti, centri di ricerca e scuole tecniche",
    ]
    # The description gives no expected result and no value: nothing is invented.
    assert not project.objectives.filter(results__isnull=False).exists()
    trained = Indicator.objects.get(activity__project=project, activity__number=4)
    assert (trained.baseline, trained.target, trained.cumulative) == (0, 20, True)
    assert not trained.values.exists() and not trained.measurements.exists()


def _indicator_with_values(cumulative, values):
    activity = ActivityFactory()
    partner = PartnerFactory(project=activity.project)
    action = ActionFactory(activity=activity, responsible=partner)
    indicator = IndicatorFactory(activity=activity, baseline=Decimal("4"), target=Decimal("24"), cumulative=cumulative)
    author, reviewer = staff_of(partner), director_of(activity.project)
    for day, value in values:
        entry = ProgressEntryFactory(
            action=action, partner=partner, author=author, date=day, status="approved", reviewer=reviewer
        )
        IndicatorValue.objects.create(entry=entry, indicator=indicator, value=value)
    # A value still waiting for review does not count.
    draft = ProgressEntryFactory(action=action, partner=partner, author=author, date=datetime.date(2026, 3, 1))
    IndicatorValue.objects.create(entry=draft, indicator=indicator, value=Decimal("99"))
    return indicator


def test_a_cumulative_indicator_achieves_its_latest_value_measured_from_the_baseline():
    indicator = _indicator_with_values(
        True, [(datetime.date(2026, 1, 10), Decimal("10")), (datetime.date(2026, 2, 10), Decimal("14"))]
    )
    [indicator] = indicators_with_achievement([indicator])
    # (14 - 4) / (24 - 4) = 10 / 20 = 50 %, not 14 / 24 = 58.3 %.
    assert (indicator.achieved, indicator.percent) == (Decimal("14"), Decimal("50.0"))
    [until_january] = indicators_with_achievement([indicator], until=datetime.date(2026, 1, 31))
    # (10 - 4) / 20 = 30 %.
    assert (until_january.achieved, until_january.percent) == (Decimal("10"), Decimal("30.0"))


def test_a_non_cumulative_indicator_adds_its_values_to_the_baseline():
    indicator = _indicator_with_values(
        False, [(datetime.date(2026, 1, 10), Decimal("3")), (datetime.date(2026, 2, 10), Decimal("5"))]
    )
    [indicator] = indicators_with_achievement([indicator], period_start=datetime.date(2026, 2, 1))
    # 4 + 3 + 5 = 12 achieved; (12 - 4) / 20 = 40 %; the period from 1 February reports 5.
    assert (indicator.achieved, indicator.percent, indicator.period_value) == (
        Decimal("12"),
        Decimal("40.0"),
        Decimal("5"),
    )


def test_quantities_show_without_exponent_or_trailing_zeros():
    assert [plain_number(Decimal(v)) for v in ("2E+1", "20.00", "2.50", "0")] == ["20", "20", "2.5", "0"]


@pytest.fixture
def logframe_world():
    project = ProjectFactory()
    partner = PartnerFactory(project=project)
    activity = ActivityFactory(project=project, number=1, leader=partner)
    director = director_of(project)
    indicator = logframe_of(project, activity=activity, recorded_by=director)
    return project, partner, activity, director, indicator


def test_every_member_reads_the_logframe_with_the_same_queries_whatever_its_size(
    client, logframe_world, django_assert_num_queries
):
    project, partner, activity, director, _indicator = logframe_world
    client.force_login(staff_of(partner))
    url = reverse("activities:logframe")
    with django_assert_num_queries(15) as first:
        page = client.get(url)
    assert page.status_code == 200
    logframe = page.context["logframe"]
    [specific] = logframe.specific
    # 2 of 8 institutions from a baseline of 0: 25 %.
    assert (specific.indicator_list[0].achieved, specific.indicator_list[0].percent) == (Decimal("2"), Decimal("25.0"))
    assert specific.result_list[0].activity_list == [activity]
    assert "Edit" not in page.content.decode()
    for number in range(2, 12):
        objective = Objective.objects.create(project=project, kind="specific", number=number, text=f"OS {number}")
        more = Indicator.objects.create(objective=objective, name="n", unit="u", target=5, cumulative=False)
        IndicatorMeasurement.objects.create(indicator=more, date=project.start_date, value=1, recorded_by=director)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


def test_only_directors_edit_the_logframe(client, logframe_world):
    project, partner, activity, director, indicator = logframe_world
    new_indicator = reverse("activities:logframe-create", args=["indicator"])
    fields = {"activity": activity.pk, "name": "Seminari", "unit": "seminari", "baseline": "0", "target": "4"}
    for user in (staff_of(partner), observer_of(project)):
        client.force_login(user)
        assert client.get(new_indicator).status_code == 403
        assert client.post(new_indicator, {**fields, "cumulative": "True"}).status_code == 403
    assert not Indicator.objects.filter(name="Seminari").exists()

    client.force_login(director)
    # Whether the values add up must be said: no default.
    page = client.post(new_indicator, fields)
    assert page.status_code == 200 and page.context["form"].errors["cumulative"]
    assert not Indicator.objects.filter(name="Seminari").exists()
    # Measuring two items at once is refused with the rule's message.
    page = client.post(new_indicator, {**fields, "objective": indicator.objective_id, "cumulative": "True"})
    assert "exactly one objective, result or activity" in page.content.decode()
    assert not Indicator.objects.filter(name="Seminari").exists()
    assert client.post(new_indicator, {**fields, "cumulative": "True"}).status_code == 302
    assert Indicator.objects.get(name="Seminari").activity == activity

    value_url = reverse("activities:measurement-create", args=[indicator.pk])
    assert client.post(value_url, {"date": project.start_date.isoformat(), "value": "5"}).status_code == 200
    day = project.start_date + datetime.timedelta(days=1)
    assert client.post(value_url, {"date": day.isoformat(), "value": "5"}).status_code == 302
    assert IndicatorMeasurement.objects.get(indicator=indicator, date=day).recorded_by == director


def test_another_projects_logframe_item_answers_404(client, logframe_world):
    _project, _partner, _activity, director, _indicator = logframe_world
    other = ProjectFactory(code="other")
    other_indicator = logframe_of(other, activity=ActivityFactory(project=other), recorded_by=director_of(other))
    client.force_login(director)
    assert client.get(reverse("activities:logframe-edit", args=["indicator", other_indicator.pk])).status_code == 404
    assert client.get(reverse("activities:measurement-create", args=[other_indicator.pk])).status_code == 404
    assert client.get(reverse("activities:logframe-create", args=["nothing"])).status_code == 404


def test_the_logframe_selector_places_every_item(logframe_world):
    project, _partner, _activity, _director, _indicator = logframe_world
    logframe = logframe_get(project=project)
    assert [o.text for o in logframe.overall] == ["Coesione sociale"]
    assert [g.name for g in logframe.target_groups] == ["piccole e medie imprese"]
    assert logframe.unlinked_activities == []
