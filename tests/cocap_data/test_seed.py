import datetime
import itertools
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from activities.models import Action, Activity, Indicator
from cocap_data.seed import ACTIVITIES
from finance.models import Budget, BudgetLine, ContingencyAuthorisation, CostCategory, ExchangeRate, Expenditure
from partners.models import GoverningBody, Membership, Organisation, Partner, Project
from reports.models import ReportingPeriod

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 1, 1)


def _counts():
    models = [Project, Organisation, Partner, Activity, Action, Indicator, GoverningBody, CostCategory, Budget]
    models += [BudgetLine, ReportingPeriod, ExchangeRate, Expenditure, Membership]
    return {model.__name__: model.objects.count() for model in models}


def test_loads_the_ten_activities_of_the_seed():
    call_command("load_cocap", start_date=START)
    project = Project.objects.get(code="cocap")
    assert project.programme == "URB-AL III"
    assert project.duration_months == 36
    assert project.start_date == START
    activities = Activity.objects.filter(project=project)
    assert activities.count() == 10
    assert activities.filter(kind=Activity.Kind.OPERATIVE).count() == 8
    assert list(activities.filter(kind=Activity.Kind.TRANSVERSAL).values_list("title", flat=True)) == [
        "Direzione del progetto",
        "Monitoraggio del progetto",
    ]


def test_loads_every_action_verbatim_with_the_encoding_repaired():
    call_command("load_cocap", start_date=START)
    assert Action.objects.count() == sum(len(actions) for *_, actions in ACTIVITIES) == 34
    for number, _kind, _title, _description, actions in ACTIVITIES:
        loaded = list(Action.objects.filter(activity__number=number).order_by("number").values_list("title", flat=True))
        assert loaded == actions
    assert Action.objects.filter(title="identificazione di uno o più casi pilota").exists()
    assert Activity.objects.get(number=6).description.startswith("Un sistema logistico efficiente è presupposto")
    texts = list(Action.objects.values_list("title", flat=True)) + list(
        Activity.objects.values_list("description", flat=True)
    )
    assert not [text for text in texts if "č" in text or "ů" in text or "  " in text]


def test_loads_the_lead_partner_budget_and_indicators_exact_to_the_cent():
    call_command("load_cocap", start_date=START)
    lead = Partner.objects.get(role=Partner.Role.LEAD)
    assert lead.organisation.name == "Regione del Veneto"
    budget = Budget.objects.get(is_current=True)
    assert budget.total_eligible_cost == Decimal("3087005.13")
    assert budget.eu_contribution == Decimal("2469604.10")
    assert budget.eu_max_rate == Decimal("0.8000")
    assert budget.co_financing == Decimal("617401.03")
    assert Indicator.objects.get(activity__number=4).target == Decimal("20")
    # The Annex III headings that hold money, numbered by their line: 7, 9 and 11 are computed.
    assert list(CostCategory.objects.values_list("code", "kind")) == [
        *((code, "direct") for code in range(1, 7)),
        (8, "contingency"),
        (10, "indirect"),
    ]
    assert set(GoverningBody.objects.values_list("name", flat=True)) == {
        "Direttore istituzionale",
        "Direttore operativo",
        "Backstopping locale",
        "Comitato tecnico-scientifico",
    }


def test_loads_six_reporting_periods_of_six_months():
    call_command("load_cocap", start_date=START)
    periods = list(ReportingPeriod.objects.order_by("number"))
    assert len(periods) == 6
    assert (periods[0].start, periods[0].end) == (START, datetime.date(2026, 6, 30))
    assert periods[-1].end == datetime.date(2028, 12, 31)
    gaps = {later.start - earlier.end for earlier, later in itertools.pairwise(periods)}
    assert gaps == {datetime.timedelta(days=1)}


def test_loading_twice_changes_nothing(settings):
    settings.DEBUG = True
    call_command("load_cocap", start_date=START, demo=True)
    first = _counts()
    call_command("load_cocap", start_date=START, demo=True)
    assert _counts() == first


def test_demo_budget_adds_up_exactly_to_the_totals(settings):
    settings.DEBUG = True
    call_command("load_cocap", start_date=START, demo=True)
    budget = Budget.objects.get(is_current=True)
    assert budget.lines.aggregate(total=Sum("amount"))["total"] == Decimal("3087005.13")
    by_kind = dict(budget.lines.order_by().values_list("category__kind").annotate(total=Sum("amount")))
    # Per partner: contingency within 5 % of its direct costs, indirect within 7 % of direct and contingency.
    assert by_kind["contingency"] <= by_kind["direct"] * budget.contingency_cap
    assert by_kind["indirect"] <= (by_kind["direct"] + by_kind["contingency"]) * budget.indirect_cap
    for partner in Partner.objects.all():
        mine = dict(partner.budget_lines.order_by().values_list("category__kind").annotate(total=Sum("amount")))
        assert mine["indirect"] <= (mine["direct"] + mine["contingency"]) * budget.indirect_cap


def test_demo_declares_no_indirect_costs_and_spends_contingency_only_as_authorised(settings):
    settings.DEBUG = True
    call_command("load_cocap", start_date=START, demo=True)
    assert not Expenditure.objects.filter(category__kind="indirect").exists()
    [authorisation] = ContingencyAuthorisation.objects.all()
    assert authorisation.reference.startswith("DEMO") and authorisation.note.startswith("[demo]")
    spent = Expenditure.objects.filter(category__kind="contingency").aggregate(total=Sum("amount_eur"))["total"]
    assert spent == Decimal("1200.00") <= authorisation.amount


def test_demo_data_is_labelled_and_covers_every_role(settings, capsys):
    settings.DEBUG = True
    call_command("load_cocap", start_date=START, demo=True)
    output = capsys.readouterr().out
    assert "demo-director" in output and "cocap-demo-2026" in output
    assert set(Organisation.objects.filter(is_demo=True).values_list("country", flat=True)) == {"AR", "BR", "PY", "IT"}
    assert not Organisation.objects.get(name="Regione del Veneto").is_demo
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {"partner_staff", "director", "observer"}
    assert Expenditure.objects.exclude(currency="EUR").exists()
    assert all(e.description.startswith("[demo]") for e in Expenditure.objects.all())


def test_demo_is_refused_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_cocap", start_date=START, demo=True)
    assert not Project.objects.exists()
