"""Staff costs: timesheets by person and month, capped by the agreed time, declared as heading-1 expenses."""

import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from finance import services
from finance.models import Expenditure, Receipt, Timesheet, TimesheetRow
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    CostCategoryFactory,
    ExchangeRateFactory,
    PartnerFactory,
    ProjectFactory,
    StaffMemberFactory,
    director_of,
    observer_of,
    staff_of,
)

pytestmark = pytest.mark.django_db
MARCH = datetime.date(2026, 3, 1)
# "Today" for every test here: the middle of April 2026, so that March has ended and April has not.
TODAY = datetime.date(2026, 4, 15)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


@pytest.fixture
def world():
    project = ProjectFactory(code="cocap")
    veneto = PartnerFactory(project=project, currency="EUR")
    sanjuan = PartnerFactory(project=project, currency="ARS")
    activity1 = ActivityFactory(project=project, number=1, leader=veneto)
    activity4 = ActivityFactory(project=project, number=4, leader=veneto)
    CostCategoryFactory(code=1, name="Human resources")
    return SimpleNamespace(
        project=project,
        veneto=veneto,
        sanjuan=sanjuan,
        action11=ActionFactory(activity=activity1, number=1, responsible=veneto),
        action12=ActionFactory(activity=activity1, number=2, responsible=veneto),
        action41=ActionFactory(activity=activity4, number=1, responsible=sanjuan),
        staff=staff_of(veneto),
        staff_sanjuan=staff_of(sanjuan),
        director=director_of(project),
        observer=observer_of(project),
        anna=StaffMemberFactory(partner=veneto, name="Anna Rossi", hourly_rate=Decimal("23.45")),
        jorge=StaffMemberFactory(
            partner=sanjuan, name="Jorge Díaz", hourly_rate=Decimal("12500.50"), monthly_hours=Decimal("160.00")
        ),
        other_project_action=ActionFactory(),
    )


def _fill(world, member=None, month=MARCH, actor=None, **hours):
    """A timesheet of `member` (Anna) with hours by action name of the world, e.g. action11="10.25"."""
    member = member or world.anna
    return services.timesheet_create(
        actor=actor or (world.staff if member.partner == world.veneto else world.staff_sanjuan),
        staff_member=member,
        month=month,
        hours_by_action={getattr(world, name): Decimal(value) for name, value in hours.items()},
    )


def _declared(world, timesheet, actor=None):
    actor = actor or world.staff
    timesheet = services.timesheet_sign(actor=actor, timesheet=timesheet)
    return services.timesheet_declare(actor=actor, timesheet=timesheet)


def test_the_amount_is_the_hours_at_the_agreed_rate_to_the_cent(world):
    timesheet = _fill(world, action11="10.25", action12="7.50")
    timesheet.refresh_from_db()
    # 17.75 h x EUR 23.45 = 416.2375, half up: 416.24; by row 240.3625 -> 240.36 and 175.875 -> 175.88.
    assert (timesheet.total_hours, timesheet.hourly_rate, timesheet.amount) == (
        Decimal("17.75"),
        Decimal("23.45"),
        Decimal("416.24"),
    )
    from finance.selectors import timesheet_rows_priced

    assert [row.amount for row in timesheet_rows_priced(timesheet)] == [Decimal("240.36"), Decimal("175.88")]


def test_actions_without_hours_keep_no_row(world):
    timesheet = _fill(world, action11="8", action12="0")
    assert list(timesheet.rows.values_list("action__number", "hours")) == [(1, Decimal("8.00"))]


def test_hours_over_the_agreed_time_are_refused_naming_the_cap_and_nothing_is_saved(world):
    with pytest.raises(ValidationError) as error:
        _fill(world, action11="100", action12="20.25")
    assert error.value.messages == [
        "The hours add up to 120.25, over the 120.00 hours a month agreed with Anna Rossi: nothing was saved."
    ]
    assert not Timesheet.objects.exists()
    assert not TimesheetRow.objects.exists()


def test_exactly_the_agreed_time_is_accepted(world):
    assert _fill(world, action11="100", action12="20").total_hours == Decimal("120")


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("-1", "Action 1.1: hours cannot be negative."),
        ("2.30", "Action 1.1: 2.30 is not in quarter hours (.00, .25, .50 or .75)."),
        ("744.25", "Action 1.1: 744.25 hours is more than 2026-03 has (744)."),
    ],
)
def test_bad_hours_on_an_action_are_refused_with_the_reason(world, hours, message):
    world.anna.monthly_hours = Decimal("744.00")
    world.anna.save()
    with pytest.raises(ValidationError) as error:
        _fill(world, action11=hours)
    assert message in error.value.messages
    assert not Timesheet.objects.exists()


def test_a_row_may_not_hold_more_hours_than_february_has(world):
    world.anna.monthly_hours = Decimal("744.00")
    world.anna.save()
    with pytest.raises(ValidationError, match=r"Action 1\.1: 672\.25 hours is more than 2026-02 has \(672\)"):
        _fill(world, month=datetime.date(2026, 2, 1), action11="672.25")
    assert _fill(world, month=datetime.date(2026, 2, 1), action11="672").total_hours == Decimal("672")


def test_the_database_refuses_a_total_over_the_cap(world):
    timesheet = _fill(world, action11="8")
    with pytest.raises(IntegrityError), transaction.atomic():
        Timesheet.objects.filter(pk=timesheet.pk).update(total_hours=Decimal("120.25"))


def test_a_month_not_started_an_action_of_another_project_and_terms_not_yet_valid_are_refused(world):
    with pytest.raises(ValidationError) as error:
        _fill(world, month=datetime.date(2026, 5, 1), action11="1", other_project_action="2")
    assert "2026-05 has not started yet: fill the timesheet during the month or after it." in error.value.messages
    assert any("is not an action of the project" in message for message in error.value.messages)
    world.anna.valid_from = datetime.date(2026, 4, 1)
    world.anna.save()
    with pytest.raises(ValidationError, match="The terms agreed with Anna Rossi do not cover 2026-03"):
        _fill(world, action11="1")
    assert not Timesheet.objects.exists()


def test_one_timesheet_per_person_and_month(world):
    _fill(world, action11="1")
    with pytest.raises(ValidationError, match=r"This person already has a timesheet for this month\."):
        _fill(world, action12="2")
    assert Timesheet.objects.count() == 1


def test_only_the_partners_own_staff_fill_its_timesheets(world):
    for actor in (world.staff_sanjuan, world.director, world.observer):
        with pytest.raises(PermissionDenied):
            _fill(world, actor=actor, action11="1")
    assert not Timesheet.objects.exists()


def test_editing_clears_the_signature_and_a_stale_copy_is_refused(world):
    timesheet = services.timesheet_sign(actor=world.staff, timesheet=_fill(world, action11="8"))
    assert (timesheet.signed, timesheet.signed_by) == (True, world.staff)
    updated = services.timesheet_update(
        actor=world.staff,
        timesheet=timesheet,
        revision=timesheet.revision,
        hours_by_action={world.action11: Decimal("9"), world.action12: Decimal("1.5")},
    )
    assert (updated.total_hours, updated.amount, updated.signed, updated.signed_by) == (
        Decimal("10.5"),
        Decimal("246.23"),  # 10.5 x 23.45 = 246.225, half up
        False,
        None,
    )
    with pytest.raises(ValidationError, match="Someone else saved this timesheet"):
        services.timesheet_update(
            actor=world.staff, timesheet=timesheet, revision=timesheet.revision, hours_by_action={}
        )


def test_declaring_creates_one_heading_1_expense_with_the_timesheet_pdf_as_its_receipt(
    world, django_capture_on_commit_callbacks
):
    timesheet = _declared(world, _fill(world, action11="10.25", action12="7.50"))
    expense = Expenditure.objects.get()
    assert timesheet.expenditure == expense
    assert (expense.partner, expense.category.code, expense.date_incurred) == (
        world.veneto,
        1,
        datetime.date(2026, 3, 31),
    )
    assert (expense.amount, expense.currency, expense.amount_eur, expense.status) == (
        Decimal("416.24"),
        "EUR",
        Decimal("416.24"),
        Expenditure.Status.SUBMITTED,
    )
    assert expense.activity == world.action11.activity  # both actions are of activity 1
    receipt = Receipt.objects.get()
    assert (receipt.expenditure, receipt.content_type) == (expense, "application/pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.file.read())).pages)
    for expected in ("Anna Rossi", "2026-03", "10.25", "240.36", "175.88", "17.75", "416.24 EUR", "Signed by"):
        assert expected in text


def test_a_local_currency_timesheet_is_converted_at_the_months_rate(world):
    ExchangeRateFactory(currency="ARS", month=MARCH, rate=Decimal("1050.25"))
    timesheet = _declared(world, _fill(world, member=world.jorge, action41="100"), actor=world.staff_sanjuan)
    expense = timesheet.expenditure
    # 100 h x ARS 12,500.50 = 1,250,050.00; / 1050.25 = 1190.2404... -> EUR 1,190.24.
    assert (expense.amount, expense.currency, expense.amount_eur) == (
        Decimal("1250050.00"),
        "ARS",
        Decimal("1190.24"),
    )


def test_declaring_needs_the_signature(world):
    with pytest.raises(ValidationError, match="Tick that the person and the supervisor signed"):
        services.timesheet_declare(actor=world.staff, timesheet=_fill(world, action11="8"))
    assert not Expenditure.objects.exists()


def test_a_month_not_ended_cannot_be_declared(world):
    timesheet = services.timesheet_sign(actor=world.staff, timesheet=_fill(world, month=TODAY, action11="8"))
    with pytest.raises(ValidationError, match=r"2026-04 has not ended yet: declare it from 2026-04-30\."):
        services.timesheet_declare(actor=world.staff, timesheet=timesheet)
    assert not Expenditure.objects.exists()
    assert not Receipt.objects.exists()
    assert Timesheet.objects.get().expenditure is None


def test_a_declared_timesheet_is_read_only_and_its_expense_changes_only_through_it(world, client):
    timesheet = _declared(world, _fill(world, action11="8"))
    with pytest.raises(ValidationError, match=r"This timesheet is Declared and can no longer be changed\."):
        services.timesheet_update(
            actor=world.staff, timesheet=timesheet, revision=timesheet.revision, hours_by_action={}
        )
    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.timesheet_declare(actor=world.staff, timesheet=timesheet)
    assert Expenditure.objects.count() == 1
    # Returned, its expense is still not edited nor deleted as an ordinary one.
    services.expenditure_return(actor=world.director, expenditure=timesheet.expenditure, note="Hours of 1.1?")
    client.force_login(world.staff)
    expense = timesheet.expenditure
    assert client.get(reverse("finance:expense-edit", args=[expense.pk])).status_code == 403
    assert client.get(reverse("finance:expense-detail", args=[expense.pk])).status_code == 200
    client.post(reverse("finance:expense-delete", args=[expense.pk]))
    assert Expenditure.objects.filter(pk=expense.pk).exists()


def test_a_returned_timesheet_is_corrected_and_its_expense_updated(world, django_capture_on_commit_callbacks):
    timesheet = _declared(world, _fill(world, action11="8"))
    expense = timesheet.expenditure
    services.expenditure_return(actor=world.director, expenditure=expense, note="Action 1.2 is missing.")
    timesheet = Timesheet.objects.get(pk=timesheet.pk)
    assert timesheet.state == Timesheet.State.RETURNED
    corrected = services.timesheet_update(
        actor=world.staff,
        timesheet=timesheet,
        revision=timesheet.revision,
        hours_by_action={world.action11: Decimal("8"), world.action12: Decimal("4.25")},
    )
    with pytest.raises(ValidationError, match="Tick that the person"):
        services.timesheet_declare(actor=world.staff, timesheet=corrected)
    redeclared = _declared(world, corrected)
    assert redeclared.expenditure.pk == expense.pk
    expense = Expenditure.objects.get()
    # 12.25 h x 23.45 = 287.2625 -> 287.26
    assert (expense.amount, expense.amount_eur, expense.status) == (
        Decimal("287.26"),
        Decimal("287.26"),
        Expenditure.Status.SUBMITTED,
    )
    receipt = Receipt.objects.get()
    text = PdfReader(io.BytesIO(receipt.file.read())).pages[0].extract_text()
    assert "12.25" in text and "287.26" in text
    assert Timesheet.objects.get().state == Timesheet.State.DECLARED


def test_a_verified_timesheet_cannot_be_changed_again(world):
    timesheet = _declared(world, _fill(world, action11="8"))
    services.expenditure_verify(
        actor=world.director, expenditure=timesheet.expenditure, checklist=Expenditure.CHECKLIST
    )
    timesheet = Timesheet.objects.get(pk=timesheet.pk)
    with pytest.raises(ValidationError, match="This timesheet is Verified"):
        services.timesheet_sign(actor=world.staff, timesheet=timesheet)


# Pages


def test_a_partner_fills_the_grid_and_sees_its_timesheet(world, client):
    client.force_login(world.staff)
    page = client.get(reverse("finance:timesheet-create"))
    assert page.status_code == 200
    content = page.content.decode()
    assert f'name="action_{world.action41.pk}"' in content
    assert "Jorge" not in content  # another partner's staff is not offered
    response = client.post(
        reverse("finance:timesheet-create"),
        {"staff_member": world.anna.pk, "month": "2026-03", f"action_{world.action11.pk}": "10.25"},
    )
    timesheet = Timesheet.objects.get()
    assert response.url == reverse("finance:timesheet-detail", args=[timesheet.pk])
    detail = client.get(response.url).content.decode()
    assert "240.36" in detail
    assert "10.25" in detail


def test_the_grid_shows_the_cap_message_and_saves_nothing(world, client):
    client.force_login(world.staff)
    response = client.post(
        reverse("finance:timesheet-create"),
        {
            "staff_member": world.anna.pk,
            "month": "2026-03",
            f"action_{world.action11.pk}": "100",
            f"action_{world.action12.pk}": "30",
        },
    )
    assert response.status_code == 200
    assert "over the 120.00 hours a month agreed with Anna Rossi" in response.content.decode()
    assert not Timesheet.objects.exists()


def test_the_grid_refuses_another_partners_staff_member(world, client):
    client.force_login(world.staff)
    response = client.post(
        reverse("finance:timesheet-create"),
        {"staff_member": world.jorge.pk, "month": "2026-03", f"action_{world.action41.pk}": "1"},
    )
    assert response.status_code == 200
    assert not Timesheet.objects.exists()


def test_the_edit_page_corrects_the_hours(world, client):
    timesheet = _fill(world, action11="8")
    client.force_login(world.staff)
    url = reverse("finance:timesheet-edit", args=[timesheet.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"revision": timesheet.revision, f"action_{world.action12.pk}": "2"})
    timesheet.refresh_from_db()
    assert (timesheet.total_hours, timesheet.amount) == (Decimal("2"), Decimal("46.90"))


def test_sign_declare_and_download_through_the_pages(world, client):
    timesheet = _fill(world, action11="8")
    client.force_login(world.staff)
    client.post(reverse("finance:timesheet-sign", args=[timesheet.pk]))
    client.post(reverse("finance:timesheet-declare", args=[timesheet.pk]))
    timesheet.refresh_from_db()
    receipt = Receipt.objects.get()
    assert timesheet.expenditure == receipt.expenditure
    detail = client.get(reverse("finance:timesheet-detail", args=[timesheet.pk])).content.decode()
    assert reverse("finance:receipt-download", args=[receipt.pk]) in detail
    assert reverse("finance:timesheet-edit", args=[timesheet.pk]) not in detail
    assert client.get(reverse("finance:timesheet-edit", args=[timesheet.pk])).status_code == 403
    pdf = client.get(reverse("finance:timesheet-pdf", args=[timesheet.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert "187.60" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()  # 8 h x 23.45


@pytest.mark.parametrize("view", ["detail", "edit", "pdf", "sign", "declare"])
def test_another_partners_timesheet_answers_404(world, client, view):
    timesheet = _fill(world, member=world.jorge, actor=world.staff_sanjuan, action41="8")
    client.force_login(world.staff)
    url = reverse(f"finance:timesheet-{view}", args=[timesheet.pk])
    response = client.post(url) if view in ("sign", "declare") else client.get(url)
    assert response.status_code == 404
    timesheet.refresh_from_db()
    assert (timesheet.signed, timesheet.expenditure) == (False, None)


def test_the_list_shows_a_partner_its_own_and_a_director_all(world, client):
    _fill(world, action11="8")
    _fill(world, member=world.jorge, actor=world.staff_sanjuan, action41="8")
    client.force_login(world.staff)
    content = client.get(reverse("finance:timesheet-list")).content.decode()
    assert "Anna Rossi" in content and "Jorge" not in content
    client.force_login(world.director)
    content = client.get(reverse("finance:timesheet-list")).content.decode()
    assert "Anna Rossi" in content and "Jorge Díaz" in content
    assert 'href="/timesheets/new/"' not in content


def _grow(world, months):
    for number in range(months):
        month = datetime.date(2026, 1 + number % 3, 1)
        member = StaffMemberFactory(partner=world.veneto if number % 2 else world.sanjuan)
        services.timesheet_create(
            actor=world.staff if number % 2 else world.staff_sanjuan,
            staff_member=member,
            month=month,
            hours_by_action={world.action11: Decimal("1")},
        )


@pytest.mark.parametrize("role", ["director", "staff"])
def test_the_list_keeps_its_query_count_as_timesheets_grow(world, client, django_assert_num_queries, role):
    client.force_login(getattr(world, role))
    _grow(world, 2)
    # session, user, visible projects, savepoint pair, membership; the count and the page of timesheets.
    with django_assert_num_queries(9):
        client.get(reverse("finance:timesheet-list"))
    _grow(world, 20)
    with django_assert_num_queries(9):
        response = client.get(reverse("finance:timesheet-list"))
    assert response.status_code == 200
