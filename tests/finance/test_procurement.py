"""The procurement register: partners record the contracts they awarded; the EU report lists those above 10,000."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from finance import services
from finance.models import ProcurementContract
from finance.selectors import procurement_contracts_reported
from tests.factories import (
    CostCategoryFactory,
    ExpenditureFactory,
    PartnerFactory,
    ProjectFactory,
    director_of,
    observer_of,
    staff_of,
)

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def world():
    project = ProjectFactory(code="cocap")
    veneto, sanjuan = PartnerFactory(project=project), PartnerFactory(project=project, currency="ARS")
    category = CostCategoryFactory(code=5, name="Other costs, services")
    staff_veneto, staff_sanjuan = staff_of(veneto), staff_of(sanjuan)
    invoices = [
        ExpenditureFactory(
            partner=veneto,
            category=category,
            author=staff_veneto,
            status="submitted",
            amount=Decimal(amount),
            amount_eur=Decimal(amount),
        )
        for amount in ("6000.00", "4500.50")
    ]
    foreign = ExpenditureFactory(partner=sanjuan, category=category, author=staff_sanjuan, status="submitted")
    return SimpleNamespace(
        project=project,
        veneto=veneto,
        sanjuan=sanjuan,
        staff_veneto=staff_veneto,
        staff_sanjuan=staff_sanjuan,
        director=director_of(project),
        observer=observer_of(project),
        invoices=invoices,
        foreign=foreign,
    )


def _fields(**overrides):
    return {
        "reference": "VEN-01",
        "supplier": "Studio Rossi",
        "subject": "Analisi delle filiere",
        "amount": Decimal("12000.00"),
        "procedure": ProcurementContract.Procedure.NEGOTIATED,
        "signed_on": D(2026, 2, 1),
        **overrides,
    }


def test_partner_staff_record_their_contract_with_the_expenses_that_paid_it(client, world):
    client.force_login(world.staff_veneto)
    response = client.post(
        reverse("finance:procurement-create"),
        {
            **{key: str(value) for key, value in _fields().items()},
            "partner": world.veneto.pk,
            "expenses": [expense.pk for expense in world.invoices],
        },
    )
    assert response.status_code == 302
    contract = ProcurementContract.objects.get()
    assert contract.partner == world.veneto and contract.author == world.staff_veneto
    assert set(contract.expenses.all()) == set(world.invoices)
    page = client.get(reverse("finance:procurement-list")).content.decode()
    # 6,000.00 + 4,500.50 invoiced of a 12,000.00 contract, listed in the EU report.
    assert "10,500.50" in page and "12,000.00" in page and "reported" in page


def test_another_partners_expense_cannot_be_linked_and_nothing_is_saved(world):
    with pytest.raises(ValidationError) as error:
        services.procurement_contract_create(
            actor=world.director, partner=world.veneto, expenses=[world.invoices[0], world.foreign], **_fields()
        )
    assert "Link only expenses of the partner that signed the contract." in error.value.messages
    assert not ProcurementContract.objects.exists()


def test_expenses_above_the_contract_value_are_refused_with_the_figures(client, world):
    client.force_login(world.staff_veneto)
    response = client.post(
        reverse("finance:procurement-create"),
        {
            **{key: str(value) for key, value in _fields(amount=Decimal("10000.00")).items()},
            "partner": world.veneto.pk,
            "expenses": [expense.pk for expense in world.invoices],
        },
    )
    assert response.status_code == 200
    assert "The linked expenses come to EUR 10500.50, more than the contract&#x27;s EUR 10000.00." in (
        response.content.decode()
    )
    assert not ProcurementContract.objects.exists()


def test_a_partner_cannot_record_for_another_partner_nor_see_its_contracts(client, world):
    with pytest.raises(PermissionDenied):
        services.procurement_contract_create(actor=world.staff_sanjuan, partner=world.veneto, **_fields())
    contract = services.procurement_contract_create(actor=world.staff_veneto, partner=world.veneto, **_fields())
    client.force_login(world.staff_sanjuan)
    assert client.get(reverse("finance:procurement-edit", args=[contract.pk])).status_code == 404
    assert client.post(reverse("finance:procurement-delete", args=[contract.pk])).status_code == 404
    assert "VEN-01" not in client.get(reverse("finance:procurement-list")).content.decode()
    # The partner's own form offers only its own partner, whatever is posted.
    response = client.post(
        reverse("finance:procurement-create"),
        {**{key: str(value) for key, value in _fields(reference="X").items()}, "partner": world.veneto.pk},
    )
    assert response.status_code == 200 and not ProcurementContract.objects.filter(reference="X").exists()


def test_observers_read_the_register_but_record_nothing(client, world):
    services.procurement_contract_create(actor=world.director, partner=world.sanjuan, **_fields())
    client.force_login(world.observer)
    page = client.get(reverse("finance:procurement-list")).content.decode()
    assert "VEN-01" in page and "Record a contract" not in page and "Edit" not in page
    assert client.get(reverse("finance:procurement-create")).status_code == 403


def test_a_reference_is_unique_per_partner(world):
    services.procurement_contract_create(actor=world.director, partner=world.veneto, **_fields())
    with pytest.raises(ValidationError) as error:
        services.procurement_contract_create(actor=world.director, partner=world.veneto, **_fields())
    assert "This partner already has a contract with this reference." in error.value.messages
    services.procurement_contract_create(actor=world.director, partner=world.sanjuan, **_fields())
    assert ProcurementContract.objects.count() == 2


@pytest.mark.parametrize(
    ("signed_on", "message"),
    [(D(2025, 12, 31), "The date must fall within the project period."), (D(2099, 1, 1), "in the future")],
)
def test_the_signature_date_falls_within_the_project_and_not_in_the_future(world, signed_on, message):
    with pytest.raises(ValidationError) as error:
        services.procurement_contract_create(actor=world.director, partner=world.veneto, **_fields(signed_on=signed_on))
    assert any(message in text for text in error.value.messages)
    assert not ProcurementContract.objects.exists()


def test_the_eu_report_lists_contracts_above_ten_thousand_signed_by_the_period_end(world):
    for reference, amount, day in (
        ("A", "10000.00", D(2026, 3, 1)),
        ("B", "10000.01", D(2026, 3, 1)),
        ("C", "25000.00", D(2026, 8, 1)),
    ):
        services.procurement_contract_create(
            actor=world.director,
            partner=world.veneto,
            **_fields(reference=reference, amount=Decimal(amount), signed_on=day),
        )
    reported = procurement_contracts_reported(project=world.project, until=D(2026, 6, 30))
    assert [contract.reference for contract in reported] == ["B"]


def test_correcting_keeps_the_partner_and_removing_keeps_the_history(client, world):
    contract = services.procurement_contract_create(actor=world.staff_veneto, partner=world.veneto, **_fields())
    client.force_login(world.director)
    response = client.post(
        reverse("finance:procurement-edit", args=[contract.pk]),
        {**{key: str(value) for key, value in _fields(supplier="Studio Bianchi").items()}, "partner": world.sanjuan.pk},
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.supplier == "Studio Bianchi" and contract.partner == world.veneto
    assert client.post(reverse("finance:procurement-delete", args=[contract.pk])).status_code == 302
    assert not ProcurementContract.objects.exists()
    assert ProcurementContract.history.filter(id=contract.pk, history_type="-", history_user=world.director).exists()


def test_the_register_keeps_its_query_count_when_contracts_grow(client, world, django_assert_num_queries):
    client.force_login(world.director)
    url = reverse("finance:procurement-list")

    def grow(count):
        start = ProcurementContract.objects.count()
        for number in range(start, start + count):
            contract = services.procurement_contract_create(
                actor=world.director, partner=world.veneto, **_fields(reference=f"R-{number}")
            )
            contract.expenses.set(world.invoices)

    grow(2)
    client.get(url)
    with django_assert_num_queries(10) as captured:
        assert client.get(url).status_code == 200
    grow(20)
    with django_assert_num_queries(len(captured)):
        assert client.get(url).status_code == 200
