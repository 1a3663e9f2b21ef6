"""Each verified expense is reported once, by the first SAL approved after its verification."""

import datetime
import importlib
import threading
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction

from finance.models import Expenditure
from finance.services import expenditure_verify
from reports.models import ProgressReport, ReportedExpenditure
from reports.selectors import progress_report_document, progress_report_figures
from reports.services import progress_report_create
from tests.factories import sal_approve as progress_report_approve


def _approve(world, period, django_capture_on_commit_callbacks) -> ProgressReport:
    # Each SAL is prepared and approved on its due date, after its period.
    report = progress_report_create(actor=world.director, period=period, language="en", today=period.due_date)
    with django_capture_on_commit_callbacks(execute=True):
        return progress_report_approve(
            actor=world.director, report=report, revision=report.revision, today=period.due_date
        )


def _reported(report):
    return sorted(report.reported_expenses.values_list("expenditure__amount_eur", flat=True))


def _by_label(rows):
    return {row["label"]: row for row in rows}


def headings_of(finance):
    return _by_label(finance["headings"])


@pytest.fixture
def late_expense(sal_world):
    """San Juan's EUR 300.00 of 1 April 2026, still submitted while SAL 1 is prepared."""
    return Expenditure.objects.get(partner=sal_world.sanjuan, status=Expenditure.Status.SUBMITTED)


def test_an_expense_verified_after_sal_1_is_reported_by_sal_2_as_from_earlier_periods(
    sal_world, late_expense, django_capture_on_commit_callbacks
):
    first = _approve(sal_world, sal_world.period1, django_capture_on_commit_callbacks)
    frozen = first.snapshot["finance"]
    # 1,250.55 direct costs and the lead's indirect costs, 7 % of its 1,000.00: 70.00.
    assert frozen["totals"]["verified_in_period"] == frozen["totals"]["verified"] == "1320.55"
    assert frozen["eu_share_in_period"] == "1056.44"

    expenditure_verify(actor=sal_world.director, expenditure=late_expense, checklist=Expenditure.CHECKLIST)
    finance = progress_report_figures(
        ProgressReport.objects.create(period=sal_world.period2, language="en", created_by=sal_world.director)
    )["finance"]

    # In SAL 2: July's 500.00 and April's 300.00, the latter from earlier periods, and the lead's flat rate
    # on its 500.00: 7 % of 1,500.00 less the 70.00 of SAL 1, 35.00 (San Juan has no indirect budget).
    assert finance["totals"]["verified_in_period"] == "835.00"
    assert finance["totals"]["verified_earlier_periods"] == "300.00"
    # 1,320.55 reported by SAL 1 + 835.00 = 2,155.55, which SAL 1 + SAL 2 in the period add up to.
    assert finance["totals"]["verified"] == "2155.55"
    assert headings_of(finance)["10. Indirect costs"]["verified_in_period"] == "35.00"
    headings = _by_label(finance["headings"])
    assert headings["1. Human resources"]["verified_in_period"] == "800.00"
    assert headings["1. Human resources"]["verified_earlier_periods"] == "300.00"
    assert headings["1. Human resources"]["verified"] == "2050.55"
    partners = _by_label(finance["partners"])
    assert (partners["San Juan"]["verified_in_period"], partners["San Juan"]["verified_earlier_periods"]) == (
        "300.00",
        "300.00",
    )
    assert partners["San Juan"]["verified"] == "550.55"
    assert (partners["Veneto"]["verified_in_period"], partners["Veneto"]["verified_earlier_periods"]) == (
        "535.00",
        "0.00",
    )
    # 2,050.55 direct + 105.00 flat-rate indirect = 2,155.55; 80 % = 1,724.44, of which 1,056.44
    # was SAL 1's: 668.00 in SAL 2, and 1,056.44 + 668.00 = 1,724.44.
    assert finance["eu_share_due"] == "1724.44"
    assert finance["eu_share_in_period"] == "668.00"
    first.refresh_from_db()
    assert first.snapshot["finance"] == frozen


def test_approval_records_what_each_sal_reports_once(sal_world, late_expense, django_capture_on_commit_callbacks):
    first = _approve(sal_world, sal_world.period1, django_capture_on_commit_callbacks)
    assert _reported(first) == [Decimal("250.55"), Decimal("1000.00")]
    expenditure_verify(actor=sal_world.director, expenditure=late_expense, checklist=Expenditure.CHECKLIST)
    second = _approve(sal_world, sal_world.period2, django_capture_on_commit_callbacks)
    assert _reported(second) == [Decimal("300.00"), Decimal("500.00")]
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportedExpenditure.objects.create(report=second, expenditure=late_expense)


def test_in_period_figures_of_sal_1_to_n_add_up_to_sal_ns_cumulative(
    sal_world, late_expense, django_capture_on_commit_callbacks
):
    first = _approve(sal_world, sal_world.period1, django_capture_on_commit_callbacks)
    expenditure_verify(actor=sal_world.director, expenditure=late_expense, checklist=Expenditure.CHECKLIST)
    second = _approve(sal_world, sal_world.period2, django_capture_on_commit_callbacks)
    sals = [first.snapshot["finance"], second.snapshot["finance"]]
    for n in range(1, len(sals) + 1):
        cumulative = sals[n - 1]
        assert sum(Decimal(s["totals"]["verified_in_period"]) for s in sals[:n]) == Decimal(
            cumulative["totals"]["verified"]
        )
        assert sum(Decimal(s["eu_share_in_period"]) for s in sals[:n]) == Decimal(cumulative["eu_share_due"])
        for key in ("headings", "partners"):
            rows = [_by_label(s[key]) for s in sals[:n]]
            for label, row in _by_label(cumulative[key]).items():
                in_periods = sum(Decimal(r[label]["verified_in_period"]) for r in rows if label in r)
                assert in_periods == Decimal(row["verified"]), (key, label)
    assert (sals[1]["totals"]["verified"], sals[1]["eu_share_due"]) == ("2155.55", "1724.44")


def test_a_correcting_version_reports_again_what_its_period_reported(
    sal_world, late_expense, django_capture_on_commit_callbacks
):
    _approve(sal_world, sal_world.period1, django_capture_on_commit_callbacks)
    expenditure_verify(actor=sal_world.director, expenditure=late_expense, checklist=Expenditure.CHECKLIST)
    correction = _approve(sal_world, sal_world.period1, django_capture_on_commit_callbacks)
    finance = correction.snapshot["finance"]
    # Version 2 reports version 1's 1,320.55 and, first approved after its verification, April's 300.00.
    assert finance["totals"]["verified_in_period"] == finance["totals"]["verified"] == "1620.55"
    assert finance["totals"]["verified_earlier_periods"] == "0.00"
    assert correction.reported_expenses.get().expenditure == late_expense
    later = progress_report_figures(
        ProgressReport.objects.create(period=sal_world.period2, language="en", created_by=sal_world.director)
    )["finance"]
    # July's 500.00 and the lead's flat rate on it, 35.00.
    assert (later["totals"]["verified_in_period"], later["totals"]["verified"]) == ("535.00", "2155.55")


def test_a_snapshot_of_schema_1_still_renders_without_the_earlier_periods_column(
    client, sal_world, django_capture_on_commit_callbacks
):
    report = _approve(sal_world, sal_world.period1, django_capture_on_commit_callbacks)
    client.force_login(sal_world.director)
    assert "from earlier periods" in client.get(f"/sal/{report.pk}/").content.decode()
    snapshot = report.snapshot
    snapshot["schema"] = 1
    del snapshot["finance"]["totals"]["verified_earlier_periods"]
    for key in ("headings", "partners"):
        for row in snapshot["finance"][key]:
            del row["verified_earlier_periods"]
    ProgressReport.objects.filter(pk=report.pk).update(snapshot=snapshot)
    page = client.get(f"/sal/{report.pk}/").content.decode()
    assert "1,320.55" in page or "1.320,55" in page
    assert "from earlier periods" not in page
    report.refresh_from_db()
    assert progress_report_document(report)["figures"]["schema"] == 1


def test_sals_approved_before_the_rows_existed_get_them_by_approval_order(
    sal_world, late_expense, django_capture_on_commit_callbacks
):
    backfill = importlib.import_module("reports.migrations.0006_reported_expenditure_backfill")
    first = _approve(sal_world, sal_world.period1, django_capture_on_commit_callbacks)
    expenditure_verify(actor=sal_world.director, expenditure=late_expense, checklist=Expenditure.CHECKLIST)
    second = _approve(sal_world, sal_world.period2, django_capture_on_commit_callbacks)
    ReportedExpenditure.objects.all().delete()
    # San Juan's April expense was verified after SAL 1's approval: it goes to SAL 2.
    Expenditure.objects.filter(pk=late_expense.pk).update(reviewed_at=first.approved_at + datetime.timedelta(days=1))
    ProgressReport.objects.filter(pk=second.pk).update(approved_at=first.approved_at + datetime.timedelta(days=2))

    backfill.record_what_approved_sals_reported(django_apps, None)

    assert _reported(first) == [Decimal("250.55"), Decimal("1000.00")]
    assert _reported(second) == [Decimal("300.00"), Decimal("500.00")]


@pytest.mark.django_db(transaction=True)
def test_an_expense_verified_while_the_sal_is_approved_is_in_its_snapshot_only_if_it_reports_it(
    sal_world, late_expense
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; the row locks are what PostgreSQL must show")
    draft = progress_report_create(actor=sal_world.director, period=sal_world.period1, language="en")
    barrier, errors = threading.Barrier(2), []

    def run(write):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            write()
        except Exception as error:  # reported to the main thread, which fails the test
            errors.append(error)
        finally:
            thread_connection.close()

    writes = [
        lambda: progress_report_approve(actor=sal_world.director, report=draft, revision=draft.revision),
        lambda: expenditure_verify(
            actor=sal_world.director,
            expenditure=Expenditure.objects.get(pk=late_expense.pk),
            checklist=Expenditure.CHECKLIST,
        ),
    ]
    threads = [threading.Thread(target=run, args=(write,)) for write in writes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    draft.refresh_from_db()
    in_snapshot = draft.snapshot["finance"]["totals"]["verified_in_period"]
    reported = draft.reported_expenses.filter(expenditure=late_expense).exists()
    # Either SAL 1 reports the 300.00 (1,320.55 + 300.00) and records it, or neither, and SAL 2 will.
    assert (in_snapshot, reported) in (("1620.55", True), ("1320.55", False))
