import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities import services as activity_services
from core.models import Notification
from finance import services as finance_services
from finance.models import Expenditure
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    ExpenditureFactory,
    PartnerFactory,
    ProgressEntryFactory,
    ProjectFactory,
    director_of,
    staff_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    project = ProjectFactory()
    partner_a, partner_b = PartnerFactory(project=project), PartnerFactory(project=project)
    action = ActionFactory(activity=ActivityFactory(project=project, number=1), number=1, responsible=partner_a)
    staff_a = staff_of(partner_a, user__email="ana@example.org")
    staff_b = staff_of(partner_b, user__email="bea@example.org")
    director = director_of(project, user__email="dir@example.org")
    entry = ProgressEntryFactory(action=action, partner=partner_a, author=staff_a, percent_complete=40)
    return staff_a, staff_b, director, entry


def test_a_submission_tells_the_directors_in_the_portal_and_by_mail(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    staff_a, _staff_b, director, entry = world
    with django_capture_on_commit_callbacks(execute=True):
        activity_services.progress_entry_submit(actor=staff_a, entry=entry)
    notification = Notification.objects.get()
    assert (notification.recipient, notification.actor, notification.verb) == (director, staff_a, "submitted")
    assert notification.target == entry
    assert notification.summary == "Progress on 1.1, 40 %"
    assert notification.link == reverse("activities:entry-detail", args=[entry.pk])
    assert [mail.to for mail in mailoutbox] == [["dir@example.org"]]


def test_a_return_tells_the_author_and_a_refused_return_tells_nobody(world):
    staff_a, _staff_b, director, entry = world
    activity_services.progress_entry_submit(actor=staff_a, entry=entry)
    with pytest.raises(ValidationError):
        activity_services.progress_entry_return(actor=director, entry=entry, note="  ")
    assert not Notification.objects.filter(recipient=staff_a).exists()
    activity_services.progress_entry_return(actor=director, entry=entry, note="Add the attendance list.")
    assert list(Notification.objects.filter(recipient=staff_a).values_list("verb", flat=True)) == ["returned"]


def test_expense_decisions_tell_the_author(world):
    staff_a, _staff_b, director, entry = world
    expense = ExpenditureFactory(partner=entry.partner, author=staff_a, status="submitted", description="Taxi")
    finance_services.expenditure_verify(actor=director, expenditure=expense, checklist=Expenditure.CHECKLIST)
    notification = Notification.objects.get(recipient=staff_a)
    assert notification.verb == "verified"
    assert notification.summary == "Taxi (100.00 EUR)"
    assert notification.link == reverse("finance:expense-detail", args=[expense.pk])


def test_the_page_lists_only_my_notifications_and_the_navbar_counts_the_unread(client, world):
    staff_a, staff_b, director, entry = world
    activity_services.progress_entry_submit(actor=staff_a, entry=entry)
    activity_services.progress_entry_approve(actor=director, entry=entry)
    client.force_login(staff_a)
    page = client.get(reverse("notifications")).content.decode()
    assert "Progress on 1.1, 40 %" in page and "approved" in page
    assert 'id="unread-count">1<' in page
    client.force_login(staff_b)
    page = client.get(reverse("notifications")).content.decode()
    assert "Progress on 1.1" not in page and 'id="unread-count"' not in page


def test_what_happened_agrees_with_the_records_noun_in_italian_and_portuguese(client, world):
    staff_a, _staff_b, director, entry = world
    activity_services.progress_entry_submit(actor=staff_a, entry=entry)
    activity_services.progress_entry_approve(actor=director, entry=entry)
    expense = ExpenditureFactory(partner=entry.partner, author=staff_a, status="submitted", description="Taxi")
    finance_services.expenditure_verify(actor=director, expenditure=expense, checklist=Expenditure.CHECKLIST)
    client.force_login(staff_a)
    # Progress (avanzamento, progresso) is masculine, an expense (spesa, despesa) feminine.
    for language, approved, verified in (("it", "approvato", "verificata"), ("pt", "aprovado", "verificada")):
        page = client.get(reverse("notifications"), headers={"accept-language": language}).content.decode()
        assert f"<strong>{approved}</strong>" in page and f"<strong>{verified}</strong>" in page


def test_opening_a_notification_marks_it_read_and_goes_to_the_record(client, world):
    staff_a, staff_b, director, entry = world
    activity_services.progress_entry_submit(actor=staff_a, entry=entry)
    activity_services.progress_entry_approve(actor=director, entry=entry)
    mine = Notification.objects.get(recipient=staff_a)
    client.force_login(staff_b)
    assert client.get(reverse("notification-open", args=[mine.pk])).status_code == 404
    mine.refresh_from_db()
    assert mine.read_at is None
    client.force_login(staff_a)
    response = client.get(reverse("notification-open", args=[mine.pk]))
    assert response.url == reverse("activities:entry-detail", args=[entry.pk])
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_mark_all_read_touches_only_mine(client, world):
    staff_a, _staff_b, director, entry = world
    activity_services.progress_entry_submit(actor=staff_a, entry=entry)
    activity_services.progress_entry_approve(actor=director, entry=entry)
    client.force_login(director)
    client.post(reverse("notifications"))
    assert Notification.objects.get(recipient=director).read_at is not None
    assert Notification.objects.get(recipient=staff_a).read_at is None


@pytest.mark.parametrize("count", [2, 30])
def test_the_list_keeps_its_query_count_as_notifications_grow(client, world, count, django_assert_num_queries):
    staff_a, _staff_b, director, entry = world
    for _ in range(count):
        Notification.objects.create(
            recipient=staff_a, actor=director, verb="approved", target=entry, summary="Progress", link="/progress/1/"
        )
    client.force_login(staff_a)
    # session, user, savepoint pair; the count and page of notifications; the unread count in the navbar.
    with django_assert_num_queries(7):
        assert client.get(reverse("notifications")).status_code == 200
