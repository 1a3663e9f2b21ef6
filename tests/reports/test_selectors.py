import json

import pytest

from reports.models import ProgressReport
from reports.selectors import progress_report_document, progress_report_figures
from reports.services import progress_report_approve


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
    }
    assert headings["8. Indirect costs"]["verified"] == "100.00"
    partners = _by_label(finance["partners"])
    assert partners["Veneto"]["verified"] == "1100.00"
    assert partners["San Juan"]["verified"] == "250.55"
    assert finance["totals"]["verified"] == finance["totals"]["verified_in_period"] == "1350.55"
    # Indirect costs count up to 7 % of direct ones: 1,250.55 + 87.54 = 1,338.09 eligible; 80 % is 1,070.47.
    assert finance["eu_share_due"] == finance["eu_share_in_period"] == "1070.47"
    indirect = next(c for c in finance["checks"] if c["title"] == "Indirect costs verified")
    assert not indirect["ok"]
    # Flexibility: 1,250.55 verified in 6 of 36 months projects 7,503.30, 24.97 % under the contract's 10,000.00.
    version, projection = finance["checks"][-2:]
    assert (version["title"], version["ok"]) == ("Budget version 1 against the contract (version 1)", True)
    assert projection["title"] == "Spending projected to month 36 against the contract (version 1)"
    assert projection["figures"] == (
        "1. Human resources: -EUR 2,496.70 (-24.97 %), EUR 996.70 beyond the EUR 1,500.00 allowed"
    )
    assert finance["verified_by_month"] == ["0.00", "0.00", "1000.00", "0.00", "0.00", "350.55"]


def test_second_sal_separates_the_period_from_the_cumulative_figures(sal_world, django_capture_on_commit_callbacks):
    first = _draft(sal_world, sal_world.period1)
    with django_capture_on_commit_callbacks(execute=True):
        progress_report_approve(actor=sal_world.director, report=first, revision=first.revision)
    figures = progress_report_figures(_draft(sal_world, sal_world.period2))
    finance = figures["finance"]
    assert finance["totals"]["verified_in_period"] == "500.00"
    assert finance["totals"]["verified"] == "1850.55"
    # 1,750.55 direct + 100.00 indirect (under its 122.54 cap) = 1,850.55; 80 % = 1,480.44, of which 1,070.47 before.
    assert finance["eu_share_due"] == "1480.44"
    assert finance["eu_share_in_period"] == "409.97"
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
    assert indirect["figures"].startswith("EUR 100,00 = 8,00 % dei costi diretti EUR 1.250,55")


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
    # The indicators, their partners' values and the directors' measurements (3), the contract version (1).
    with django_assert_num_queries(21):
        progress_report_document(report)
