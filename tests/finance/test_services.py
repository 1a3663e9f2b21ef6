import datetime
import io
import uuid
import zipfile
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from core.services import AlreadySaved
from core.uploads import upload_check
from finance import services
from finance.exports import budget_annex_xlsx
from finance.models import Budget, BudgetLine, ContingencyAuthorisation, EUPayment, ExchangeRate, Expenditure, Receipt
from finance.selectors import budget_annex
from tests.factories import (
    ActivityFactory,
    BudgetFactory,
    BudgetLineFactory,
    CostCategoryFactory,
    ExchangeRateFactory,
    ExpenditureFactory,
    PartnerFactory,
    ProjectFactory,
    UserFactory,
    director_of,
    observer_of,
    staff_of,
)
from tests.files import upload

pytestmark = pytest.mark.django_db
MARCH = datetime.date(2026, 3, 17)


def _declare(partner, amount, actor=None, day=MARCH, category=None, **fields):
    """Declare an expense with what a submission needs: supplier, document number and a receipt."""
    complete = {
        "supplier": "Catering Sur",
        "document_ref": "F-1",
        "receipts": [upload_check(upload("invoice.pdf"))],
    }
    return services.expenditure_create(
        actor=actor or staff_of(partner),
        partner=partner,
        category=category or CostCategoryFactory(),
        date_incurred=day,
        description="Seminar catering",
        amount=Decimal(amount),
        **{**complete, **fields},
    )


@pytest.mark.parametrize(
    ("currency", "rate", "amount", "eur"),
    [
        ("ARS", "1523.456789", "1000000.00", "656.40"),
        ("BRL", "6.2500", "100.01", "16.00"),
        ("BRL", "6.2500", "100.03", "16.00"),
        ("BRL", "6.2500", "100.04", "16.01"),
        ("PYG", "8235.5", "4117750.00", "500.00"),
        ("PYG", "8235.5", "41.18", "0.01"),
        ("UYU", "46.8", "1000.00", "21.37"),
    ],
)
def test_local_currency_is_converted_at_the_month_rate_to_the_cent(currency, rate, amount, eur):
    partner = PartnerFactory(currency=currency)
    ExchangeRateFactory(currency=currency, month=datetime.date(2026, 3, 1), rate=Decimal(rate))
    expense = _declare(partner, amount)
    assert expense.exchange_rate == Decimal(rate)
    assert expense.amount_eur == Decimal(eur)
    assert expense.currency == currency


def test_half_cent_rounds_up():
    assert services.convert_to_eur(Decimal("0.125"), Decimal("1")) == Decimal("0.13")
    assert services.convert_to_eur(Decimal("12.5"), Decimal("1000")) == Decimal("0.01")


def test_eur_expense_keeps_its_amount():
    expense = _declare(PartnerFactory(currency="EUR"), "250.50")
    assert (expense.exchange_rate, expense.amount_eur) == (Decimal("1"), Decimal("250.50"))


def test_missing_rate_is_a_clear_error_and_nothing_is_saved():
    partner = PartnerFactory(currency="ARS")
    ExchangeRateFactory(currency="ARS", month=datetime.date(2026, 2, 1))
    with pytest.raises(ValidationError, match="no ARS exchange rate for 2026-03"):
        _declare(partner, "100")
    assert not Expenditure.objects.exists()


def test_later_rate_changes_do_not_rewrite_the_expense():
    partner = PartnerFactory(currency="BRL")
    rate = ExchangeRateFactory(currency="BRL", month=datetime.date(2026, 3, 1), rate=Decimal("6.25"))
    expense = _declare(partner, "625.00")
    rate.rate = Decimal("7.00")
    rate.save()
    expense.refresh_from_db()
    assert expense.amount_eur == Decimal("100.00")


@pytest.mark.parametrize("amount", ["0", "-10"])
def test_amount_must_be_positive(amount):
    with pytest.raises(ValidationError):
        _declare(PartnerFactory(), amount)
    assert not Expenditure.objects.exists()


def test_date_outside_the_project_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        _declare(PartnerFactory(), "10", day=datetime.date(2029, 2, 1))
    assert "date_incurred" in excinfo.value.message_dict


def test_staff_of_another_partner_cannot_declare_for_it():
    partner = PartnerFactory()
    with pytest.raises(PermissionDenied):
        _declare(partner, "10", actor=staff_of(PartnerFactory(project=partner.project)))
    assert not Expenditure.objects.exists()


def test_review_workflow_and_illegal_transitions():
    partner = PartnerFactory()
    staff, director = staff_of(partner), director_of(partner.project)
    expense = services.expenditure_submit(actor=staff, expenditure=_declare(partner, "10", actor=staff))
    with pytest.raises(PermissionDenied):
        services.expenditure_verify(actor=staff, expenditure=expense, checklist=Expenditure.CHECKLIST)
    expense = services.expenditure_return(actor=director, expenditure=expense, note="Invoice missing.")
    assert expense.status == Expenditure.Status.RETURNED
    with pytest.raises(ValidationError):
        services.expenditure_verify(actor=director, expenditure=expense, checklist=Expenditure.CHECKLIST)
    expense = services.expenditure_submit(actor=staff, expenditure=expense)
    expense = services.expenditure_verify(actor=director, expenditure=expense, checklist=Expenditure.CHECKLIST)
    assert (expense.status, expense.reviewer) == (Expenditure.Status.VERIFIED, director)
    with pytest.raises(ValidationError):
        services.expenditure_submit(actor=staff, expenditure=expense)
    with pytest.raises(ValidationError):
        services.expenditure_reject(actor=director, expenditure=expense, note="Too late.")


def test_rejection_needs_a_reason():
    partner = PartnerFactory()
    expense = ExpenditureFactory(partner=partner, status=Expenditure.Status.SUBMITTED)
    with pytest.raises(ValidationError):
        services.expenditure_reject(actor=director_of(partner.project), expenditure=expense, note="")
    expense = services.expenditure_reject(
        actor=director_of(partner.project, user__username="d2"), expenditure=expense, note="Not eligible."
    )
    assert expense.status == Expenditure.Status.REJECTED


def _update(actor, expense, **overrides):
    fields = {
        "revision": expense.revision,
        "category": expense.category,
        "date_incurred": expense.date_incurred,
        "description": expense.description,
        "amount": expense.amount,
    } | overrides
    return services.expenditure_update(actor=actor, expenditure=expense, **fields)


def test_update_recomputes_the_eur_amount_and_refuses_a_stale_copy():
    partner = PartnerFactory(currency="BRL")
    ExchangeRateFactory(currency="BRL", month=datetime.date(2026, 3, 1), rate=Decimal("6.25"))
    staff = staff_of(partner)
    expense = _declare(partner, "625.00", actor=staff)
    stale = Expenditure.objects.get(pk=expense.pk)
    expense = _update(staff, expense, amount=Decimal("1250.00"))
    assert (expense.amount_eur, expense.revision) == (Decimal("200.00"), 2)
    with pytest.raises(ValidationError) as excinfo:
        _update(staff, stale, amount=Decimal("1.00"))
    assert excinfo.value.code == "stale"
    expense.refresh_from_db()
    assert expense.amount == Decimal("1250.00")


def test_verified_expenses_are_read_only():
    partner = PartnerFactory()
    staff, director = staff_of(partner), director_of(partner.project)
    expense = services.expenditure_submit(actor=staff, expenditure=_declare(partner, "10", actor=staff))
    services.expenditure_verify(actor=director, expenditure=expense, checklist=Expenditure.CHECKLIST)
    with pytest.raises(ValidationError, match="can no longer be changed"):
        _update(staff, expense, description="Changed after verification")


def test_a_corrected_rate_applies_to_drafts_at_submission_but_never_to_submitted_or_verified_expenses():
    partner = PartnerFactory(currency="ARS")
    rate = ExchangeRateFactory(currency="ARS", month=datetime.date(2026, 3, 1), rate=Decimal("1000"))
    staff, director = staff_of(partner), director_of(partner.project)
    draft = _declare(partner, "100000.00", actor=staff)
    verified = services.expenditure_submit(actor=staff, expenditure=_declare(partner, "100000.00", actor=staff))
    verified = services.expenditure_verify(actor=director, expenditure=verified, checklist=Expenditure.CHECKLIST)
    submitted = services.expenditure_submit(actor=staff, expenditure=_declare(partner, "100000.00", actor=staff))
    services.exchange_rates_import(actor=None, rows=[{"currency": "ARS", "month": "2026-03", "rate": "1250"}])
    rate.refresh_from_db()
    assert rate.rate == Decimal("1250")
    for expense in (verified, submitted):
        expense.refresh_from_db()
        assert (expense.exchange_rate, expense.amount_eur) == (Decimal("1000"), Decimal("100.00"))
    draft = services.expenditure_submit(actor=staff, expenditure=draft)
    assert (draft.exchange_rate, draft.amount_eur) == (Decimal("1250"), Decimal("80.00"))


def test_rate_import_reports_what_changed_and_is_rerunnable():
    rows = [
        {"currency": "BRL", "month": "2026-03", "rate": "6.2500"},
        {"currency": "ars", "month": "2026-03-01", "rate": "1450.5"},
    ]
    first = services.exchange_rates_import(actor=None, rows=rows)
    assert (len(first.created), len(first.updated), first.unchanged) == (2, 0, 0)
    again = services.exchange_rates_import(actor=None, rows=rows)
    assert (len(again.created), len(again.updated), again.unchanged) == (0, 0, 2)
    changed = services.exchange_rates_import(actor=None, rows=[{"currency": "BRL", "month": "2026-03", "rate": "6.3"}])
    assert [(r.currency, previous, r.rate) for r, previous in changed.updated] == [
        ("BRL", Decimal("6.250000"), Decimal("6.3"))
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"currency": "BRL", "month": "March", "rate": "6.25"}, "expected currency, month (YYYY-MM) and rate"),
        ({"currency": "BRL", "month": "2026-03", "rate": "six"}, "expected currency, month (YYYY-MM) and rate"),
        ({"currency": "BRL", "month": "2026-03", "rate": "-1"}, "A rate must be positive."),
        ({"currency": "EUR", "month": "2026-03", "rate": "1"}, "EUR needs no exchange rate."),
        ({"currency": "REAL", "month": "2026-03", "rate": "6"}, "ISO 4217"),
    ],
)
def test_a_bad_rate_row_imports_nothing_and_names_its_line(row, message):
    good = {"currency": "UYU", "month": "2026-03", "rate": "46.5"}
    with pytest.raises(ValidationError) as excinfo:
        services.exchange_rates_import(actor=None, rows=[good, row])
    assert any(m.startswith("Line 3:") and message in m for m in excinfo.value.messages), excinfo.value.messages
    assert not ExchangeRate.objects.exists()


def test_pre_financing_never_exceeds_ninety_percent_of_the_eu_contribution():
    project = PartnerFactory().project
    BudgetFactory(project=project, total_eligible_cost=Decimal("10000.00"), eu_contribution=Decimal("8000.00"))
    director = director_of(project)
    record = {"actor": director, "project": project, "kind": "pre_financing", "received_on": MARCH}
    services.eu_payment_record(amount=Decimal("4000.00"), **record)
    services.eu_payment_record(amount=Decimal("3200.00"), **record)
    with pytest.raises(ValidationError, match="over 90 % of the EU contribution"):
        services.eu_payment_record(amount=Decimal("0.01"), **record)
    balance = services.eu_payment_record(**record | {"kind": "balance"}, amount=Decimal("800.00"))
    assert [p.number for p in EUPayment.objects.order_by("number")] == [1, 2, 3]
    assert balance.kind == "balance"
    with pytest.raises(PermissionDenied):
        services.eu_payment_record(**record | {"actor": staff_of(project.partners.get())}, amount=Decimal("1"))


def test_one_version_at_a_time_is_the_current_budget_and_only_an_administrator_switches():
    first = BudgetFactory(version=1)
    second = BudgetFactory(project=first.project, version=2, is_current=False)
    with pytest.raises(PermissionDenied):
        services.budget_make_current(actor=director_of(first.project), budget=second)
    admin = UserFactory(is_staff=True, is_superuser=True)
    assert services.budget_make_current(actor=admin, budget=second).is_current
    first.refresh_from_db()
    assert not first.is_current
    assert [v.history_user for v in (first.history.first(), second.history.first())] == [admin, admin]
    services.budget_make_current(actor=admin, budget=second)
    assert second.history.count() == 2  # already current: nothing written


def test_a_new_version_copies_the_budget_and_its_lines_and_only_an_administrator_starts_one():
    line = BudgetLineFactory(budget=BudgetFactory(version=1, approved_on=MARCH), activity=None)
    budget = line.budget
    with pytest.raises(PermissionDenied):
        services.budget_new_version(actor=director_of(budget.project), budget=budget)
    admin = UserFactory(is_staff=True, is_superuser=True)
    copy = services.budget_new_version(actor=admin, budget=budget)
    assert (copy.version, copy.approved_on, copy.is_current) == (2, None, False)
    assert list(copy.lines.values_list("partner", "category", "amount")) == [
        (line.partner_id, line.category_id, line.amount)
    ]
    assert copy.lines.get().history.get().history_user == admin
    assert services.budget_new_version(actor=admin, budget=budget).version == 3


def test_partner_staff_delete_a_draft_expense_with_its_receipts_and_the_history_keeps_it(
    settings, django_capture_on_commit_callbacks
):
    partner = PartnerFactory()
    staff = staff_of(partner)
    expense = _declare(partner, "80.00", actor=staff, receipts=[upload_check(upload("invoice.pdf"))])
    stored = settings.MEDIA_ROOT / expense.receipts.get().file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.expenditure_delete(actor=staff, expenditure=expense)
    assert not Expenditure.objects.exists() and not Receipt.objects.exists()
    assert not stored.exists()
    deleted = Expenditure.history.get(id=expense.pk, history_type="-")
    assert (deleted.history_user, deleted.amount) == (staff, Decimal("80.00"))
    assert Receipt.history.get(history_type="-").history_user == staff


def test_deleting_a_returned_expense_tells_the_director_who_returned_it(mailoutbox, django_capture_on_commit_callbacks):
    partner = PartnerFactory()
    staff, director = staff_of(partner), director_of(partner.project, user__email="director@example.org")
    expense = services.expenditure_submit(actor=staff, expenditure=_declare(partner, "80.00", actor=staff))
    expense = services.expenditure_return(actor=director, expenditure=expense, note="Declared twice.")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.expenditure_delete(actor=staff, expenditure=expense)
    assert not Expenditure.objects.exists()
    assert [m.to for m in mailoutbox] == [["director@example.org"]]
    assert "Declared twice." in mailoutbox[0].body


@pytest.mark.parametrize("status", ["submitted", "verified", "rejected"])
def test_submitted_verified_and_rejected_expenses_cannot_be_deleted(status):
    partner = PartnerFactory()
    expense = ExpenditureFactory(partner=partner, status=status, reviewer=director_of(partner.project))
    with pytest.raises(ValidationError, match="can no longer be deleted"):
        services.expenditure_delete(actor=staff_of(partner), expenditure=expense)
    assert Expenditure.objects.filter(pk=expense.pk, status=status).exists()


def test_only_the_partners_own_staff_delete_its_draft_expense():
    partner = PartnerFactory()
    expense = _declare(partner, "10.00")
    project = partner.project
    for user in (staff_of(PartnerFactory(project=project)), director_of(project), observer_of(project)):
        with pytest.raises(PermissionDenied):
            services.expenditure_delete(actor=user, expenditure=expense)
    assert Expenditure.objects.filter(pk=expense.pk).exists()


def test_the_same_form_token_declares_one_expense():
    partner = PartnerFactory()
    staff, token = staff_of(partner), uuid.uuid4()
    first = _declare(partner, "10.00", actor=staff, form_token=token)
    with pytest.raises(AlreadySaved) as excinfo:
        _declare(partner, "10.00", actor=staff, form_token=token)
    assert excinfo.value.instance == first
    assert Expenditure.objects.count() == 1


def test_an_expense_dated_in_the_future_is_refused_before_its_rate_is_looked_up():
    today = timezone.localdate()
    partner = PartnerFactory(currency="BRL", project__start_date=today - datetime.timedelta(days=400))
    ExchangeRateFactory(currency="BRL", month=today.replace(day=1))
    with pytest.raises(ValidationError) as excinfo:
        _declare(partner, "10.00", day=today + datetime.timedelta(days=1))
    assert excinfo.value.message_dict == {
        "date_incurred": [f"The date cannot be in the future (today is {today.isoformat()})."]
    }
    assert _declare(partner, "10.00", day=today).date_incurred == today


def test_an_expense_without_supplier_document_number_or_receipt_is_not_submitted(db):
    partner = PartnerFactory(currency="EUR")
    staff = staff_of(partner)
    expense = _declare(partner, "10", actor=staff, supplier=" ", document_ref="", receipts=[])
    with pytest.raises(ValidationError) as refusal:
        services.expenditure_submit(actor=staff, expenditure=expense)
    assert refusal.value.messages == [
        "Before submitting, add the supplier, the document number, a receipt (a scan or photo of the invoice): "
        "edit the expense, then submit it again."
    ]
    expense.refresh_from_db()
    assert (expense.status, expense.revision) == ("draft", 1)


def test_verification_needs_the_whole_checklist_and_records_it_with_the_decision(db):
    partner = PartnerFactory(currency="EUR")
    staff, director = staff_of(partner), director_of(partner.project)
    expense = services.expenditure_submit(actor=staff, expenditure=_declare(partner, "10", actor=staff))
    with pytest.raises(ValidationError, match="still open: within the budget line, date within the project"):
        services.expenditure_verify(
            actor=director, expenditure=expense, checklist=["check_eligible", "check_receipt_matches"]
        )
    expense.refresh_from_db()
    assert expense.status == "submitted" and not expense.check_eligible
    # A return records what was ticked, and needs its note as before.
    returned = services.expenditure_return(
        actor=director, expenditure=expense, note="The receipt shows 12.00.", checklist=["check_eligible"]
    )
    assert (returned.check_eligible, returned.check_receipt_matches) == (True, False)
    assert returned.history.first().check_eligible
    # Submitted again, it is checked afresh.
    again = services.expenditure_submit(actor=staff, expenditure=returned)
    assert not again.check_eligible
    verified = services.expenditure_verify(actor=director, expenditure=again, checklist=Expenditure.CHECKLIST)
    assert all(getattr(verified, item) for item in Expenditure.CHECKLIST)
    assert verified.history.first().history_user == director


def test_a_partner_cannot_verify_even_with_the_checklist(db):
    partner = PartnerFactory(currency="EUR")
    staff = staff_of(partner)
    expense = services.expenditure_submit(actor=staff, expenditure=_declare(partner, "10", actor=staff))
    with pytest.raises(PermissionDenied):
        services.expenditure_verify(actor=staff, expenditure=expense, checklist=Expenditure.CHECKLIST)


def _heading(code, kind):
    names = {"indirect": "Indirect costs", "contingency": "Contingency reserve"}
    return CostCategoryFactory(code=code, name=names[kind], kind=kind)


def test_indirect_costs_cannot_be_declared_as_an_expense():
    partner = PartnerFactory(currency="EUR")
    with pytest.raises(ValidationError, match="Indirect costs are not declared as expenses") as refused:
        _declare(partner, "100.00", category=_heading(10, "indirect"))
    assert "category" in refused.value.message_dict
    assert not Expenditure.objects.exists()


def test_an_indirect_expense_declared_before_the_flat_rate_can_be_rejected_never_verified():
    partner = PartnerFactory(currency="EUR")
    director = director_of(partner.project)
    legacy = ExpenditureFactory(partner=partner, category=_heading(10, "indirect"), status="submitted")
    with pytest.raises(ValidationError, match="flat rate"):
        services.expenditure_verify(actor=director, expenditure=legacy, checklist=Expenditure.CHECKLIST)
    legacy.refresh_from_db()
    assert legacy.status == "submitted"
    services.expenditure_reject(actor=director, expenditure=legacy, note="Indirect costs are a flat rate.")
    assert Expenditure.objects.get().status == "rejected"


@pytest.fixture
def contingency():
    """A EUR partner whose contingency reserve holds 1,000.00, and the reserve's heading."""
    partner = PartnerFactory(currency="EUR")
    heading = _heading(8, "contingency")
    BudgetLineFactory(budget=BudgetFactory(project=partner.project), partner=partner, category=heading)
    return partner, heading


def _authorise(partner, amount, reference="AUT-1"):
    authorisation = ContingencyAuthorisation(
        partner=partner,
        amount=Decimal(amount),
        reference=reference,
        authorised_on=datetime.date(2026, 2, 2),
        authorised_by="EU Delegation",
    )
    authorisation.full_clean()
    authorisation.save()
    return authorisation


def test_contingency_needs_a_recorded_prior_authorisation(contingency):
    partner, heading = contingency
    with pytest.raises(ValidationError, match="none is recorded for"):
        _declare(partner, "10.00", category=heading)
    assert not Expenditure.objects.exists()


def test_contingency_expenses_stay_within_what_is_authorised_for_the_partner(contingency):
    partner, heading = contingency
    _authorise(partner, "300.00")
    _authorise(partner, "200.00", reference="AUT-2")
    first = _declare(partner, "320.50", category=heading)
    # 320.50 + 179.50 = 500.00, the two authorisations: allowed to the cent.
    second = _declare(partner, "179.50", category=heading)
    with pytest.raises(
        ValidationError, match=r"EUR 500\.00, of which other expenses take EUR 500\.00: this one, EUR 0\.01"
    ):
        _declare(partner, "0.01", category=heading)
    assert Expenditure.objects.count() == 2
    # Another partner's authorisation is not this one's.
    other = PartnerFactory(project=partner.project, currency="EUR")
    with pytest.raises(ValidationError, match="none is recorded"):
        _declare(other, "1.00", category=heading)
    # A rejected expense gives its part back.
    director = director_of(partner.project)
    services.expenditure_submit(actor=staff_of(partner), expenditure=first)
    services.expenditure_reject(actor=director, expenditure=first, note="No invoice.")
    assert _declare(partner, "320.50", category=heading).amount_eur == Decimal("320.50")
    assert second.pk


def test_verification_checks_the_authorisation_again(contingency):
    partner, heading = contingency
    authorisation = _authorise(partner, "500.00")
    staff, director = staff_of(partner), director_of(partner.project)
    first = _declare(partner, "300.00", category=heading, actor=staff)
    second = _declare(partner, "200.00", category=heading, actor=staff)
    for expense in (first, second):
        services.expenditure_submit(actor=staff, expenditure=expense)
    services.expenditure_verify(actor=director, expenditure=first, checklist=Expenditure.CHECKLIST)
    # The Contracting Authority cut its authorisation to 450.00 after the declarations.
    ContingencyAuthorisation.objects.filter(pk=authorisation.pk).update(amount=Decimal("450.00"))
    with pytest.raises(ValidationError, match=r"go EUR 50\.00 beyond it"):
        services.expenditure_verify(actor=director, expenditure=second, checklist=Expenditure.CHECKLIST)
    assert Expenditure.objects.get(pk=second.pk).status == "submitted"


def test_authorisations_stay_within_the_contingency_reserve(contingency):
    partner, _heading_row = contingency
    _authorise(partner, "600.00")
    with pytest.raises(ValidationError, match=r"EUR 1,000\.01, more than the contingency reserve .*EUR 1,000\.00"):
        _authorise(partner, "400.01", reference="AUT-2")
    _authorise(partner, "400.00", reference="AUT-2")
    assert ContingencyAuthorisation.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_contingency_expenses_declared_at_once_cannot_both_take_the_last_of_an_authorisation(contingency):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; the partner's row lock is what PostgreSQL must show")
    partner, heading = contingency
    _authorise(partner, "500.00")
    staff = staff_of(partner)
    barrier, outcomes = threading.Barrier(2), []

    def declare():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            _declare(partner, "300.00", category=heading, actor=staff)
            outcomes.append("saved")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=declare) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[1] == "saved" and "would go EUR 100.00 beyond it" in sorted(outcomes)[0]
    assert Expenditure.objects.count() == 1


# Importing a budget in the Annex III layout.
@pytest.fixture
def annex():
    """A current budget of two partners: the lead's heading 1 has 400.00 of its 1,000.00 on activity 1.

    Its Annex sheet: row 3 the header (C lead, D San Juan, E total), rows 4-8 the lines 1, 2, 3 (subtotal direct),
    8 (indirect) and 9 (total eligible); its activity sheet: row 2 the lead's activity 1.
    """
    categories = [CostCategoryFactory(code=code, name=f"Heading {code}", kind=kind) for code, kind in HEADINGS]
    project = ProjectFactory(code="annex")
    lead = PartnerFactory(project=project, role="lead", organisation__name="Regione del Veneto")
    other = PartnerFactory(project=project, organisation__name="Provincia de San Juan")
    activity = ActivityFactory(project=project, number=1)
    budget = BudgetFactory(project=project, total_eligible_cost=Decimal("1838.29"), eu_contribution=Decimal("1000"))
    for partner, category, amount, on_activity in (
        (lead, categories[0], "600.00", None),
        (lead, categories[0], "400.00", activity),
        (lead, categories[1], "250.50", None),
        (lead, categories[2], "87.54", None),
        (other, categories[0], "500.25", None),
    ):
        BudgetLineFactory(
            budget=budget, partner=partner, category=category, amount=Decimal(amount), activity=on_activity
        )
    return SimpleNamespace(project=project, budget=budget, director=director_of(project), lead=lead, other=other)


HEADINGS = [(1, "direct"), (2, "direct"), (10, "indirect")]


def _exported(annex) -> Workbook:
    content = budget_annex_xlsx(project=annex.project, annex=budget_annex(budget=annex.budget, partner=None))
    return load_workbook(io.BytesIO(content))


def _file(workbook: Workbook, name="budget.xlsx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def _import(annex, file, actor=None):
    return services.budget_import_xlsx(actor=actor or annex.director, project=annex.project, file=file)


def _refused(annex, file) -> list[str]:
    """Import `file`, expecting a refusal that saves nothing; return its messages."""
    budgets, lines = Budget.objects.count(), BudgetLine.objects.count()
    with pytest.raises(ValidationError) as refusal:
        _import(annex, file)
    assert (Budget.objects.count(), BudgetLine.objects.count()) == (budgets, lines)
    return refusal.value.messages


def test_an_imported_budget_is_a_new_draft_version_with_the_contracts_rules(annex):
    workbook = _exported(annex)
    sheet = workbook["Annex III"]
    # Move 100.00 of the lead's heading 1 to San Juan's, keeping the given totals right.
    sheet["C4"], sheet["D4"], sheet["C6"], sheet["D6"], sheet["C8"], sheet["D8"] = (
        900,
        600.25,
        1150.5,
        600.25,
        1238.04,
        600.25,
    )
    annex.budget.indirect_cap = Decimal("0.0600")
    annex.budget.save()
    imported = _import(annex, _file(workbook, "addendum.xlsx"))
    assert (imported.version, imported.is_current, imported.approved_on) == (annex.budget.version + 1, False, None)
    assert imported.label == "Imported from addendum.xlsx"
    assert imported.total_eligible_cost == Decimal("1838.29")
    assert (imported.eu_contribution, imported.indirect_cap) == (Decimal("1000.00"), Decimal("0.0600"))
    lines = {
        (line.partner, line.category.code, line.activity_id and line.activity.number): line.amount
        for line in imported.lines.all()
    }
    assert lines == {
        (annex.lead, 1, None): Decimal("500.00"),
        (annex.lead, 1, 1): Decimal("400.00"),
        (annex.lead, 2, None): Decimal("250.50"),
        (annex.lead, 10, None): Decimal("87.54"),
        (annex.other, 1, None): Decimal("600.25"),
    }
    assert imported.history.get().history_user == annex.director
    annex.budget.refresh_from_db()
    assert annex.budget.is_current and annex.budget.lines.count() == 5


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "message"),
    [
        ("Annex III", "A4", 12, "Sheet “Annex III”, row 4, column A: unknown heading “12”."),
        ("Annex III", "A5", "Travel", "Sheet “Annex III”, row 5, column A: unknown heading “Travel”."),
        ("Annex III", "A5", None, "Sheet “Annex III”, row 5, column A: no line number"),
        ("Annex III", "D3", "Nobody", "Sheet “Annex III”, row 3, column D: unknown partner “Nobody”"),
        ("Annex III", "C5", "abc", "Sheet “Annex III”, row 5, column C: “abc” is not an amount"),
        ("Annex III", "C5", "1.234,50", "Sheet “Annex III”, row 5, column C: “1.234,50” is not an amount"),
        ("Annex III", "D4", -5, "Sheet “Annex III”, row 4, column D: -5 is negative: amounts are zero or more."),
        ("Annex III", "C7", 87.545, "Sheet “Annex III”, row 7, column C: 87.545 has more than two decimals"),
        ("Annex III", "C7", True, "Sheet “Annex III”, row 7, column C: “True” is not an amount."),
        (
            "Annex III",
            "E5",
            250.49,
            "Sheet “Annex III”, row 5, column E: “Heading 2” says EUR 250.49, but its amounts add up to EUR 250.50.",
        ),
        (
            "Annex III",
            "D6",
            500.26,
            "Sheet “Annex III”, row 6, column D: “Subtotal direct costs” says EUR 500.26, "
            "but its amounts add up to EUR 500.25.",
        ),
        (
            "Annex III",
            "E8",
            1838.3,
            "Sheet “Annex III”, row 8, column E: “Total eligible costs” says EUR 1,838.30, "
            "but its amounts add up to EUR 1,838.29.",
        ),
        ("By activity", "A2", 3, "Sheet “By activity”, row 2, column A: unknown heading “3”."),
        ("By activity", "C2", "Veneto", "Sheet “By activity”, row 2, column C: unknown partner “Veneto”."),
        ("By activity", "D2", 7, "Sheet “By activity”, row 2, column D: unknown activity “7”."),
        ("By activity", "F2", "x", "Sheet “By activity”, row 2, column F: “x” is not an amount"),
        (
            "By activity",
            "F2",
            1000.01,
            "Sheet “By activity”, row 2: the activities of Regione del Veneto under heading 1 add up to EUR 1,000.01, "
            "more than its EUR 1,000.00 on sheet “Annex III”.",
        ),
    ],
)
def test_a_wrong_cell_is_named_by_sheet_row_and_column_and_nothing_is_saved(annex, sheet, cell, value, message):
    workbook = _exported(annex)
    workbook[sheet][cell] = value
    messages = _refused(annex, _file(workbook))
    assert any(text.startswith(message) for text in messages), messages


def test_every_wrong_cell_is_listed_at_once(annex):
    workbook = _exported(annex)
    workbook["Annex III"]["C4"], workbook["Annex III"]["D5"], workbook["Annex III"]["A7"] = "abc", -1, 99
    messages = _refused(annex, _file(workbook))
    assert [text.split(":")[0] for text in messages] == [
        "Sheet “Annex III”, row 4, column C",
        "Sheet “Annex III”, row 5, column D",
        "Sheet “Annex III”, row 7, column A",
    ]


def _plain_workbook(rows, start_row=3) -> Workbook:
    """A workbook with `rows` from `start_row`, as a user might write it without totals."""
    workbook = Workbook()
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            workbook.active.cell(row=start_row + offset, column=column, value=value)
    return workbook


def test_a_workbook_without_totals_or_activities_imports_what_it_says(annex):
    workbook = _plain_workbook([["Line", "Heading", " provincia  de san juan "], [1, "", 1500], [2, "", "0"]])
    imported = _import(annex, _file(workbook))
    assert list(imported.lines.values_list("partner", "category__code", "activity", "amount")) == [
        (annex.other.pk, 1, None, Decimal("1500.00"))
    ]
    assert imported.total_eligible_cost == Decimal("1500.00")


def test_taxes_where_eligible_go_out_and_come_back_on_lines_12_and_13(annex):
    taxes = CostCategoryFactory(code=12, name="Taxes", kind="taxes")
    BudgetLineFactory(budget=annex.budget, partner=annex.other, category=taxes, amount=Decimal("45.10"))
    workbook = _exported(annex)
    rows = {
        row[0]: [Decimal(str(value)).quantize(Decimal("0.01")) for value in row[2:]]
        for row in workbook["Annex III"].iter_rows(min_row=4, values_only=True)
    }
    # Columns: the lead, San Juan, the total. Line 11 stays the total eligible costs; 13 adds San Juan's taxes.
    assert rows[11] == [Decimal("1338.04"), Decimal("500.25"), Decimal("1838.29")]
    assert rows[12] == [Decimal("0.00"), Decimal("45.10"), Decimal("45.10")]
    assert rows[13] == [Decimal("1338.04"), Decimal("545.35"), Decimal("1883.39")]
    imported = _import(annex, _file(workbook))
    assert imported.lines.get(category=taxes).amount == Decimal("45.10")
    assert imported.total_eligible_cost == Decimal("1883.39")
    workbook["Annex III"]["E10"] = 1883.4
    assert _refused(annex, _file(workbook)) == [
        "Sheet “Annex III”, row 10, column E: “Total accepted costs” says EUR 1,883.40, "
        "but its amounts add up to EUR 1,883.39."
    ]


def test_a_total_too_small_for_the_eu_contribution_is_refused(annex):
    workbook = _plain_workbook([["Line", "Heading", "Provincia de San Juan"], [1, "", 1249.99]])
    assert _refused(annex, _file(workbook)) == [
        "The workbook's total eligible costs, EUR 1,249.99, are too little for the EU contribution of "
        "EUR 1,000.00 at the EU rate of 80 %."
    ]


def test_an_empty_workbook_is_refused(annex):
    workbook = _plain_workbook([["Line", "Heading", "Provincia de San Juan"], [1, "", 0]])
    assert _refused(annex, _file(workbook)) == ["The workbook holds no amounts: there is no budget to import."]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


NOT_XLSX = "The file is not an XLSX workbook: save it from your spreadsheet as Excel (.xlsx) and try again."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a workbook", NOT_XLSX),
        (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"}), NOT_XLSX),
        (_zip({"xl/workbook.xml": b"<not xml"}), NOT_XLSX),
        (b"PK\x03\x04" + b"\x00" * 100, NOT_XLSX),
        (bytes(1024 * 1024 + 1), "The file is 1.0\xa0MB; a budget workbook may be at most 1.0\xa0MB."),
        (
            _zip({"xl/worksheets/sheet1.xml": b"<row/>" * (1024 * 1024)}),
            "The workbook unpacks to 6.0\xa0MB, more than a budget needs (at most 5.0\xa0MB): refused.",
        ),
    ],
    ids=["pdf", "word", "broken", "truncated zip", "too big", "zip bomb"],
)
def test_a_file_that_is_not_a_small_workbook_is_refused_clearly(annex, content, message):
    assert _refused(annex, SimpleUploadedFile("budget.xlsx", content)) == [message]


def test_a_sheet_with_too_many_rows_or_columns_is_refused(annex):
    workbook = _plain_workbook([["Line", "Heading", "Provincia de San Juan"]] + [[1, "", 1]] * 2000)
    assert _refused(annex, _file(workbook)) == ["Sheet “Sheet” has more than 2000 rows: a budget has far fewer."]
    workbook = _plain_workbook([["Line", "Heading", "Provincia de San Juan"], [1, "", 1]])
    workbook.active.cell(row=4, column=61, value=1)
    assert _refused(annex, _file(workbook)) == ["Sheet “Sheet” has more than 60 columns: a budget has far fewer."]


def test_only_directors_import_a_budget(annex):
    workbook = _exported(annex)
    for user in (staff_of(annex.lead), observer_of(annex.project), director_of(ProjectFactory())):
        with pytest.raises(PermissionDenied):
            _import(annex, _file(workbook), actor=user)
    assert Budget.objects.count() == 1
    admin = UserFactory(is_staff=True)
    assert _import(annex, _file(workbook), actor=admin).version == annex.budget.version + 1


def test_a_workbook_downloaded_in_italian_imports_in_english(annex):
    with translation.override("it"):
        workbook = _exported(annex)
    assert workbook.active["E3"].value == "Totale"
    workbook.active["E4"] = 1  # the total column is still read and checked
    where = f"Sheet “{workbook.active.title}”, row 4, column E"
    assert _refused(annex, _file(workbook))[0].startswith(f"{where}: “Heading 1” says")
    workbook.active["E4"] = 1500.25
    assert _import(annex, _file(workbook)).total_eligible_cost == Decimal("1838.29")
