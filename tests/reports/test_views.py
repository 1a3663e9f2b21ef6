import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from cocap_data.seed import cocap_load
from finance.models import Expenditure
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    BudgetLineFactory,
    ExpenditureFactory,
    PartnerFactory,
    ProgressEntryFactory,
    ProjectFactory,
    UserFactory,
    director_of,
    observer_of,
    staff_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cocap():
    return cocap_load(start_date=datetime.date(2026, 1, 1))


def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_overview_shows_cocap_at_a_glance(client, cocap):
    client.force_login(director_of(cocap))
    response = client.get(reverse("overview"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "URB-AL III" in content
    assert "3,087,005.13" in content and "2,469,604.10" in content and "617,401.03" in content
    assert "80 % of the total" in content
    assert content.count("<details>") == 10
    assert "identificazione di uno o più casi pilota" in content
    assert "Regione del Veneto" in content
    assert "Comitato tecnico-scientifico" in content


def test_overview_shows_approved_progress_and_verified_money(client, cocap):
    director = director_of(cocap)
    lead = cocap.partners.get()
    action = cocap.activities.get(number=1).actions.get(number=1)
    ProgressEntryFactory(action=action, partner=lead, percent_complete=40, status="approved", reviewer=director)
    ProgressEntryFactory(action=action, partner=lead, percent_complete=90, status="submitted")
    ExpenditureFactory(
        partner=lead, amount=Decimal("1234.56"), amount_eur=Decimal("1234.56"), status="verified", reviewer=director
    )
    ExpenditureFactory(
        partner=lead, amount=Decimal("99.00"), amount_eur=Decimal("99.00"), status=Expenditure.Status.DRAFT
    )
    client.force_login(director)
    overview = client.get(reverse("overview")).context["overview"]
    activity = next(a for a in overview.activities if a.number == 1)
    assert activity.actions.all()[0].progress == 40
    assert activity.progress == 10  # 40 % on one of four actions
    assert overview.verified_eur == Decimal("1234.56")
    assert overview.verified_percent == Decimal("0.0")


def test_overview_in_italian(client, cocap):
    client.force_login(observer_of(cocap))
    response = client.get(reverse("overview"), headers={"accept-language": "it"})
    assert "Attività" in response.content.decode()
    assert "Contributo UE" in response.content.decode()


def test_user_without_membership_sees_no_project(client, cocap):
    client.force_login(UserFactory())
    content = client.get(reverse("overview")).content.decode()
    assert "not a member of any project" in content
    assert "3,087,005.13" not in content


def test_member_of_another_project_does_not_see_cocap(client, cocap):
    other = ProjectFactory(title="Another cooperation project")
    client.force_login(staff_of(PartnerFactory(project=other)))
    content = client.get(reverse("overview")).content.decode()
    assert "Another cooperation project" in content
    assert "Regione del Veneto" not in content


def test_partner_staff_see_their_project(client, cocap):
    client.force_login(staff_of(cocap.partners.get()))
    assert "Regione del Veneto" in client.get(reverse("overview")).content.decode()


def _grow(project, times):
    budget = project.budgets.get_or_create(
        is_current=True, defaults={"version": 1, "total_eligible_cost": 1000, "eu_contribution": 800}
    )[0]
    for _ in range(times):
        partner = PartnerFactory(project=project)
        activity = ActivityFactory(project=project, leader=partner)
        action = ActionFactory(activity=activity, responsible=partner)
        ProgressEntryFactory(action=action, partner=partner, status="approved", reviewer=UserFactory())
        BudgetLineFactory(budget=budget, partner=partner)
        ExpenditureFactory(partner=partner, status="verified", reviewer=UserFactory())


def test_overview_query_count_does_not_grow_with_the_data(client, django_assert_num_queries):
    project = ProjectFactory(code="cocap")
    director = director_of(project)
    _grow(project, 2)
    client.force_login(director)
    # session, user, visible projects, budget, activities, actions, governing bodies, the unread notifications,
    # the savepoint and its release of ATOMIC_REQUESTS inside the test transaction, and the partners with their
    # money as the finance overview has it (partners, headings' kinds, expense sums, indirect lines, budget lines
    # and partners by partner).
    with django_assert_num_queries(16):
        client.get(reverse("overview"))
    _grow(project, 20)
    with django_assert_num_queries(16):
        response = client.get(reverse("overview"))
    assert len(response.context["overview"].activities) == 22
