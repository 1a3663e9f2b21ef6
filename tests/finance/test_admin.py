import datetime
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse

from finance.models import Budget, BudgetLine
from tests.factories import (
    BudgetFactory,
    BudgetLineFactory,
    CostCategoryFactory,
    PartnerFactory,
    ProjectFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def budgets():
    """Version 1, approved and current, and version 2, an amendment in preparation, of one project."""
    project = ProjectFactory(code="cocap")
    veneto = PartnerFactory(project=project, organisation__short_name="Veneto")
    sanjuan = PartnerFactory(project=project, organisation__short_name="San Juan")
    staff = CostCategoryFactory(code=1, name="Human resources")
    travel = CostCategoryFactory(code=2, name="Travel")
    approved = BudgetFactory(
        project=project,
        version=1,
        approved_on=datetime.date(2025, 12, 1),
        total_eligible_cost=Decimal("10000.00"),
        eu_contribution=Decimal("8000.00"),
    )
    BudgetLineFactory(budget=approved, partner=veneto, category=staff, amount=Decimal("6000.00"))
    BudgetLineFactory(budget=approved, partner=sanjuan, category=staff, amount=Decimal("1500.00"))
    BudgetLineFactory(budget=approved, partner=sanjuan, category=travel, amount=Decimal("2500.00"))
    draft = BudgetFactory(
        project=project,
        version=2,
        is_current=False,
        indirect_cap=Decimal("0.0750"),
        total_eligible_cost=Decimal("10000.00"),
        eu_contribution=Decimal("8000.00"),
    )
    BudgetLineFactory(budget=draft, partner=veneto, category=staff, amount=Decimal("10000.00"))
    return SimpleNamespace(
        project=project, veneto=veneto, sanjuan=sanjuan, staff=staff, travel=travel, approved=approved, draft=draft
    )


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _budget_form(budget, **fields):
    return {
        "project": budget.project_id,
        "version": budget.version,
        "label": "Changed",
        "total_eligible_cost": "10000.00",
        "eu_contribution": "8000.00",
        "eu_max_rate": "0.8",
        "indirect_cap": "0.07",
        "flexibility_threshold": "0.15",
        "contingency_cap": "0.05",
        "rate_method": "month",
        "lines-TOTAL_FORMS": 0,
        "lines-INITIAL_FORMS": 0,
        **fields,
    }


def test_an_approved_budget_and_its_lines_are_read_only(admin_client, budgets):
    url = reverse("admin:finance_budget_change", args=[budgets.approved.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="total_eligible_cost"' not in page and 'name="lines-0-amount"' not in page
    assert 'name="_save"' not in page
    assert admin_client.post(url, _budget_form(budgets.approved)).status_code == 403
    assert admin_client.get(reverse("admin:finance_budget_delete", args=[budgets.approved.pk])).status_code == 403
    line = budgets.approved.lines.get(category=budgets.travel)
    line_url = reverse("admin:finance_budgetline_change", args=[line.pk])
    assert 'name="amount"' not in admin_client.get(line_url).content.decode()
    form = {"budget": budgets.approved.pk, "partner": line.partner_id, "category": line.category_id, "amount": "1"}
    assert admin_client.post(line_url, form).status_code == 403
    assert admin_client.get(reverse("admin:finance_budgetline_delete", args=[line.pk])).status_code == 403
    budgets.approved.refresh_from_db()
    assert (budgets.approved.label, budgets.approved.lines.get(pk=line.pk).amount) == ("", Decimal("2500.00"))


def test_a_line_is_added_only_to_a_version_in_preparation(admin_client, budgets):
    add = admin_client.get(reverse("admin:finance_budgetline_add"))
    assert list(add.context["adminform"].form.fields["budget"].queryset) == [budgets.draft]
    form = {"partner": budgets.sanjuan.pk, "category": budgets.travel.pk, "amount": "100.00"}
    refused = admin_client.post(reverse("admin:finance_budgetline_add"), {"budget": budgets.approved.pk, **form})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert budgets.approved.lines.count() == 3
    added = admin_client.post(reverse("admin:finance_budgetline_add"), {"budget": budgets.draft.pk, **form})
    assert added.status_code == 302 and budgets.draft.lines.count() == 2


def test_a_version_in_preparation_stays_editable_until_approved(admin_client, budgets):
    url = reverse("admin:finance_budget_change", args=[budgets.draft.pk])
    assert 'name="total_eligible_cost"' in admin_client.get(url).content.decode()
    response = admin_client.post(url, _budget_form(budgets.draft, approved_on="2026-06-30"))
    assert response.status_code == 302
    budgets.draft.refresh_from_db()
    assert (budgets.draft.label, budgets.draft.approved_on) == ("Changed", datetime.date(2026, 6, 30))
    assert admin_client.post(url, _budget_form(budgets.draft, label="Again")).status_code == 403


def test_a_revert_cannot_reopen_an_approved_budget(admin_client, budgets):
    budget = budgets.draft
    before_approval = budget.history.get().history_id
    budget.approved_on = datetime.date(2026, 6, 30)
    budget.save()
    url = reverse("admin:finance_budget_simple_history", args=[budget.pk, before_approval])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, _budget_form(budget)).status_code == 403
    budget.refresh_from_db()
    assert budget.approved_on == datetime.date(2026, 6, 30)


def test_the_admin_makes_another_version_current(admin_client, budgets):
    url = reverse("admin:finance_budget_changelist")
    action = {"action": "make_current", "_selected_action": [budgets.draft.pk]}
    response = admin_client.post(url, action, follow=True)
    assert "COCAP budget v2 is now the current budget." in response.content.decode()
    assert list(Budget.objects.filter(is_current=True)) == [budgets.draft]
    assert budgets.approved.history.first().history_user.username == "root"
    both = {"action": "make_current", "_selected_action": [budgets.draft.pk, budgets.approved.pk]}
    assert "Select one budget version." in admin_client.post(url, both, follow=True).content.decode()
    assert list(Budget.objects.filter(is_current=True)) == [budgets.draft]


def _cells(page, column):
    return re.findall(rf'<td class="field-{column}">([^<]*)</td>', page)


def test_rates_show_as_percentages_and_stay_fractions(admin_client, budgets):
    page = admin_client.get(reverse("admin:finance_budget_changelist")).content.decode()
    # Newest version first.
    assert _cells(page, "eu_max_rate_percent") == ["80 %", "80 %"]
    assert _cells(page, "indirect_cap_percent") == ["7.5 %", "7 %"]
    assert _cells(page, "flexibility_threshold_percent") == ["15 %", "15 %"]
    assert _cells(page, "contingency_cap_percent") == ["5 %", "5 %"]
    approved = admin_client.get(reverse("admin:finance_budget_change", args=[budgets.approved.pk])).content.decode()
    readonly = re.findall(r'<div class="readonly">([^<]*)</div>', approved)
    assert {"80 %", "7 %", "15 %", "5 %"} <= set(readonly)
    assert "0.8000" not in approved
    draft = admin_client.get(reverse("admin:finance_budget_change", args=[budgets.draft.pk])).content.decode()
    assert 'name="indirect_cap" value="0.0750"' in draft
    assert Budget.objects.get(pk=budgets.draft.pk).indirect_cap == Decimal("0.0750")


def test_budgets_show_the_totals_of_their_lines(admin_client, budgets):
    page = admin_client.get(reverse("admin:finance_budget_changelist")).content.decode()
    assert _cells(page, "lines_total") == ["10000.00", "10000.00"]
    assert _cells(page, "total_eligible_cost") == ["10000.00", "10000.00"]
    approved = admin_client.get(reverse("admin:finance_budget_change", args=[budgets.approved.pk]))
    rows = re.findall(r"<tr><t[dh][^>]*>([^<]*)</t[dh]><t[dh]>([^<]*)</t[dh]></tr>", approved.content.decode())
    # Annex III's computed lines follow the headings they add up.
    assert rows == [
        ("1. Human resources", "7,500.00"),
        ("2. Travel", "2,500.00"),
        ("7. Subtotal of direct costs (1–6)", "10,000.00"),
        ("9. Total direct eligible costs (7 + 8)", "10,000.00"),
        ("11. Total eligible costs (9 + 10)", "10,000.00"),
        ("Total", "10,000.00"),
    ]


def test_the_list_of_lines_shows_the_totals_of_what_it_lists(admin_client, budgets):
    url = reverse("admin:finance_budgetline_changelist")
    totals = re.compile(r"<tr><t[dh][^>]*>([^<]*)</t[dh]><t[dh]>([^<]*)</t[dh]></tr>")
    everything = totals.findall(admin_client.get(url).content.decode())
    assert [everything[0], everything[1], everything[-1]] == [
        ("1. Human resources", "17,500.00"),
        ("2. Travel", "2,500.00"),
        ("Total", "20,000.00"),
    ]
    query = f"?budget__id__exact={budgets.approved.pk}&partner__id__exact={budgets.sanjuan.pk}"
    filtered = totals.findall(admin_client.get(url + query).content.decode())
    assert [filtered[0], filtered[1], filtered[-2], filtered[-1]] == [
        ("1. Human resources", "1,500.00"),
        ("2. Travel", "2,500.00"),
        ("11. Total eligible costs (9 + 10)", "4,000.00"),
        ("Total", "4,000.00"),
    ]
    assert BudgetLine.objects.count() == 4


def test_only_a_version_in_preparation_can_be_deleted(admin_client, budgets):
    url = reverse("admin:finance_budget_changelist")
    selected = {"action": "delete_selected", "_selected_action": [budgets.approved.pk, budgets.draft.pk]}
    refused = admin_client.post(url, selected).content.decode()
    assert "your account doesn't have permission to delete the following types of objects" in refused
    admin_client.post(url, {**selected, "post": "yes"})
    assert Budget.objects.count() == 2
    draft = {"action": "delete_selected", "_selected_action": [budgets.draft.pk], "post": "yes"}
    assert admin_client.post(url, draft).status_code == 302
    assert list(Budget.objects.all()) == [budgets.approved]
    assert budgets.approved.lines.count() == 3


def test_an_amendment_starts_as_a_copy_of_the_approved_version(admin_client, budgets):
    url = reverse("admin:finance_budget_changelist")
    response = admin_client.post(url, {"action": "new_version", "_selected_action": [budgets.approved.pk]})
    copy = Budget.objects.get(version=3)
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:finance_budget_change", args=[copy.pk]
    )
    assert (copy.approved_on, copy.is_current, copy.total_eligible_cost) == (None, False, Decimal("10000.00"))
    assert sorted(copy.lines.values_list("partner__organisation__short_name", "category__code", "amount")) == [
        ("San Juan", 1, Decimal("1500.00")),
        ("San Juan", 2, Decimal("2500.00")),
        ("Veneto", 1, Decimal("6000.00")),
    ]
    page = admin_client.get(response["Location"]).content.decode()
    assert "Version 3 was started as a copy of version 1: amend it here." in page
    assert 'name="lines-0-amount"' in page
    assert budgets.approved.lines.count() == 3
