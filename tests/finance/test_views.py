import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from finance import services
from finance.models import ContingencyAuthorisation, CostCategory, EUPayment, Expenditure, Receipt
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
from tests.files import PDF, upload

pytestmark = pytest.mark.django_db


@dataclass
class World:
    project: object
    partner_a: object
    partner_b: object
    category: object
    staff_a: object
    staff_b: object
    director: object
    observer: object
    outsider: object
    draft_b: object
    submitted_a: object
    receipt_b: object


@pytest.fixture
def world():
    project = ProjectFactory(code="cocap")
    partner_a = PartnerFactory(project=project, currency="BRL")
    partner_b = PartnerFactory(project=project, currency="EUR")
    category = CostCategoryFactory(code=2, name="Travel")
    budget = BudgetFactory(project=project, total_eligible_cost=Decimal("3000.00"), eu_contribution=Decimal("2400.00"))
    BudgetLineFactory(budget=budget, partner=partner_a, category=category, amount=Decimal("1000.00"))
    BudgetLineFactory(budget=budget, partner=partner_b, category=category, amount=Decimal("2000.00"))
    ExchangeRateFactory(currency="BRL", month=datetime.date(2026, 3, 1), rate=Decimal("6.25"))
    staff_a, staff_b = staff_of(partner_a), staff_of(partner_b)
    draft_b = ExpenditureFactory(partner=partner_b, category=category, author=staff_b, description="B's taxi")
    receipt_b = Receipt.objects.create(
        expenditure=draft_b,
        original_name="taxi.pdf",
        content_type="application/pdf",
        size=len(PDF),
        uploaded_by=staff_b,
    )
    receipt_b.file.save("taxi.pdf", upload("taxi.pdf").file)
    return World(
        project=project,
        partner_a=partner_a,
        partner_b=partner_b,
        category=category,
        staff_a=staff_a,
        staff_b=staff_b,
        director=director_of(project),
        observer=observer_of(project),
        outsider=staff_of(PartnerFactory()),
        draft_b=draft_b,
        submitted_a=ExpenditureFactory(
            partner=partner_a,
            category=category,
            author=staff_a,
            status="submitted",
            currency="BRL",
            amount=Decimal("62.50"),
            exchange_rate=Decimal("6.25"),
            amount_eur=Decimal("10.00"),
        ),
        receipt_b=receipt_b,
    )


def _url(world, name):
    targets = {
        "expense-detail": world.draft_b,
        "expense-edit": world.draft_b,
        "expense-delete": world.draft_b,
        "expense-submit": world.draft_b,
        "expense-verify": world.submitted_a,
        "expense-reject": world.submitted_a,
        "expense-return": world.submitted_a,
        "receipt-download": world.receipt_b,
        "receipt-delete": world.receipt_b,
    }
    if name == "budget-xlsx":
        return reverse("finance:budget-xlsx", args=[world.project.budgets.get().pk])
    if name in targets:
        return reverse(f"finance:{name}", args=[targets[name].pk])
    return reverse(f"finance:{name}")


POSTS = {"expense-submit", "expense-verify", "expense-reject", "expense-return", "receipt-delete", "payment-create"}
# The draft and receipt belong to partner B; the submitted expense to partner A.
ACCESS = {
    # The outsider works in another project, which has no budget: they see that project, never this one.
    "overview": {"staff_a": 200, "director": 200, "observer": 200, "outsider": 200},
    "budget": {"staff_a": 200, "director": 200, "observer": 200, "outsider": 404},
    "statement-xlsx": {"staff_a": 200, "director": 200, "observer": 200, "outsider": 404},
    # The outsider's own project is current for them: this project's budget is not found there.
    "budget-xlsx": {"staff_a": 200, "director": 200, "observer": 200, "outsider": 404},
    "budget-import": {"staff_a": 403, "director": 200, "observer": 403, "outsider": 403},
    "payment-create": {"staff_a": 403, "director": 302, "observer": 403, "outsider": 403},
    "expense-list": {"staff_a": 200, "director": 200, "observer": 200, "outsider": 200},
    "expense-csv": {"staff_a": 200, "director": 200, "observer": 200, "outsider": 200},
    "expense-create": {"staff_a": 200, "director": 403, "observer": 403, "outsider": 200},
    "expense-detail": {"staff_a": 404, "director": 200, "observer": 200, "outsider": 404},
    "expense-edit": {"staff_a": 404, "director": 403, "observer": 403, "outsider": 404},
    "expense-delete": {"staff_a": 404, "director": 403, "observer": 403, "outsider": 404},
    "expense-submit": {"staff_a": 404, "director": 403, "observer": 403, "outsider": 404},
    "expense-verify": {"staff_a": 403, "director": 302, "observer": 403, "outsider": 404},
    "expense-reject": {"staff_a": 403, "director": 302, "observer": 403, "outsider": 404},
    "expense-return": {"staff_a": 403, "director": 302, "observer": 403, "outsider": 404},
    "receipt-download": {"staff_a": 404, "director": 200, "observer": 200, "outsider": 404},
    "receipt-delete": {"staff_a": 404, "director": 403, "observer": 403, "outsider": 404},
}


@pytest.mark.parametrize(
    ("name", "role", "expected"),
    [(name, role, status) for name, roles in ACCESS.items() for role, status in roles.items()],
)
def test_each_role_gets_only_what_it_may(client, world, name, role, expected):
    client.force_login(getattr(world, role))
    url = _url(world, name)
    data = {"note": "Because.", "kind": "pre_financing", "received_on": "2026-02-01", "amount": "100.00"}
    response = client.post(url, data) if name in POSTS else client.get(url)
    assert response.status_code == expected


def test_partner_staff_see_only_their_own_money(client, world):
    client.force_login(world.staff_a)
    listed = list(client.get(reverse("finance:expense-list")).context["page"].object_list)
    assert listed == [world.submitted_a]
    overview = client.get(reverse("finance:overview")).context["overview"]
    assert overview.totals.budget == Decimal("1000.00")
    assert overview.checks == [] and overview.partners == []
    csv_text = b"".join(client.get(reverse("finance:expense-csv")).streaming_content).decode()
    assert "B's taxi" not in csv_text


def _verify(partner, category, amount, reviewer, activity=None):
    return ExpenditureFactory(
        partner=partner,
        category=category,
        activity=activity,
        amount=Decimal(amount),
        amount_eur=Decimal(amount),
        status="verified",
        reviewer=reviewer,
    )


def test_directors_see_a_partner_by_heading_table_and_partners_do_not(client, world):
    equipment = CostCategoryFactory(code=3, name="Equipment")
    budget = world.project.budgets.get()
    BudgetLineFactory(budget=budget, partner=world.partner_a, category=equipment, amount=Decimal("250.50"))
    _verify(world.partner_a, world.category, "1200.10", world.director)
    _verify(world.partner_b, equipment, "99.99", world.director)
    client.force_login(world.director)
    response = client.get(reverse("finance:overview"))
    table = response.context["overview"].partner_headings
    D = Decimal
    cells = [(row.partner.key, [(cell.budget, cell.verified) for cell in row.cells]) for row in table]
    assert cells == [
        # Columns: 2. Travel, 3. Equipment.
        (world.partner_a, [(D("1000.00"), D("1200.10")), (D("250.50"), D("0.00"))]),
        (world.partner_b, [(D("2000.00"), D("0.00")), (D("0.00"), D("99.99"))]),
    ]
    assert [row.partner.budget for row in table] == [D("1250.50"), D("2000.00")]
    html = response.content.decode()
    assert 'id="by-partner-heading"' in html and html.count("over budget") == 2
    client.force_login(world.staff_a)
    mine = client.get(reverse("finance:overview"))
    assert mine.context["overview"].partner_headings == []
    assert 'id="by-partner-heading"' not in mine.content.decode()


def test_a_partners_chart_is_scaled_to_its_own_budget(client, world):
    client.force_login(world.staff_a)
    assert client.get(reverse("finance:overview")).context["overview"].absorption.top_label == "EUR 1,000.00"
    client.force_login(world.director)
    assert client.get(reverse("finance:overview")).context["overview"].absorption.top_label == "EUR 3,000.00"


def test_by_activity_shows_only_when_the_project_assigns_budget_to_activities(client, world):
    activity = ActivityFactory(project=world.project, number=3)
    _verify(world.partner_a, world.category, "10.00", world.director, activity=activity)
    client.force_login(world.director)
    for url, table in (("finance:overview", 'id="by-activity"'), ("finance:budget", 'id="budget-by-activity"')):
        response = client.get(reverse(url))
        assert table not in response.content.decode()
    BudgetLineFactory(
        budget=world.project.budgets.get(),
        partner=world.partner_a,
        category=world.category,
        activity=activity,
        amount=Decimal("300.00"),
    )
    overview = client.get(reverse("finance:overview"))
    assert 'id="by-activity"' in overview.content.decode()
    assert [(row.budget, row.verified) for row in overview.context["overview"].activities] == [
        (Decimal("300.00"), Decimal("10.00")),
        (Decimal("3000.00"), Decimal("0.00")),
    ]
    assert 'id="budget-by-activity"' in client.get(reverse("finance:budget")).content.decode()


def test_a_negative_remaining_in_the_statement_is_marked_and_explained(client, world):
    # Partner A: 1,000.00 budgeted, 1,200.10 verified: -200.10 remaining.
    _verify(world.partner_a, world.category, "1200.10", world.director)
    client.force_login(world.director)
    workbook = load_workbook(io.BytesIO(client.get(reverse("finance:statement-xlsx")).content))
    assert "By activity" not in workbook.sheetnames
    sheet = workbook["By partner"]
    rows = list(sheet.iter_rows())
    overspent = next(row for row in rows if row[0].value == str(world.partner_a))
    assert Decimal(str(overspent[4].value)).quantize(Decimal("0.01")) == Decimal("-200.10")
    assert (overspent[4].font.color.rgb, overspent[4].fill.fgColor.rgb) == ("009C0006", "00FFC7CE")
    within = next(row for row in rows if row[0].value == str(world.partner_b))
    assert within[4].fill.fill_type is None
    assert rows[-1][0].value == (
        f"Warning: more is verified than budgeted, so the remaining amount is negative, for: {world.partner_a}."
    )
    # By heading, travel has 3,000.00 budgeted: nothing to warn of.
    assert not any("Warning" in str(row[0].value) for row in workbook["By heading"].iter_rows())


def test_the_expense_list_pages_newest_first_and_only_what_the_user_may_see(client, world):
    # 28 more of partner B's expenses, on days 1-28 of April, two of them on the same day as the dates tie.
    for day in range(1, 29):
        ExpenditureFactory(
            partner=world.partner_b,
            category=world.category,
            author=world.staff_b,
            date_incurred=datetime.date(2026, 4, 1 if day == 28 else day),
            description=f"April {day}",
        )
    client.force_login(world.director)
    first = client.get(reverse("finance:expense-list")).context["page"]
    second = client.get(reverse("finance:expense-list"), {"page": 2}).context["page"]
    assert first.paginator.count == 30
    assert [e.description for e in first][:3] == ["April 27", "April 26", "April 25"]
    # The two on April 1st, the later one first; then the March expenses, the later one first too.
    assert [e.description for e in second] == ["April 2", "April 28", "April 1", "Seminar room", "B's taxi"]
    client.force_login(world.staff_a)
    assert [e.description for e in client.get(reverse("finance:expense-list")).context["page"]] == ["Seminar room"]


def _listed_and_exported(client, query):
    """Return the descriptions the list page shows and those its CSV export writes, for the same query string."""
    listed = [e.description for e in client.get(reverse("finance:expense-list"), query).context["page"].object_list]
    response = client.get(reverse("finance:expense-csv"), query)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return listed, [row[4] for row in rows[1:]]


@pytest.fixture
def spread(world):
    """Expenses of both partners in two headings and several statuses, each with its own description."""
    equipment = CostCategoryFactory(code=3, name="Equipment")
    for partner, category, status in (
        (world.partner_a, world.category, "verified"),
        (world.partner_a, equipment, "submitted"),
        (world.partner_a, equipment, "verified"),
        (world.partner_b, world.category, "submitted"),
        (world.partner_b, equipment, "verified"),
        (world.partner_b, equipment, "returned"),
    ):
        ExpenditureFactory(
            partner=partner,
            category=category,
            status=status,
            description=f"{partner.pk} {category.name} {status}",
            reviewer=world.director if status != "submitted" else None,
        )
    return equipment


@pytest.mark.parametrize(
    "filters",
    [{}, {"status": "verified"}, {"partner": "b"}, {"category": "equipment"}, {"status": "submitted", "partner": "a"}],
)
def test_the_csv_exports_exactly_what_the_filtered_list_shows(client, world, spread, filters):
    values = {"a": world.partner_a.pk, "b": world.partner_b.pk, "equipment": spread.pk}
    query = {name: values.get(value, value) for name, value in filters.items()}
    client.force_login(world.director)
    listed, exported = _listed_and_exported(client, query)
    assert listed == exported
    everything, _ = _listed_and_exported(client, {})
    assert 0 < len(listed) <= len(everything) == 8
    assert (len(listed) < len(everything)) == bool(filters)


def test_partner_staff_never_export_another_partners_expenses_even_when_asking_for_them(client, world, spread):
    client.force_login(world.staff_a)
    own = {e.description for e in Expenditure.objects.filter(partner=world.partner_a)}
    for query in ({"partner": world.partner_b.pk}, {"partner": world.partner_b.pk, "status": "verified"}):
        listed, exported = _listed_and_exported(client, query)
        assert listed == exported
        assert exported and set(exported) <= own
    statement = load_workbook(io.BytesIO(client.get(reverse("finance:statement-xlsx")).content))
    declared = {row[4] for row in statement["Declared expenses"].iter_rows(min_row=2, values_only=True)}
    assert declared == {e.description for e in world.partner_a.expenditures.declared()}


def test_forbidden_posts_change_nothing(client, world):
    client.force_login(world.staff_a)
    client.post(_url(world, "expense-submit"))
    client.post(_url(world, "receipt-delete"))
    client.post(_url(world, "expense-verify"))
    client.force_login(world.observer)
    client.post(_url(world, "expense-reject"), {"note": "No."})
    world.draft_b.refresh_from_db()
    world.submitted_a.refresh_from_db()
    assert (world.draft_b.status, world.submitted_a.status) == ("draft", "submitted")
    assert Receipt.objects.filter(pk=world.receipt_b.pk).exists()


def _expense_form(world, **overrides):
    return {
        "date_incurred": "2026-03-10",
        "category": world.category.pk,
        "description": "Bus tickets for the seminar",
        "supplier": "Viação Sul",
        "document_ref": "NF-0042",
        "amount": "125.00",
    } | overrides


def test_partner_declares_in_local_currency_and_the_director_verifies(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    world.staff_a.email = "a@example.org"
    world.staff_a.save()
    client.force_login(world.staff_a)
    response = client.post(reverse("finance:expense-create"), _expense_form(world, receipts=[upload("nf.pdf")]))
    expense = Expenditure.objects.get(description="Bus tickets for the seminar")
    assert response.url == reverse("finance:expense-detail", args=[expense.pk])
    assert (expense.currency, expense.amount, expense.exchange_rate, expense.amount_eur) == (
        "BRL",
        Decimal("125.00"),
        Decimal("6.25"),
        Decimal("20.00"),
    )
    assert list(expense.receipts.values_list("original_name", flat=True)) == ["nf.pdf"]
    client.post(reverse("finance:expense-submit", args=[expense.pk]))
    client.force_login(world.director)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("finance:expense-verify", args=[expense.pk]), {"note": "", "checklist": Expenditure.CHECKLIST}
        )
    expense.refresh_from_db()
    assert (expense.status, expense.reviewer) == ("verified", world.director)
    assert mailoutbox[-1].to == ["a@example.org"]
    overview = client.get(reverse("finance:overview")).context["overview"]
    assert overview.totals.verified == Decimal("20.00")
    client.force_login(world.staff_a)
    assert client.get(reverse("finance:expense-edit", args=[expense.pk])).status_code == 403


def test_reject_and_return_need_a_reason(client, world):
    client.force_login(world.director)
    response = client.post(_url(world, "expense-reject"), {"note": " "}, follow=True)
    assert "Say why the expense is not eligible." in response.content.decode()
    response = client.post(_url(world, "expense-return"), {"note": ""}, follow=True)
    assert "Say what needs fixing when you return an expense." in response.content.decode()
    world.submitted_a.refresh_from_db()
    assert world.submitted_a.status == "submitted"


def test_verifying_twice_verifies_once(client, world):
    client.force_login(world.director)
    client.post(_url(world, "expense-verify"), {"checklist": Expenditure.CHECKLIST})
    response = client.post(_url(world, "expense-verify"), {"checklist": Expenditure.CHECKLIST}, follow=True)
    assert "is Verified and cannot be changed that way" in response.content.decode()
    assert world.submitted_a.history.filter(status="verified").count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "0"}, "greater than or equal to 0.01"),
        ({"amount": "-5"}, "greater than or equal to 0.01"),
        ({"amount": "abc"}, "Enter a number"),
        ({"date_incurred": "2025-12-31"}, "The date must fall inside the project period"),
        ({"date_incurred": "2026-04-10"}, "There is no BRL exchange rate for 2026-04 yet"),
        ({"description": ""}, "This field is required"),
        ({"receipts": "WRONG"}, "is not a PDF, an image"),
    ],
    ids=["zero", "negative", "not-a-number", "outside-project", "missing-rate", "no-description", "wrong-file"],
)
def test_bad_input_gives_a_clear_error_and_saves_nothing(client, world, settings, overrides, message):
    if overrides.get("receipts") == "WRONG":
        overrides["receipts"] = upload("nf.pdf", b"<script>alert(1)</script>")
    client.force_login(world.staff_a)
    before = Expenditure.objects.count(), Receipt.objects.count()
    response = client.post(reverse("finance:expense-create"), _expense_form(world, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (Expenditure.objects.count(), Receipt.objects.count()) == before
    assert sorted(p.name for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) == ["taxi.pdf"]


def test_a_stale_edit_is_refused_and_the_typed_text_kept(client, world):
    client.force_login(world.staff_b)
    url = reverse("finance:expense-edit", args=[world.draft_b.pk])
    opened = client.get(url).context["form"]["revision"].value()
    client.post(url, _expense_form(world, description="Colleague's change", revision=opened))
    response = client.post(url, _expense_form(world, description="My change", revision=opened))
    assert "Someone else saved this expense while you were editing it" in response.content.decode()
    assert "My change" in response.content.decode()
    world.draft_b.refresh_from_db()
    assert world.draft_b.description == "Colleague's change"


def test_html_in_a_description_is_shown_escaped(client, world):
    client.force_login(world.staff_b)
    client.post(reverse("finance:expense-create"), _expense_form(world, description="<img src=x onerror=alert(1)>"))
    expense = Expenditure.objects.get(description__startswith="<img")
    content = client.get(reverse("finance:expense-detail", args=[expense.pk])).content.decode()
    assert "<img src=x" not in content and "&lt;img src=x onerror=alert(1)&gt;" in content


def test_earlier_budget_versions_stay_readable(client, world):
    first_version = world.project.budgets.get().version
    world.project.budgets.update(is_current=False)
    BudgetFactory(
        project=world.project,
        version=first_version + 1,
        total_eligible_cost=Decimal("5000.00"),
        eu_contribution=Decimal("4000.00"),
    )
    client.force_login(world.observer)
    current = client.get(reverse("finance:budget"))
    assert current.context["budget"].version == first_version + 1
    first = client.get(reverse("finance:budget"), {"version": first_version})
    headings = first.context["headings"]
    assert [row.budget for row in headings if not row.is_subtotal] == [Decimal("3000.00")]
    # Annex III's lines 7, 9 and 11 follow, computed.
    assert [(row.line, row.budget) for row in headings if row.is_subtotal] == [
        (line, Decimal("3000.00")) for line in (7, 9, 11)
    ]
    assert "superseded" in first.content.decode()


def test_payments_page_says_how_much_pre_financing_can_be_requested(client, world):
    client.force_login(world.director)
    client.post(
        reverse("finance:payment-create"), {"kind": "pre_financing", "received_on": "2026-02-01", "amount": "100.00"}
    )
    assert EUPayment.objects.get().amount == Decimal("100.00")
    # Cap 90 % of 2,400.00 = 2,160.00, 2,060.00 left; nothing verified, 70.00 needed: cut by 70.00.
    page = client.get(reverse("finance:overview")).content.decode()
    assert "Pre-financing that can be requested now: EUR 1,990.00." in page
    planned = client.get(reverse("finance:overview"), {"tranche": "500.00"}).content.decode()
    assert "Pre-financing that can be requested now: EUR 430.00." in planned
    tampered = client.get(reverse("finance:overview"), {"tranche": "lots"}).content.decode()
    assert "Enter a number." in tampered and "EUR 1,990.00." in tampered
    response = client.post(
        reverse("finance:payment-create"),
        {"kind": "pre_financing", "received_on": "2026-02-01", "amount": "99999"},
        follow=True,
    )
    assert "over 90 % of the EU contribution" in response.content.decode()
    assert EUPayment.objects.count() == 1


def test_directors_check_a_chosen_version_against_the_contract_and_partners_do_not_see_it(client, world):
    contract = world.project.budgets.get()
    contract.approved_on = datetime.date(2026, 1, 1)
    contract.save()
    draft = BudgetFactory(
        project=world.project,
        version=contract.version + 1,
        is_current=False,
        total_eligible_cost=Decimal("3000.00"),
        eu_contribution=Decimal("2400.00"),
    )
    lodging = CostCategoryFactory(code=3, name="Equipment and supplies")
    # Travel: 3,000.00 in the contract, 2,500.00 in the draft: -500.00 is 16.67 %, 50.00 beyond the 450.00 allowed.
    BudgetLineFactory(budget=draft, partner=world.partner_a, category=world.category, amount=Decimal("500.00"))
    BudgetLineFactory(budget=draft, partner=world.partner_b, category=world.category, amount=Decimal("2000.00"))
    BudgetLineFactory(budget=draft, partner=world.partner_b, category=lodging, amount=Decimal("500.00"))
    client.force_login(world.director)
    page = client.get(reverse("finance:budget"), {"version": draft.version})
    flexibility = page.context["flexibility"]
    assert flexibility.contract == contract
    assert [(c.label, c.change, c.excess) for c in flexibility.version.breaches] == [
        ("2. Travel", Decimal("-500.00"), Decimal("50.00")),
        ("3. Equipment and supplies", Decimal("500.00"), Decimal("500.00")),
    ]
    html = page.content.decode()
    assert 'id="flexibility-version"' in html and "addendum needed: EUR 50.00 beyond" in html
    client.force_login(world.staff_a)
    mine = client.get(reverse("finance:budget"), {"version": draft.version})
    assert mine.context["flexibility"] is None
    assert 'id="flexibility"' not in mine.content.decode()
    # Only the partner's own line; the Annex III subtotals repeat it.
    assert [row.budget for row in mine.context["headings"] if row.budget and not row.is_subtotal] == [Decimal("500.00")]


def test_the_budget_page_of_another_version_keeps_its_query_count(client, world, django_assert_num_queries):
    contract = world.project.budgets.get()
    draft = BudgetFactory(project=world.project, version=contract.version + 1, is_current=False)
    BudgetLineFactory(budget=draft, partner=world.partner_a, category=world.category, amount=Decimal("800.00"))
    client.force_login(world.director)
    # Besides the page's own reads: the contract version, its lines and headings, the draft's headings and costs.
    with django_assert_num_queries(21):
        client.get(reverse("finance:budget"), {"version": draft.version})
    _grow(world, 10)
    with django_assert_num_queries(21):
        response = client.get(reverse("finance:budget"), {"version": draft.version})
    assert [c.amount for c in response.context["flexibility"].version.changes][:1] == [Decimal("800.00")]


@pytest.mark.parametrize("tranche", ["-1", "0", "NaN", "Infinity", "1e999", "9" * 5000, "\x00", "<b>1</b>"])
def test_a_tampered_planned_tranche_is_refused_and_the_cap_used(client, world, tranche):
    client.force_login(world.director)
    response = client.get(reverse("finance:overview"), {"tranche": tranche})
    assert response.status_code == 200
    assert response.context["overview"].pre_financing.planned is None
    assert response.context["tranche_form"].errors
    assert "<b>1</b>" not in response.content.decode()


def _grow(world, times):
    reviewer = UserFactory()
    for index in range(times):
        for partner, status in (
            (world.partner_a, "verified"),
            (world.partner_b, "submitted"),
            (world.partner_b, "draft"),
        ):
            expense = ExpenditureFactory(
                partner=partner,
                category=CostCategoryFactory(code=1 + index % 3),
                status=status,
                reviewer=reviewer,
                date_incurred=datetime.date(2026, 1 + index % 6, 5),
            )
            Receipt.objects.create(
                expenditure=expense,
                original_name="r.pdf",
                content_type="application/pdf",
                size=1,
                uploaded_by=reviewer,
                file="receipts/r.pdf",
            )


@pytest.mark.parametrize(
    ("role", "url", "queries"),
    [
        # session, user, visible projects, savepoint pair (5); membership; then the page's own reads:
        # budget, then budget lines, expense sums (and the headings' kinds) and labels by heading, partner and
        # activity, months, payments;
        # the flat-rate indirect costs (indirect lines and direct costs by partner), the contingency (authorisations,
        # its headings, and its expenses where a project has that heading, as this one has not),
        # the contract version (the current one here), the partner x heading table's budgets and costs.
        ("director", "finance:overview", 21),
        ("staff_a", "finance:overview", 16),
        # the contract version, and the budget's headings with the verified costs for the flexibility.
        ("observer", "finance:budget", 19),
        ("staff_a", "finance:budget", 14),
        ("director", "finance:expense-list", 13),  # partners seen, filters, count, the page's keys, its rows
        ("staff_a", "finance:expense-list", 12),
    ],
)
def test_pages_keep_their_query_count_when_the_data_grows_tenfold(
    client, world, django_assert_num_queries, role, url, queries
):
    client.force_login(getattr(world, role))
    _grow(world, 3)
    with django_assert_num_queries(queries):
        client.get(reverse(url))
    _grow(world, 30)
    with django_assert_num_queries(queries):
        response = client.get(reverse(url))
    assert response.status_code == 200


def test_a_full_disk_on_upload_gives_a_clear_error_and_saves_nothing(client, world, monkeypatch, settings):
    import errno

    from django.core.files.storage import FileSystemStorage

    stored = []
    real_save = FileSystemStorage._save

    def save_then_fill_the_disk(self, name, content):
        if stored:
            raise OSError(errno.ENOSPC, "No space left on device")
        stored.append(real_save(self, name, content))
        return stored[-1]

    monkeypatch.setattr(FileSystemStorage, "_save", save_then_fill_the_disk)
    client.force_login(world.staff_a)
    media = settings.MEDIA_ROOT
    before = {path for path in media.rglob("*") if path.is_file()}
    form = _expense_form(world, receipts=[upload("first.pdf"), upload("second.pdf")])
    response = client.post(reverse("finance:expense-create"), form)
    content = response.content.decode()
    assert response.status_code == 200
    assert "The server could not store the file second.pdf (No space left on device). Nothing was saved" in content
    assert not Expenditure.objects.filter(description="Bus tickets for the seminar").exists()
    assert not Receipt.objects.filter(original_name__in=["first.pdf", "second.pdf"]).exists()
    left = {path for path in media.rglob("*") if path.is_file()} - before
    assert stored and not left, "the first file was left behind"


def test_a_database_lost_mid_request_answers_503_and_keeps_nothing_of_it(client, world, monkeypatch):
    from django.db import OperationalError

    def connection_lost(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("finance.services._attach_receipts", connection_lost)
    client.raise_request_exception = False
    client.force_login(world.staff_a)
    response = client.post(reverse("finance:expense-create"), _expense_form(world))
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert "nothing of this request was saved" in response.content.decode()
    assert not Expenditure.objects.filter(description="Bus tickets for the seminar").exists()


def test_partner_staff_see_what_deleting_a_draft_expense_removes_then_delete_it(client, world):
    client.force_login(world.staff_b)
    url = reverse("finance:expense-delete", args=[world.draft_b.pk])
    page = client.get(url).content.decode()
    assert "B&#x27;s taxi" in page and "taxi.pdf" in page
    response = client.post(url)
    assert response.url == reverse("finance:expense-list")
    assert not Expenditure.objects.filter(pk=world.draft_b.pk).exists()
    assert not Receipt.objects.filter(pk=world.receipt_b.pk).exists()
    again = client.post(url, follow=True)
    assert again.redirect_chain == [(reverse("finance:expense-list"), 302)]
    assert "The expense was deleted." in again.content.decode()


def test_a_submitted_expense_cannot_be_deleted_and_the_page_says_why(client, world):
    client.force_login(world.staff_a)
    url = reverse("finance:expense-delete", args=[world.submitted_a.pk])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 403
        assert "This expense is Submitted: only draft and returned expenses can be deleted." in (
            response.content.decode()
        )
    client.force_login(world.director)
    response = client.post(reverse("finance:expense-delete", args=[world.draft_b.pk]))
    assert response.status_code == 403
    assert "Only the staff of the expense&#x27;s partner can delete it." in response.content.decode()
    assert Expenditure.objects.filter(pk__in=[world.submitted_a.pk, world.draft_b.pk]).count() == 2


def test_expense_delete_buttons_show_only_where_the_user_may_delete(client, world):
    delete_b = reverse("finance:expense-delete", args=[world.draft_b.pk])
    client.force_login(world.staff_b)
    listing = client.get(reverse("finance:expense-list"))
    assert listing.context["deletable"] == {world.draft_b.pk}
    assert delete_b in listing.content.decode()
    assert delete_b in client.get(reverse("finance:expense-detail", args=[world.draft_b.pk])).content.decode()
    assert delete_b in client.get(reverse("finance:expense-edit", args=[world.draft_b.pk])).content.decode()
    client.force_login(world.staff_a)
    assert client.get(reverse("finance:expense-list")).context["deletable"] == set()
    client.force_login(world.director)
    assert delete_b not in client.get(reverse("finance:expense-detail", args=[world.draft_b.pk])).content.decode()


def test_the_same_expense_form_sent_twice_declares_one_expense(client, world):
    client.force_login(world.staff_a)
    url = reverse("finance:expense-create")
    token = client.get(url).context["form"]["form_token"].value()
    first = client.post(url, _expense_form(world, form_token=token, receipts=[upload("nf.pdf")]))
    second = client.post(url, _expense_form(world, form_token=token, receipts=[upload("nf.pdf")]), follow=True)
    expense = Expenditure.objects.get(description="Bus tickets for the seminar")
    assert first.url == reverse("finance:expense-detail", args=[expense.pk])
    assert second.redirect_chain == [(first.url, 302)]
    assert "This form was sent twice: the expense was saved once" in second.content.decode()
    assert expense.receipts.count() == 1


def test_receipts_chosen_on_a_form_that_failed_are_kept_and_attached_when_it_is_saved(
    client, world, settings, django_capture_on_commit_callbacks
):
    client.force_login(world.staff_a)
    url = reverse("finance:expense-create")
    # No BRL rate for April: the service refuses after the form passed, and the receipt is kept all the same.
    failed = client.post(url, _expense_form(world, date_incurred="2026-04-10", receipts=[upload("nf.pdf")]))
    assert "There is no BRL exchange rate for 2026-04 yet" in failed.content.decode()
    assert "Files you already chose, kept for you" in failed.content.decode()
    hold_id = failed.context["form"].held_uploads[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, _expense_form(world, held_files=[hold_id]))
    expense = Expenditure.objects.get(description="Bus tickets for the seminar")
    assert list(expense.receipts.values_list("original_name", flat=True)) == ["nf.pdf"]
    assert expense.receipts.get().file.read() == PDF
    assert not list((settings.MEDIA_ROOT / "held").glob("*"))


def test_an_expense_dated_in_the_future_is_refused_on_the_form_and_today_accepted(client, world):
    today = timezone.localdate()
    world.project.start_date = today - datetime.timedelta(days=400)
    world.project.save()
    client.force_login(world.staff_b)
    url = reverse("finance:expense-create")
    assert f'max="{today.isoformat()}"' in client.get(url).content.decode()
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    response = client.post(url, _expense_form(world, date_incurred=tomorrow))
    assert f"The date cannot be in the future (today is {today.isoformat()})." in response.content.decode()
    assert client.post(url, _expense_form(world, date_incurred=today.isoformat())).status_code == 302
    assert Expenditure.objects.get(description="Bus tickets for the seminar").date_incurred == today


def test_a_review_note_over_the_limit_is_shown_again_and_decides_nothing(client, world):
    client.force_login(world.director)
    response = client.post(_url(world, "expense-reject"), {"note": "x" * 5_001})
    assert response.status_code == 200
    assert "This text has 5,001 characters; at most 5,000 are allowed." in response.content.decode()
    world.submitted_a.refresh_from_db()
    assert world.submitted_a.status == "submitted"


def test_verifying_records_the_checklist_shows_it_and_offers_the_next_expense(client, world):
    later = ExpenditureFactory(
        partner=world.partner_b, category=world.category, description="B's hotel", status="submitted"
    )
    client.force_login(world.director)
    url = _url(world, "expense-verify")
    response = client.post(url, {"checklist": ["check_eligible"]}, follow=True)
    assert "Tick every check before verifying" in response.content.decode()
    world.submitted_a.refresh_from_db()
    assert world.submitted_a.status == "submitted"
    response = client.post(url, {"checklist": Expenditure.CHECKLIST}, follow=True)
    page = response.content.decode()
    assert "Expense verified." in page and 'id="checklist"' in page and "✓ within the budget line" in page
    assert 'id="next-in-queue"' in page and reverse("finance:expense-detail", args=[later.pk]) in page
    # Partner staff see the checks recorded on their expense, never the directors' queue.
    client.force_login(world.staff_a)
    page = client.get(reverse("finance:expense-detail", args=[world.submitted_a.pk])).content.decode()
    assert "✓ eligible cost" in page and 'id="next-in-queue"' not in page


def test_a_returned_expense_says_to_submit_it_again(client, world):
    services.expenditure_return(actor=world.director, expenditure=world.submitted_a, note="Wrong amount.")
    client.force_login(world.staff_a)
    page = client.get(reverse("finance:expense-detail", args=[world.submitted_a.pk])).content.decode()
    assert 'id="next-step"' in page and "Submit again for verification" in page


def test_a_receipt_previews_inline_for_its_partner_only(client, world):
    client.force_login(world.staff_b)
    page = client.get(reverse("finance:expense-detail", args=[world.draft_b.pk])).content.decode()
    url = reverse("finance:receipt-download", args=[world.receipt_b.pk])
    assert f'src="{url}?preview"' in page
    assert client.get(url + "?preview")["Content-Disposition"].startswith("inline")
    client.force_login(world.staff_a)
    assert client.get(url + "?preview").status_code == 404


def test_the_expense_form_offers_no_indirect_heading_and_refuses_one_posted(client, world):
    indirect = CostCategoryFactory(code=10, name="Indirect costs", kind=CostCategory.Kind.INDIRECT)
    client.force_login(world.staff_a)
    url = reverse("finance:expense-create")
    offered = list(client.get(url).context["form"].fields["category"].queryset)
    assert world.category in offered and indirect not in offered
    response = client.post(url, _expense_form(world, category=indirect.pk))
    assert "Indirect costs are not among them: they are a flat rate" in response.content.decode()
    assert not Expenditure.objects.filter(category=indirect).exists()


def test_each_partner_sees_only_its_own_contingency_authorisations(client, world):
    reserve = CostCategoryFactory(code=8, name="Contingency reserve", kind=CostCategory.Kind.CONTINGENCY)
    BudgetLineFactory(budget=world.project.budgets.get(), partner=world.partner_b, category=reserve)
    for partner, amount in ((world.partner_a, "120.00"), (world.partner_b, "340.00")):
        ContingencyAuthorisation.objects.create(
            partner=partner,
            amount=Decimal(amount),
            reference=f"AUT-{amount}",
            authorised_on=datetime.date(2026, 2, 2),
            authorised_by="EU Delegation",
        )
    for status, amount in (("draft", "40.00"), ("verified", "25.00"), ("rejected", "100.00")):
        ExpenditureFactory(
            partner=world.partner_b,
            category=reserve,
            amount_eur=Decimal(amount),
            amount=Decimal(amount),
            status=status,
            reviewer=None if status == "draft" else world.director,
        )
    client.force_login(world.staff_b)
    mine = client.get(reverse("finance:overview")).context["overview"].contingency
    # B's draft of 40.00 and verified 25.00 take their part of B's 340.00, the rejected 100.00 none: 275.00 left.
    assert [(row.partner, row.authorised, row.committed, row.verified, row.available) for row in mine] == [
        (world.partner_b, Decimal("340.00"), Decimal("65.00"), Decimal("25.00"), Decimal("275.00"))
    ]
    client.force_login(world.director)
    page = client.get(reverse("finance:overview"))
    assert {row.partner for row in page.context["overview"].contingency} == {world.partner_a, world.partner_b}
    assert 'id="contingency"' in page.content.decode()


def _annex_file(client, world, **cells):
    """Download the current budget in the Annex III layout as the director, change `cells`, return it as an upload."""
    client.force_login(world.director)
    content = client.get(_url(world, "budget-xlsx")).content
    workbook = load_workbook(io.BytesIO(content))
    for cell, value in cells.items():
        workbook.active[cell] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("budget.xlsx", buffer.getvalue())


def test_a_director_imports_a_workbook_as_the_next_draft_version(client, world):
    # Row 4 is heading 2: partner A 1,000.00 (column C), partner B 2,000.00 (D); row 5 its subtotal, row 6 the total.
    upload = _annex_file(client, world, C4=1100, D4=1900, C5=1100, D5=1900, C6=1100, D6=1900)
    response = client.post(reverse("finance:budget-import"), {"file": upload, "label": "Addendum 1"})
    version = world.project.budgets.get(is_current=True).version + 1
    assert response.status_code == 302 and response["Location"] == f"{reverse('finance:budget')}?version={version}"
    page = client.get(response["Location"])
    assert "imported as a draft" in page.content.decode() and "Addendum 1" in page.content.decode()
    assert [row.budget for row in page.context["partners"]] == [Decimal("1100.00"), Decimal("1900.00")]


def test_a_wrong_workbook_shows_each_error_and_saves_nothing(client, world):
    upload = _annex_file(client, world, C4="lots", D4=-3)
    response = client.post(reverse("finance:budget-import"), {"file": upload})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Sheet “Annex III”, row 4, column C: “lots” is not an amount" in content
    assert "Sheet “Annex III”, row 4, column D: -3 is negative" in content
    assert world.project.budgets.count() == 1
    not_xlsx = SimpleUploadedFile("budget.xlsx", PDF)
    content = client.post(reverse("finance:budget-import"), {"file": not_xlsx}).content.decode()
    assert "The file is not an XLSX workbook" in content and world.project.budgets.count() == 1


def test_partner_staff_cannot_import_a_budget(client, world):
    upload = _annex_file(client, world)
    client.force_login(world.staff_a)
    assert client.post(reverse("finance:budget-import"), {"file": upload}).status_code == 403
    assert world.project.budgets.count() == 1


def test_the_budget_page_links_the_download_and_the_import_for_directors_only(client, world):
    budget = world.project.budgets.get()
    client.force_login(world.director)
    content = client.get(reverse("finance:budget")).content.decode()
    assert reverse("finance:budget-xlsx", args=[budget.pk]) in content and reverse("finance:budget-import") in content
    client.force_login(world.staff_a)
    content = client.get(reverse("finance:budget")).content.decode()
    assert reverse("finance:budget-xlsx", args=[budget.pk]) in content
    assert reverse("finance:budget-import") not in content
