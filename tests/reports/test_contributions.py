import datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse

from core.models import Notification
from core.validators import CONTRIBUTION_TEXT_MAX_CHARS
from reports import services
from reports.models import ContributionActivity, PartnerContribution
from reports.selectors import contributions_accepted_by_activity
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    PartnerFactory,
    ProjectFactory,
    ReportingPeriodFactory,
    director_of,
    observer_of,
    staff_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    project = ProjectFactory()
    lead = PartnerFactory(project=project, organisation__name="Regione del Veneto")
    sanjuan = PartnerFactory(project=project, organisation__name="Provincia de San Juan")
    PartnerFactory(project=project, organisation__name="Fondazione di Venezia")
    led = ActivityFactory(project=project, number=1, leader=lead)
    joined = ActivityFactory(project=project, number=2, leader=None)
    joined.participants.add(lead)
    with_action = ActivityFactory(project=project, number=3, leader=None)
    ActionFactory(activity=with_action, number=1, responsible=sanjuan)
    ActivityFactory(project=project, number=4, leader=None)
    return SimpleNamespace(
        project=project,
        lead=lead,
        sanjuan=sanjuan,
        activities=(led, joined, with_action),
        period=ReportingPeriodFactory(project=project, number=1),
        period2=ReportingPeriodFactory(
            project=project,
            number=2,
            start=datetime.date(2026, 7, 1),
            end=datetime.date(2026, 12, 31),
            due_date=datetime.date(2027, 2, 28),
        ),
        staff=staff_of(lead, user__email="staff@example.org"),
        staff_sanjuan=staff_of(sanjuan),
        director=director_of(project, user__email="director@example.org"),
        observer=observer_of(project),
    )


def test_a_contribution_covers_each_activity_the_partner_leads_or_works_on(world):
    lead_part = services.contribution_create(actor=world.staff, period=world.period)
    sanjuan_part = services.contribution_create(actor=world.staff_sanjuan, period=world.period)
    assert [line.activity.number for line in lead_part.lines.all()] == [1, 2]
    assert [line.activity.number for line in sanjuan_part.lines.all()] == [3]
    # One contribution a partner and period: a second start finds the first.
    with pytest.raises(services.AlreadySaved) as again:
        services.contribution_create(actor=world.staff, period=world.period)
    assert again.value.instance == lead_part
    with pytest.raises(services.PermissionDenied):
        services.contribution_create(actor=world.director, period=world.period)


def contribution_page(contribution):
    return reverse("reports:contribution-detail", args=[contribution.pk])


def _texts(contribution, **fields):
    return {line.pk: fields for line in contribution.lines.all()}


def test_a_contribution_is_returned_with_a_note_fixed_and_accepted(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.staff)
    page = client.post(reverse("reports:contribution-create", args=[1]))
    contribution = PartnerContribution.objects.get(partner=world.lead)
    assert page.url == reverse("reports:contribution-edit", args=[contribution.pk])
    led, _joined = contribution.lines.all()
    edit = reverse("reports:contribution-edit", args=[contribution.pk])
    fields = {"revision": contribution.revision, f"{led.pk}-done": "Due seminari a Montevideo"}
    assert client.post(edit, fields).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:contribution-submit", args=[contribution.pk]))
    assert mailoutbox[0].to == ["director@example.org"]
    # The same news is in the portal, linked to the contribution.
    told = Notification.objects.get(recipient=world.director)
    assert (told.verb, told.target, told.link) == ("submitted", contribution, contribution_page(contribution))
    # Submitted, it is read-only to the partner.
    assert client.get(edit).status_code == 403

    client.force_login(world.director)
    returning = reverse("reports:contribution-return", args=[contribution.pk])
    client.post(returning, {"note": "   "})
    contribution.refresh_from_db()
    assert contribution.status == "submitted"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(returning, {"note": "Manca la visibilità."})
    contribution.refresh_from_db()
    assert (contribution.status, contribution.reviewer, contribution.review_note) == (
        "returned",
        world.director,
        "Manca la visibilità.",
    )
    assert mailoutbox[-1].to == ["staff@example.org"] and "Manca la visibilità." in mailoutbox[-1].body
    assert list(Notification.objects.filter(recipient=world.staff).values_list("verb", flat=True)) == ["returned"]

    client.force_login(world.staff)
    assert "Manca la visibilità." in client.get(edit).content.decode()
    fields = {"revision": contribution.revision, f"{led.pk}-visibility": "Logo UE sui materiali"}
    assert client.post(edit, fields).status_code == 302
    client.post(reverse("reports:contribution-submit", args=[contribution.pk]))
    client.force_login(world.director)
    client.post(reverse("reports:contribution-approve", args=[contribution.pk]), {"note": ""})
    contribution.refresh_from_db()
    assert contribution.status == "approved"
    # In Italian a contribution (contributo) is "accettato".
    client.force_login(world.staff)
    page = client.get(reverse("notifications"), headers={"accept-language": "it"}).content.decode()
    assert "<strong>accettato</strong>" in page and "<strong>restituito per modifiche</strong>" in page
    led.refresh_from_db()
    # The second edit kept what the first wrote only where the form sent it again: here it did not.
    assert (led.done, led.visibility) == ("", "Logo UE sui materiali")
    accepted = contributions_accepted_by_activity(period=world.period)
    assert [line.contribution for line in accepted[world.activities[0].pk]] == [contribution]


def test_a_text_over_the_limit_is_refused_and_nothing_is_saved(client, world):
    contribution = services.contribution_create(actor=world.staff, period=world.period)
    line = contribution.lines.first()
    client.force_login(world.staff)
    page = client.post(
        reverse("reports:contribution-edit", args=[contribution.pk]),
        {"revision": contribution.revision, f"{line.pk}-results": "x" * (CONTRIBUTION_TEXT_MAX_CHARS + 1)},
    )
    assert page.status_code == 200 and "at most 5,000" in page.content.decode()
    line.refresh_from_db()
    assert line.results == ""


def test_a_stale_copy_does_not_overwrite_a_newer_save(world):
    contribution = services.contribution_create(actor=world.staff, period=world.period)
    services.contribution_update(
        actor=world.staff, contribution=contribution, revision=1, texts=_texts(contribution, done="prima")
    )
    with pytest.raises(services.ValidationError):
        services.contribution_update(
            actor=world.staff, contribution=contribution, revision=1, texts=_texts(contribution, done="seconda")
        )
    assert set(ContributionActivity.objects.values_list("done", flat=True)) == {"prima"}


def test_another_partners_contribution_answers_404(client, world):
    contribution = services.contribution_create(actor=world.staff, period=world.period)
    client.force_login(world.staff_sanjuan)
    for name in ("detail", "edit"):
        assert client.get(reverse(f"reports:contribution-{name}", args=[contribution.pk])).status_code == 404
    assert client.post(reverse("reports:contribution-submit", args=[contribution.pk])).status_code == 404
    contribution.refresh_from_db()
    assert contribution.status == "draft"


def test_observers_read_only_accepted_contributions_and_partners_only_their_own(client, world):
    draft = services.contribution_create(actor=world.staff, period=world.period)
    accepted = services.contribution_create(actor=world.staff_sanjuan, period=world.period)
    services.contribution_submit(actor=world.staff_sanjuan, contribution=accepted)
    services.contribution_approve(actor=world.director, contribution=accepted)
    client.force_login(world.observer)
    assert list(client.get(reverse("reports:contribution-list")).context["contributions"]) == [accepted]
    assert client.get(reverse("reports:contribution-detail", args=[draft.pk])).status_code == 404
    client.force_login(world.staff)
    assert list(client.get(reverse("reports:contribution-list")).context["contributions"]) == [draft]
    client.force_login(world.director)
    assert len(client.get(reverse("reports:contribution-list")).context["contributions"]) == 2
    # Only directors review.
    services.contribution_submit(actor=world.staff, contribution=draft)
    with pytest.raises(services.PermissionDenied):
        services.contribution_approve(actor=world.observer, contribution=draft)


def test_the_contribution_list_keeps_its_query_count_when_the_data_grows(client, world, django_assert_num_queries):
    services.contribution_create(actor=world.staff, period=world.period)
    client.force_login(world.director)
    url = reverse("reports:contribution-list")
    with django_assert_num_queries(8) as first:
        client.get(url)
    services.contribution_create(actor=world.staff_sanjuan, period=world.period)
    services.contribution_create(actor=world.staff, period=world.period2)
    services.contribution_create(actor=world.staff_sanjuan, period=world.period2)
    with django_assert_num_queries(len(first.captured_queries)):
        assert len(client.get(url).context["contributions"]) == 4
