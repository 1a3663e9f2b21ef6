import datetime
import json
from decimal import Decimal as D

import pytest

from finance.models import CostCategory
from finance.selectors import finance_overview
from reports.models import ProgressReport
from reports.selectors import money_at_a_glance, progress_report_document, progress_report_figures, project_overview
from tests.factories import (
    BudgetFactory,
    BudgetLineFactory,
    CostCategoryFactory,
    ExpenditureFactory,
    PartnerFactory,
    ProjectFactory,
    UserFactory,
)
from tests.factories import sal_approve as progress_report_approve


def _draft(world, period, language="en"):
    return ProgressReport.objects.create(period=period, language=language, created_by=world.director)


def _by_label(rows):
    return {row["label"]: row for row in rows}


def test_sal_progress_counts_only_approved_entries_up_to_the_period_end(sal_world):
    figures = progress_report_figures(_draft(sal_world, sal_world.period1))
    activity = figures["activities"][0]
    first, second = activity["actions"]
    assert (first["code"], first["progress"], first["expected"], first["late"]) == ("1.1", 60, 100, True)
    assert (second["code"], second["progress"], second["expected"], second["late"]) == ("1.2", 100, 100, False)
    assert (activity["progress"], activity["expected"], activity["late"]) == (80, 17, False)
    assert activity["indicators"] == [
        {
            "name": "Imprenditori formati",
            "unit": "persone",
            "baseline": "0.00",
            "target": "20.00",
            "achieved": "12.00",
            "percent": "60.0",
        }
    ]
    assert [(h["date"], h["percent"]) for h in activity["highlights"]] == [("2026-02-01", 40), ("2026-06-20", 60)]
    assert figures["period"] == {
        "number": 1,
        "start": "2026-01-01",
        "end": "2026-06-30",
        "due_date": "2026-08-29",
        "first_month": 1,
        "last_month": 6,
    }


def test_sal_money_is_verified_costs_in_the_period_and_to_its_end_with_the_eu_share(sal_world):
    finance = progress_report_figures(_draft(sal_world, sal_world.period1))["finance"]
    headings = _by_label(finance["headings"])
    assert headings["1. Human resources"] == {
        "label": "1. Human resources",
        "budget": "10000.00",
        "verified_in_period": "1250.55",
        "verified_earlier_periods": "0.00",
        "verified": "1250.55",
        "percent": "12.5",
        "subtotal": False,
    }
    # Indirect costs are the flat rate of the lead's verified direct costs: 7 % of 1,000.00 (San Juan has no
    # indirect budget, so none).
    assert headings["10. Indirect costs"]["verified"] == "70.00"
    assert [(row["label"].split(".")[0], row["verified"], row["subtotal"]) for row in finance["headings"]] == [
        ("1", "1250.55", False),
        ("7", "1250.55", True),
        ("9", "1250.55", True),
        ("10", "70.00", False),
        ("11", "1320.55", True),
    ]
    partners = _by_label(finance["partners"])
    assert partners["Veneto"]["verified"] == "1070.00"
    assert partners["San Juan"]["verified"] == "250.55"
    assert finance["totals"]["verified"] == finance["totals"]["verified_in_period"] == "1320.55"
    # 1,250.55 + 70.00 = 1,320.55 eligible; 80 % is 1,056.44.
    assert finance["eu_share_due"] == finance["eu_share_in_period"] == "1056.44"
    indirect = next(c for c in finance["checks"] if c["title"] == "Indirect costs verified")
    assert indirect["ok"]
    assert finance["indirect_rate_percent"] == "7.0"
    assert finance["verified_by_month"] == ["0.00", "0.00", "1000.00", "0.00", "0.00", "250.55"]
    # Flexibility: 1,250.55 verified in 6 of 36 months projects 7,503.30, 24.97 % under the contract's 10,000.00.
    version, projection = finance["checks"][-2:]
    assert (version["title"], version["ok"]) == ("Budget version 1 against the contract (version 1)", True)
    assert projection["title"] == "Spending projected to month 36 against the contract (version 1)"
    assert projection["figures"] == (
        "1. Human resources: -EUR 2,496.70 (-24.97 %), EUR 996.70 beyond the EUR 1,500.00 allowed"
    )


def test_second_sal_separates_the_period_from_the_cumulative_figures(sal_world, django_capture_on_commit_callbacks):
    first = _draft(sal_world, sal_world.period1)
    with django_capture_on_commit_callbacks(execute=True):
        progress_report_approve(actor=sal_world.director, report=first, revision=first.revision)
    figures = progress_report_figures(_draft(sal_world, sal_world.period2))
    finance = figures["finance"]
    # July's 500.00 and the lead's flat rate on it, 35.00.
    assert finance["totals"]["verified_in_period"] == "535.00"
    assert finance["totals"]["verified"] == "1855.55"
    # 1,750.55 direct + 105.00 indirect (7 % of the lead's 1,500.00) = 1,855.55; 80 % = 1,484.44, of which 1,056.44
    # before: 428.00 = 80 % of 535.00.
    assert finance["eu_share_due"] == "1484.44"
    assert finance["eu_share_in_period"] == "428.00"
    assert figures["activities"][0]["actions"][0]["progress"] == 90


def test_sal_says_what_is_still_pending_at_the_period_end(sal_world):
    assert progress_report_figures(_draft(sal_world, sal_world.period1))["pending"] == {
        "entries_submitted": 1,
        "entries_returned": 1,
        "entries_draft": 0,
        "expenses_submitted": 1,
        "expenses_submitted_eur": "300.00",
        "expenses_returned": 1,
        "expenses_returned_eur": "40.00",
        "expenses_draft": 1,
    }


def test_sal_figures_are_plain_json_in_the_report_language(sal_world):
    figures = progress_report_figures(_draft(sal_world, sal_world.period1, language="it"))
    assert json.loads(json.dumps(figures)) == figures
    indirect = next(check for check in figures["finance"]["checks"] if check["title"] == "Costi indiretti verificati")
    assert indirect["figures"].startswith("EUR 70,00 = 5,60 % dei costi diretti EUR 1.250,55")


def test_approved_sal_document_is_read_from_its_snapshot(sal_world, django_assert_num_queries):
    report = _draft(sal_world, sal_world.period1)
    report.snapshot = progress_report_figures(report)
    report.status = ProgressReport.Status.APPROVED
    with django_assert_num_queries(0):
        document = progress_report_document(report)
    assert document["figures"] is report.snapshot
    [(_activity, gantt)] = document["activities"]
    assert [row.label for row in gantt.rows] == ["1.1", "1.2"]
    assert gantt.rows[0].late and not gantt.rows[1].late


@pytest.mark.parametrize("grow", [1, 10])
def test_sal_figures_take_the_same_queries_whatever_the_data(sal_world, django_assert_num_queries, grow):
    from tests.factories import ActionFactory, ExpenditureFactory, ProgressEntryFactory

    for index in range(grow):
        action = ActionFactory(activity=sal_world.action.activity, number=10 + index)
        ProgressEntryFactory(action=action, partner=sal_world.lead, status="approved", reviewer=sal_world.director)
        ExpenditureFactory(partner=sal_world.sanjuan, status="verified", reviewer=sal_world.director)
    report = _draft(sal_world, sal_world.period1)
    # The indicators' values (3), the expenses summed once for every money table and the months, with the
    # headings' kinds (2), the indirect budget lines (1), the contract version (1), the report's facts and
    # sections (2), the exchange rates used (1);
    # the financial report: its variance explanations, the EU payments, the contracts above EUR 10,000 (3).
    with django_assert_num_queries(25):
        progress_report_document(report)


@pytest.mark.django_db
def test_home_and_overview_count_indirect_costs_at_the_flat_rate_as_the_finance_overview_does():
    project = ProjectFactory()
    budget = BudgetFactory(project=project, total_eligible_cost=D("10500.00"), eu_contribution=D("8400.00"))
    direct = CostCategoryFactory(code=1, name="Human resources")
    indirect = CostCategoryFactory(code=10, name="Indirect costs", kind=CostCategory.Kind.INDIRECT)
    partner, idle = PartnerFactory(project=project), PartnerFactory(project=project)
    BudgetLineFactory(budget=budget, partner=partner, category=direct, amount=D("10000.00"))
    BudgetLineFactory(budget=budget, partner=partner, category=indirect, amount=D("500.00"))
    for amount, status in (("1000.00", "verified"), ("10.00", "submitted"), ("99.00", "draft")):
        ExpenditureFactory(
            partner=partner,
            category=direct,
            amount=D(amount),
            amount_eur=D(amount),
            status=status,
            reviewer=UserFactory() if status == "verified" else None,
        )
    # 7 % of the 1,000.00 verified is 70.00, of the 1,010.00 declared 70.70; the EU's 80 % of 1,070.00 is 856.00.
    finance = finance_overview(project=project, partner=None, today=datetime.date(2026, 6, 1))
    money = money_at_a_glance(project=project)
    assert (money["declared"], money["verified"], money["eu_share_due"]) == (D("1080.70"), D("1070.00"), D("856.00"))
    assert (finance.totals.declared, finance.totals.verified, finance.eu_share_due) == (
        money["declared"],
        money["verified"],
        money["eu_share_due"],
    )
    overview = project_overview(project=project)
    assert (overview.declared_eur, overview.verified_eur) == (D("1080.70"), D("1070.00"))
    assert {p: (p.budget_amount, p.declared_eur, p.verified_eur) for p in overview.partners} == {
        partner: (D("10500.00"), D("1080.70"), D("1070.00")),
        idle: (0, 0, 0),
    }
