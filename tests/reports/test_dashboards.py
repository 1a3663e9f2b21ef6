import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cocap_data.seed import cocap_load
from reports.models import ProgressReport
from reports.selectors import dashboard_director, dashboard_partner, reporting_periods_overdue
from tests.factories import (
    ExpenditureFactory,
    PartnerFactory,
    director_of,
    staff_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cocap():
    return cocap_load(start_date=datetime.date(2026, 1, 1))


def test_a_partner_sees_its_returned_expense_with_the_note_and_its_drafts_but_not_another_partners(client, cocap):
    lead = cocap.partners.get()
    other = PartnerFactory(project=cocap, currency="EUR")
    staff, staff_other = staff_of(lead), staff_of(other)
    director = director_of(cocap)
    ExpenditureFactory(
        partner=lead,
        author=staff,
        description="Biglietti aerei",
        status="returned",
        reviewer=director,
        review_note="Attach the boarding passes.",
    )
    ExpenditureFactory(
        partner=lead, author=staff, description="Sala riunioni", amount=Decimal("250.00"), amount_eur=Decimal("250.00")
    )
    ExpenditureFactory(partner=other, author=staff_other, description="Altrui", status="returned", reviewer=director)
    client.force_login(staff)
    page = client.get(reverse("home")).content.decode()
    assert "Biglietti aerei" in page and "Attach the boarding passes." in page
    assert "Sala riunioni – 250.00 EUR" in page
    assert "Altrui" not in page
    client.force_login(staff_other)
    page = client.get(reverse("home")).content.decode()
    assert "Biglietti aerei" not in page and "Altrui" in page


def test_directors_get_the_verification_queue_oldest_first_and_the_money(client, cocap):
    lead = cocap.partners.get()
    director = director_of(cocap)
    ExpenditureFactory(partner=lead, description="Prima spesa", status="submitted")
    ExpenditureFactory(partner=lead, description="Seconda spesa", status="submitted")
    ExpenditureFactory(
        partner=lead, amount=Decimal("1000.00"), amount_eur=Decimal("1000.00"), status="verified", reviewer=director
    )
    context = dashboard_director(user=director, project=cocap, today=datetime.date(2026, 6, 1))
    assert [e.description for e in context["verification"]] == ["Prima spesa", "Seconda spesa"]
    assert context["verification_count"] == 2
    # Declared: two submitted of 100.00 and the verified 1,000.00; the EU pays 80 % of the verified.
    assert context["money"] == {
        "budget": Decimal("3087005.13"),
        "declared": Decimal("1200.00"),
        "verified": Decimal("1000.00"),
        "eu_share_due": Decimal("800.00"),
    }
    client.force_login(director)
    page = client.get(reverse("home")).content.decode()
    assert "2 expenses to verify" in page and "Prima spesa" in page
    assert "€ 3,087,005.13" in page and "€ 1,200.00" in page and "€ 800.00" in page


def test_sal_1_is_overdue_after_its_due_date_until_a_version_is_approved(cocap):
    period1 = cocap.reporting_periods.get(number=1)
    assert period1.due_date == datetime.date(2026, 8, 29)
    assert reporting_periods_overdue(project=cocap, today=datetime.date(2026, 8, 29)) == []
    assert reporting_periods_overdue(project=cocap, today=datetime.date(2026, 8, 30)) == [period1]
    director = director_of(cocap)
    ProgressReport.objects.create(
        period=period1,
        created_by=director,
        status=ProgressReport.Status.APPROVED,
        snapshot={"schema": 2},
        approved_by=director,
        approved_at=timezone.now(),
    )
    assert reporting_periods_overdue(project=cocap, today=datetime.date(2026, 8, 30)) == []


def test_both_dashboards_flag_the_overdue_sal(client, cocap):
    lead = cocap.partners.get()
    staff, director = staff_of(lead), director_of(cocap)
    today = datetime.date(2026, 9, 1)
    assert [p.number for p in dashboard_partner(user=staff, project=cocap, partner=lead, today=today)["overdue"]] == [1]
    assert [p.number for p in dashboard_director(user=director, project=cocap, today=today)["overdue"]] == [1]
    if timezone.localdate() > datetime.date(2026, 8, 29):
        client.force_login(director)
        assert "SAL 1 was due 29/08/2026 and is not approved yet." in client.get(reverse("home")).content.decode()
