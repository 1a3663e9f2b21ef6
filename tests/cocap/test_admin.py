import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from cocap_data.seed import cocap_load
from finance.models import Budget
from partners.models import Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name) for model in admin.site._registry if model._meta.app_label
)


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def cocap():
    return cocap_load(start_date=datetime.date(2026, 1, 1))


@pytest.mark.parametrize(("app_label", "model_name"), REGISTERED)
def test_changelist_and_add_pages_load_for_a_superuser(superuser_client, cocap, app_label, model_name):
    changelist = superuser_client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert changelist.status_code == 200
    add = superuser_client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    # Some records are created only through the portal (expenses, uploads): their add page is refused.
    assert add.status_code in (200, 403)


def test_every_domain_model_is_in_the_admin():
    labels = {app for app, _ in REGISTERED}
    assert {"partners", "activities", "finance", "reports"} <= labels


def test_change_pages_of_the_loaded_project_load(superuser_client, cocap):
    activity = cocap.activities.get(number=4)
    page = superuser_client.get(reverse("admin:activities_activity_change", args=[activity.pk]))
    assert page.status_code == 200
    assert "stage applicativo in Veneto" in page.content.decode()  # an action inline of activity 4
    budget = Budget.objects.get(project=cocap, is_current=True)
    assert superuser_client.get(reverse("admin:finance_budget_change", args=[budget.pk])).status_code == 200


def _budget_form(project, **fields):
    return {
        "project": project.pk,
        "version": 2,
        "total_eligible_cost": "100.00",
        "eu_max_rate": "0.8",
        "indirect_cap": "0.07",
        "flexibility_threshold": "0.15",
        "contingency_cap": "0.05",
        "rate_method": "month",
        "lines-TOTAL_FORMS": 0,
        "lines-INITIAL_FORMS": 0,
        **fields,
    }


def test_admin_shows_the_rule_and_saves_nothing_on_a_second_current_budget(superuser_client, cocap):
    response = superuser_client.post(
        reverse("admin:finance_budget_add"),
        _budget_form(cocap, is_current="on", eu_contribution="80.00"),
    )
    assert response.status_code == 200
    assert "The project already has a current budget." in response.content.decode()
    assert Budget.objects.filter(project=cocap).count() == 1


def test_admin_refuses_an_eu_contribution_over_the_rate(superuser_client, cocap):
    budget = Budget.objects.get(project=cocap)
    response = superuser_client.post(
        reverse("admin:finance_budget_add"),
        _budget_form(cocap, eu_contribution="80.01"),
    )
    assert "The EU contribution exceeds the EU maximum rate of the total." in response.content.decode()
    assert list(Budget.objects.filter(project=cocap)) == [budget]
    assert budget.eu_contribution == Decimal("2469604.10")


def test_admin_refuses_partner_staff_without_a_partner(superuser_client, cocap):
    user = UserFactory()
    response = superuser_client.post(
        reverse("admin:partners_membership_add"),
        {"user": user.pk, "project": cocap.pk, "role": Membership.Role.PARTNER_STAFF, "partner": ""},
    )
    assert "Partner staff need a partner; directors and observers have none." in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()


def test_admin_corrects_a_draft_sal_summary_and_cannot_touch_an_approved_one(superuser_client, cocap):
    from django.utils import timezone

    from reports.models import ProgressReport

    period1, period2 = cocap.reporting_periods.order_by("number")[:2]
    user = UserFactory()
    draft = ProgressReport.objects.create(period=period1, created_by=user, summary="Bozza")
    approved = ProgressReport.objects.create(
        period=period2,
        created_by=user,
        status="approved",
        snapshot={"schema": 1},
        approved_by=user,
        approved_at=timezone.now(),
        summary="Approvato",
    )
    url = reverse("admin:reports_progressreport_change", args=[draft.pk])
    response = superuser_client.post(url, {"summary": "Bozza corretta", "language": "it"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.summary, draft.revision) == ("Bozza corretta", 2)
    url = reverse("admin:reports_progressreport_change", args=[approved.pk])
    assert superuser_client.post(url, {"summary": "Riscritto", "language": "it"}).status_code == 403
    assert ProgressReport.objects.get(pk=approved.pk).summary == "Approvato"
    assert superuser_client.get(reverse("admin:reports_progressreport_add")).status_code == 403
