import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from finance import services
from finance.models import Expenditure
from tests.factories import (
    CostCategoryFactory,
    ExchangeRateFactory,
    ExpenditureFactory,
    PartnerFactory,
    director_of,
    staff_of,
)

pytestmark = pytest.mark.django_db
MARCH = datetime.date(2026, 3, 17)


def _declare(partner, amount, actor=None, day=MARCH):
    return services.expenditure_create(
        actor=actor or staff_of(partner),
        partner=partner,
        category=CostCategoryFactory(),
        date_incurred=day,
        description="Seminar catering",
        amount=Decimal(amount),
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
        services.expenditure_verify(actor=staff, expenditure=expense)
    expense = services.expenditure_return(actor=director, expenditure=expense, note="Invoice missing.")
    assert expense.status == Expenditure.Status.RETURNED
    with pytest.raises(ValidationError):
        services.expenditure_verify(actor=director, expenditure=expense)
    expense = services.expenditure_submit(actor=staff, expenditure=expense)
    expense = services.expenditure_verify(actor=director, expenditure=expense)
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
