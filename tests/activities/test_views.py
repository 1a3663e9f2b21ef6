import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Evidence, IndicatorValue, ProgressEntry
from tests.factories import (
    ActionFactory,
    ActivityFactory,
    IndicatorFactory,
    PartnerFactory,
    ProgressEntryFactory,
    ProjectFactory,
    ReportingPeriodFactory,
    UserFactory,
    director_of,
    observer_of,
    staff_of,
)
from tests.files import PDF, PNG, upload

pytestmark = pytest.mark.django_db


@dataclass
class World:
    project: object
    partner_a: object
    partner_b: object
    action_a: object
    action_b: object
    indicator: object
    staff_a: object
    staff_b: object
    director: object
    observer: object
    outsider: object
    admin: object
    draft_b: object
    approved_b: object
    submitted_a: object
    evidence_b: object


@pytest.fixture
def world():
    project = ProjectFactory(code="cocap")
    partner_a, partner_b = PartnerFactory(project=project), PartnerFactory(project=project)
    activity = ActivityFactory(project=project, number=4, leader=partner_a)
    action_a = ActionFactory(activity=activity, number=1, responsible=partner_a)
    action_b = ActionFactory(activity=activity, number=2, responsible=partner_b)
    staff_a, staff_b = staff_of(partner_a), staff_of(partner_b)
    director = director_of(project)
    draft_b = ProgressEntryFactory(action=action_b, partner=partner_b, author=staff_b, narrative="B's draft")
    evidence_b = Evidence.objects.create(
        entry=draft_b, original_name="b.pdf", content_type="application/pdf", size=len(PDF), uploaded_by=staff_b
    )
    evidence_b.file.save("b.pdf", upload("b.pdf").file)
    return World(
        project=project,
        partner_a=partner_a,
        partner_b=partner_b,
        action_a=action_a,
        action_b=action_b,
        indicator=IndicatorFactory(activity=activity, name="Trainees", target=Decimal("20")),
        staff_a=staff_a,
        staff_b=staff_b,
        director=director,
        observer=observer_of(project),
        outsider=staff_of(PartnerFactory()),
        admin=UserFactory(is_staff=True, is_superuser=True),
        draft_b=draft_b,
        approved_b=ProgressEntryFactory(
            action=action_b, partner=partner_b, status="approved", reviewer=director, narrative="B approved"
        ),
        submitted_a=ProgressEntryFactory(action=action_a, partner=partner_a, author=staff_a, status="submitted"),
        evidence_b=evidence_b,
    )


def _url(world, name):
    entry_urls = {
        "entry-detail": world.draft_b,
        "entry-edit": world.draft_b,
        "entry-delete": world.draft_b,
        "entry-submit": world.draft_b,
        "entry-approve": world.submitted_a,
        "entry-return": world.submitted_a,
    }
    if name in entry_urls:
        return reverse(f"activities:{name}", args=[entry_urls[name].pk])
    if name == "entry-create":
        return reverse("activities:entry-create", args=[world.action_b.pk])
    if name in ("evidence-download", "evidence-delete"):
        return reverse(f"activities:{name}", args=[world.evidence_b.pk])
    if name == "activity-detail":
        return reverse("activities:activity-detail", args=[4])
    return reverse(f"activities:{name}")


POSTS = {"entry-submit", "entry-approve", "entry-return", "evidence-delete"}

# Who gets what on each URL: the objects belong to partner B, except the submitted entry of partner A.
ACCESS = {
    "activity-list": {"staff_a": 200, "staff_b": 200, "director": 200, "observer": 200, "outsider": 200},
    "activity-detail": {"staff_a": 200, "staff_b": 200, "director": 200, "observer": 200, "outsider": 404},
    "entry-list": {"staff_a": 200, "staff_b": 200, "director": 200, "observer": 200, "outsider": 200},
    "review-queue": {"staff_a": 403, "staff_b": 403, "director": 200, "observer": 403, "outsider": 403},
    "entry-detail": {"staff_a": 404, "staff_b": 200, "director": 200, "observer": 200, "outsider": 404},
    "entry-edit": {"staff_a": 404, "staff_b": 200, "director": 403, "observer": 403, "outsider": 404},
    "entry-create": {"staff_a": 404, "staff_b": 200, "director": 404, "observer": 404, "outsider": 404},
    "entry-delete": {"staff_a": 404, "staff_b": 200, "director": 403, "observer": 403, "outsider": 404},
    "entry-submit": {"staff_a": 404, "staff_b": 302, "director": 403, "observer": 403, "outsider": 404},
    "entry-approve": {"staff_a": 403, "staff_b": 404, "director": 302, "observer": 403, "outsider": 404},
    "entry-return": {"staff_a": 403, "staff_b": 404, "director": 302, "observer": 403, "outsider": 404},
    "evidence-download": {"staff_a": 404, "staff_b": 200, "director": 200, "observer": 200, "outsider": 404},
    "evidence-delete": {"staff_a": 404, "staff_b": 302, "director": 403, "observer": 403, "outsider": 404},
}


@pytest.mark.parametrize(
    ("name", "role", "expected"),
    [(name, role, status) for name, roles in ACCESS.items() for role, status in roles.items()],
)
def test_each_role_gets_only_what_it_may(client, world, name, role, expected):
    client.force_login(getattr(world, role))
    url = _url(world, name)
    response = client.post(url, {"note": "Fix it.", "confirmed": "on"}) if name in POSTS else client.get(url)
    assert response.status_code == expected


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_anonymous_visitors_are_sent_to_log_in(client, world, name):
    url = _url(world, name)
    response = client.post(url) if name in POSTS else client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_forbidden_posts_change_nothing(client, world):
    client.force_login(world.staff_a)
    client.post(reverse("activities:entry-submit", args=[world.draft_b.pk]))
    client.post(reverse("activities:entry-approve", args=[world.submitted_a.pk]))
    client.force_login(world.observer)
    client.post(reverse("activities:entry-return", args=[world.submitted_a.pk]), {"note": "No."})
    world.draft_b.refresh_from_db()
    world.submitted_a.refresh_from_db()
    assert (world.draft_b.status, world.submitted_a.status) == ("draft", "submitted")
    assert Evidence.objects.filter(pk=world.evidence_b.pk).exists()


def test_partner_staff_list_their_entries_and_approved_ones_only(client, world):
    client.force_login(world.staff_a)
    listed = set(client.get(reverse("activities:entry-list")).context["page"].object_list)
    assert listed == {world.submitted_a, world.approved_b}


def test_administrators_see_everything(client, world):
    client.force_login(world.admin)
    assert client.get(_url(world, "entry-detail")).status_code == 200
    assert client.get(_url(world, "review-queue")).status_code == 200


def _entry_form(world, **overrides):
    return {
        "date": "2026-04-15",
        "percent_complete": "40",
        "narrative": "Two seminars held in San Juan.",
        f"indicator_{world.indicator.pk}": "12",
    } | overrides


def test_partner_records_progress_with_a_file_submits_and_the_director_approves(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    world.director.email = "director@example.org"
    world.director.save()
    client.force_login(world.staff_b)
    response = client.post(
        reverse("activities:entry-create", args=[world.action_b.pk]),
        _entry_form(world, evidence=[upload("attendance.pdf"), upload("photo.png", PNG, "image/png")]),
    )
    entry = ProgressEntry.objects.get(narrative="Two seminars held in San Juan.")
    assert response.url == reverse("activities:entry-detail", args=[entry.pk])
    assert (entry.status, entry.partner, entry.author, entry.percent_complete) == (
        "draft",
        world.partner_b,
        world.staff_b,
        40,
    )
    assert entry.indicator_values.get().value == Decimal("12")
    assert sorted(entry.evidence.values_list("original_name", flat=True)) == ["attendance.pdf", "photo.png"]

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("activities:entry-submit", args=[entry.pk]))
    entry.refresh_from_db()
    assert entry.status == "submitted"
    assert mailoutbox[0].to == ["director@example.org"]
    assert client.get(reverse("activities:entry-edit", args=[entry.pk])).status_code == 403

    client.force_login(world.director)
    queue = client.get(reverse("activities:review-queue")).context["page"].object_list
    assert entry in queue
    client.post(reverse("activities:entry-approve", args=[entry.pk]), {"note": "", "confirmed": "on"})
    entry.refresh_from_db()
    assert (entry.status, entry.reviewer) == ("approved", world.director)
    page = client.get(reverse("activities:activity-detail", args=[4]))
    assert [a.progress for a in page.context["actions"] if a.pk == world.action_b.pk] == [40]
    [indicator] = page.context["indicators"]
    assert indicator.achieved == Decimal("12")

    client.force_login(world.staff_b)
    assert client.get(reverse("activities:entry-edit", args=[entry.pk])).status_code == 403


def test_returned_entry_shows_the_note_and_goes_back_to_the_author(client, world):
    client.force_login(world.director)
    response = client.post(reverse("activities:entry-return", args=[world.submitted_a.pk]), {"note": ""}, follow=True)
    assert "Say what needs fixing" in response.content.decode()
    world.submitted_a.refresh_from_db()
    assert world.submitted_a.status == "submitted"
    client.post(reverse("activities:entry-return", args=[world.submitted_a.pk]), {"note": "Attach the list."})
    client.force_login(world.staff_a)
    dashboard = client.get(reverse("home")).content.decode()
    assert "Attach the list." in dashboard
    assert client.get(reverse("activities:entry-edit", args=[world.submitted_a.pk])).status_code == 200


def test_approving_twice_approves_once_and_says_so(client, world):
    client.force_login(world.director)
    url = reverse("activities:entry-approve", args=[world.submitted_a.pk])
    client.post(url, {"confirmed": "on"})
    response = client.post(url, {"confirmed": "on"}, follow=True)
    assert "is Approved and cannot be changed that way" in response.content.decode()
    assert world.submitted_a.history.filter(status="approved").count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"percent_complete": "101"}, "less than or equal to 100"),
        ({"percent_complete": "-1"}, "greater than or equal to 0"),
        ({"date": "2025-12-31"}, "The date must fall inside the project period"),
        ({"narrative": ""}, "This field is required"),
        ({"indicator_VALUE": "-3"}, "greater than or equal to 0"),
        ({"evidence": "WRONG_TYPE"}, "is not a PDF, an image"),
        ({"evidence": "TOO_BIG"}, "files may be at most"),
    ],
    ids=[
        "percent-101",
        "percent-negative",
        "date-outside",
        "no-narrative",
        "negative-indicator",
        "wrong-type",
        "too-big",
    ],
)
def test_bad_input_gives_a_clear_error_and_saves_nothing(client, world, settings, overrides, message):
    settings.COCAP_UPLOAD_MAX_BYTES = 1024
    data = _entry_form(world)
    if "indicator_VALUE" in overrides:
        data[f"indicator_{world.indicator.pk}"] = overrides.pop("indicator_VALUE")
    if overrides.get("evidence") == "WRONG_TYPE":
        overrides["evidence"] = upload("report.pdf", b"MZ\x90\x00 a program")
    elif overrides.get("evidence") == "TOO_BIG":
        overrides["evidence"] = upload("report.pdf", PDF + b"0" * 2048)
    client.force_login(world.staff_b)
    before = ProgressEntry.objects.count(), IndicatorValue.objects.count(), Evidence.objects.count()
    response = client.post(reverse("activities:entry-create", args=[world.action_b.pk]), data | overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (ProgressEntry.objects.count(), IndicatorValue.objects.count(), Evidence.objects.count()) == before
    media = settings.MEDIA_ROOT
    assert sorted(p.name for p in media.rglob("*") if p.is_file()) == ["b.pdf"]


def test_html_in_a_narrative_is_shown_escaped(client, world):
    client.force_login(world.staff_b)
    client.post(
        reverse("activities:entry-create", args=[world.action_b.pk]),
        _entry_form(world, narrative='<script>alert("x")</script><b>bold</b>'),
    )
    entry = ProgressEntry.objects.get(narrative__startswith="<script>")
    content = client.get(reverse("activities:entry-detail", args=[entry.pk])).content.decode()
    assert "<script>alert" not in content
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in content


def test_a_stale_edit_is_refused_and_the_typed_text_kept(client, world):
    client.force_login(world.staff_b)
    url = reverse("activities:entry-edit", args=[world.draft_b.pk])
    opened_revision = client.get(url).context["form"]["revision"].value()
    services.progress_entry_update(
        actor=staff_of(world.partner_b),
        entry=world.draft_b,
        revision=world.draft_b.revision,
        date=world.draft_b.date,
        percent_complete=70,
        narrative="A colleague's text.",
    )
    response = client.post(url, _entry_form(world, narrative="My careful text.", revision=opened_revision))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this entry while you were editing it" in content
    assert "My careful text." in content
    world.draft_b.refresh_from_db()
    assert world.draft_b.narrative == "A colleague's text."


def test_evidence_is_downloaded_through_the_permission_check(client, world):
    client.force_login(world.director)
    response = client.get(reverse("activities:evidence-download", args=[world.evidence_b.pk]))
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="b.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_entry_history_shows_who_changed_what(client, world):
    client.force_login(world.staff_b)
    url = reverse("activities:entry-edit", args=[world.draft_b.pk])
    client.post(url, _entry_form(world, narrative="Changed.", revision=world.draft_b.revision))
    client.post(reverse("activities:entry-submit", args=[world.draft_b.pk]))
    history = client.get(reverse("activities:entry-detail", args=[world.draft_b.pk])).context["changes"]
    assert [c["record"].history_user for c in history][-2:] == [world.staff_b, world.staff_b]
    assert "narrative" in history[-2]["fields"]
    assert "status" in history[-1]["fields"]


def test_partner_dashboard_lists_actions_drafts_and_due_dates(client, world):
    ReportingPeriodFactory(
        project=world.project, number=1, due_date=datetime.date(2099, 1, 1), end=datetime.date(2026, 6, 30)
    )
    client.force_login(world.staff_b)
    response = client.get(reverse("home"))
    assert list(response.context["actions"]) == [world.action_b]
    assert response.context["drafts"] == [world.draft_b]
    assert "SAL 1" in response.content.decode()


def test_director_dashboard_shows_the_queue_and_what_is_late(client, world):
    client.force_login(world.director)
    response = client.get(reverse("home"))
    assert response.context["queue"] == [world.submitted_a]
    assert response.context["queue_count"] == 1
    assert [a.number for a in response.context["activities"]] == [4]


def _grow(world, times):
    for _ in range(times):
        action = ActionFactory(activity=world.action_a.activity, responsible=world.partner_b)
        for status in ("draft", "submitted", "approved", "returned"):
            entry = ProgressEntryFactory(
                action=action, partner=world.partner_b, author=world.staff_b, status=status, reviewer=world.director
            )
            Evidence.objects.create(
                entry=entry,
                original_name="x.pdf",
                content_type="application/pdf",
                size=1,
                uploaded_by=world.staff_b,
                file="evidence/x.pdf",
            )
            IndicatorValue.objects.create(entry=entry, indicator=world.indicator, value=1)


@pytest.mark.parametrize(
    ("role", "url", "queries"),
    [
        # Each count includes session, user, visible projects and the savepoint pair of ATOMIC_REQUESTS (5), and the
        # navbar's unread notifications (1);
        # then membership, entry count and the page of entries (+ the partners for a director's filter);
        ("staff_b", "activities:entry-list", 9),
        ("director", "activities:entry-list", 10),
        ("director", "activities:review-queue", 9),
        # membership, activities, their actions with progress;
        ("director", "activities:activity-list", 8),
        # activity, actions, membership, recordable actions, indicators with their entries' and directors' values,
        # entries;
        ("observer", "activities:activity-detail", 13),
        # membership, actions, drafts, returned, submitted, due dates, the partners whose expenses they see;
        ("staff_b", "home", 16),
        # membership, queue rows and count, activities and actions, recent entries, due dates, the partners whose
        # expenses they see.
        ("director", "home", 18),
    ],
)
def test_list_pages_keep_their_query_count_when_the_data_grows_tenfold(
    client, world, django_assert_num_queries, role, url, queries
):
    client.force_login(getattr(world, role))
    target = reverse(url, args=[4]) if url.endswith("activity-detail") else reverse(url)
    _grow(world, 2)
    with django_assert_num_queries(queries):
        client.get(target)
    _grow(world, 20)
    with django_assert_num_queries(queries):
        response = client.get(target)
    assert response.status_code == 200


def test_partner_staff_see_what_deleting_a_draft_removes_then_delete_it(client, world, settings):
    client.force_login(world.staff_b)
    url = reverse("activities:entry-delete", args=[world.draft_b.pk])
    page = client.get(url).content.decode()
    assert "B&#x27;s draft" in page and "b.pdf" in page
    assert "data-submit-once" in page
    response = client.post(url)
    assert response.url == reverse("activities:entry-list")
    assert not ProgressEntry.objects.filter(pk=world.draft_b.pk).exists()
    assert not Evidence.objects.filter(pk=world.evidence_b.pk).exists()
    # The second click of a double click lands on the list, told what happened, not on a "not found" page.
    again = client.post(url, follow=True)
    assert again.redirect_chain == [(reverse("activities:entry-list"), 302)]
    assert "The entry was deleted." in again.content.decode()
    assert ProgressEntry.history.get(id=world.draft_b.pk, history_type="-").history_user == world.staff_b


def test_what_was_submitted_or_approved_cannot_be_deleted_and_the_page_says_why(client, world):
    client.force_login(world.staff_a)
    url = reverse("activities:entry-delete", args=[world.submitted_a.pk])
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 403
        assert "This entry is Submitted: only drafts and returned entries can be deleted." in response.content.decode()
    response = client.get(reverse("activities:entry-delete", args=[world.approved_b.pk]))
    assert response.status_code == 403
    assert "This entry is Approved" in response.content.decode()
    client.force_login(world.director)
    response = client.post(reverse("activities:entry-delete", args=[world.draft_b.pk]))
    assert response.status_code == 403
    assert "Only the staff of the entry&#x27;s partner can delete it." in response.content.decode()
    client.force_login(world.observer)
    assert client.post(reverse("activities:entry-delete", args=[world.draft_b.pk])).status_code == 403
    kept = [world.submitted_a.pk, world.approved_b.pk, world.draft_b.pk]
    assert ProgressEntry.objects.filter(pk__in=kept).count() == 3


def test_delete_buttons_show_only_where_the_user_may_delete(client, world):
    delete_b = reverse("activities:entry-delete", args=[world.draft_b.pk])
    client.force_login(world.staff_b)
    listing = client.get(reverse("activities:entry-list"))
    assert listing.context["deletable"] == {world.draft_b.pk}
    assert delete_b in listing.content.decode()
    assert reverse("activities:entry-delete", args=[world.approved_b.pk]) not in listing.content.decode()
    assert delete_b in client.get(reverse("activities:entry-detail", args=[world.draft_b.pk])).content.decode()
    assert delete_b in client.get(reverse("activities:entry-edit", args=[world.draft_b.pk])).content.decode()
    client.force_login(world.director)
    assert delete_b not in client.get(reverse("activities:entry-list")).content.decode()
    assert delete_b not in client.get(reverse("activities:entry-detail", args=[world.draft_b.pk])).content.decode()


def test_the_same_form_sent_twice_creates_one_entry_and_the_second_lands_on_it(client, world):
    client.force_login(world.staff_b)
    url = reverse("activities:entry-create", args=[world.action_b.pk])
    token = client.get(url).context["form"]["form_token"].value()
    assert token
    data = _entry_form(world, form_token=token, evidence=upload("attendance.pdf"))
    first = client.post(url, data)
    data["evidence"] = upload("attendance.pdf")
    second = client.post(url, data, follow=True)
    entry = ProgressEntry.objects.get(narrative="Two seminars held in San Juan.")
    assert first.url == reverse("activities:entry-detail", args=[entry.pk])
    assert second.redirect_chain == [(first.url, 302)]
    assert "This form was sent twice: the entry was saved once" in second.content.decode()
    assert entry.evidence.count() == 1
    assert client.get(url).context["form"]["form_token"].value() != token


def test_a_form_that_failed_keeps_its_token_and_creates_the_entry_once_fixed(client, world):
    client.force_login(world.staff_b)
    url = reverse("activities:entry-create", args=[world.action_b.pk])
    token = str(client.get(url).context["form"]["form_token"].value())
    failed = client.post(url, _entry_form(world, form_token=token, percent_complete="150"))
    assert str(failed.context["form"]["form_token"].value()) == token
    client.post(url, _entry_form(world, form_token=token))
    assert ProgressEntry.objects.filter(form_token=token).count() == 1


def _held_files(settings):
    return sorted(p.name for p in (settings.MEDIA_ROOT / "held").glob("*"))


def test_files_chosen_on_a_form_that_failed_are_kept_and_attached_when_it_is_saved(
    client, world, settings, django_capture_on_commit_callbacks
):
    client.force_login(world.staff_b)
    url = reverse("activities:entry-create", args=[world.action_b.pk])
    failed = client.post(
        url,
        _entry_form(
            world,
            narrative="x" * 10_001,
            evidence=[upload("attendance.pdf"), upload("photo.png", PNG, "image/png"), upload("bad.pdf", b"MZ")],
        ),
    )
    content = failed.content.decode()
    assert "This text has 10,001 characters; at most 10,000 are allowed." in content
    assert "bad.pdf is not a PDF" in content
    assert "Files you already chose, kept for you" in content
    held = failed.context["form"].held_uploads
    assert [name for _id, name in held] == ["attendance.pdf", "photo.png"]
    assert len(_held_files(settings)) == 2
    assert not ProgressEntry.objects.filter(narrative__startswith="x").exists()

    # The photo is unticked: only the attendance list goes with the entry.
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(url, _entry_form(world, held_files=[held[0][0]]))
    entry = ProgressEntry.objects.get(narrative="Two seminars held in San Juan.")
    assert saved.url == reverse("activities:entry-detail", args=[entry.pk])
    evidence = entry.evidence.get()
    assert (evidence.original_name, evidence.uploaded_by) == ("attendance.pdf", world.staff_b)
    assert evidence.file.read() == PDF
    assert len(_held_files(settings)) == 1  # the unticked photo, cleared after a day


def test_a_held_file_is_the_holders_only(client, world, settings):
    client.force_login(world.staff_b)
    url = reverse("activities:entry-create", args=[world.action_b.pk])
    failed = client.post(url, _entry_form(world, percent_complete="150", evidence=upload("attendance.pdf")))
    hold_id = failed.context["form"].held_uploads[0][0]
    colleague = Client()
    colleague.force_login(staff_of(world.partner_b))
    colleague.post(url, _entry_form(world, narrative="The colleague's entry.", held_files=[hold_id]))
    entry = ProgressEntry.objects.get(narrative="The colleague's entry.")
    assert not entry.evidence.exists()
    assert len(_held_files(settings)) == 1


def test_held_files_older_than_a_day_are_cleared_when_files_are_held_next(client, world, settings):
    import os

    client.force_login(world.staff_b)
    url = reverse("activities:entry-create", args=[world.action_b.pk])
    client.post(url, _entry_form(world, percent_complete="150", evidence=upload("old.pdf")))
    (old,) = (settings.MEDIA_ROOT / "held").glob("*")
    day_and_a_minute_ago = (timezone.now() - datetime.timedelta(days=1, minutes=1)).timestamp()
    os.utime(old, (day_and_a_minute_ago, day_and_a_minute_ago))
    client.post(url, _entry_form(world, percent_complete="150", evidence=upload("new.pdf")))
    assert len(_held_files(settings)) == 1
    assert not old.exists()


def test_a_narrative_has_a_limit_shown_on_the_form_and_line_breaks_count_once(client, world):
    client.force_login(world.staff_b)
    url = reverse("activities:entry-create", args=[world.action_b.pk])
    page = client.get(url).content.decode()
    assert "At most 10,000 characters." in page
    assert 'data-max-chars="10000"' in page and "maxlength" not in page
    # A browser sends each line break as CRLF: 2,000 lines of 4 characters plus their breaks make 10,000.
    text = "\r\n".join(["abcd"] * 2000)
    assert len(text) > 10_000 and len(text.replace("\r\n", "\n")) == 9_999
    assert client.post(url, _entry_form(world, narrative=text)).status_code == 302
    assert ProgressEntry.objects.filter(narrative=text.replace("\r\n", "\n")).exists()


def test_a_date_in_the_future_is_refused_on_the_form_and_today_accepted(client, world):
    today = timezone.localdate()
    world.project.start_date = today - datetime.timedelta(days=400)
    world.project.save()
    client.force_login(world.staff_b)
    url = reverse("activities:entry-create", args=[world.action_b.pk])
    assert f'max="{today.isoformat()}"' in client.get(url).content.decode()
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    response = client.post(url, _entry_form(world, date=tomorrow))
    assert response.status_code == 200
    assert f"The date cannot be in the future (today is {today.isoformat()})." in response.content.decode()
    assert client.post(url, _entry_form(world, date=today.isoformat())).status_code == 302
    assert ProgressEntry.objects.get(narrative="Two seminars held in San Juan.").date == today


def test_a_review_note_over_the_limit_is_shown_again_with_the_error_and_decides_nothing(client, world):
    client.force_login(world.director)
    note = "Fix it. " * 700
    response = client.post(reverse("activities:entry-return", args=[world.submitted_a.pk]), {"note": note})
    content = response.content.decode()
    assert response.status_code == 200
    assert "at most 5,000 are allowed" in content
    assert note.strip() in content
    world.submitted_a.refresh_from_db()
    assert world.submitted_a.status == "submitted"


def test_approval_asks_first_then_offers_the_next_entry_in_the_queue(client, world):
    other = ProgressEntryFactory(
        action=world.action_b, partner=world.partner_b, author=world.staff_b, status="submitted"
    )
    client.force_login(world.director)
    url = reverse("activities:entry-approve", args=[world.submitted_a.pk])
    response = client.post(url, {"note": "Well documented."})
    page = response.content.decode()
    assert response.status_code == 200 and "Yes, approve" in page and "Well documented." in page
    world.submitted_a.refresh_from_db()
    assert world.submitted_a.status == "submitted"
    response = client.post(url, {"note": "Well documented.", "confirmed": "on"}, follow=True)
    page = response.content.decode()
    world.submitted_a.refresh_from_db()
    assert (world.submitted_a.status, world.submitted_a.review_note) == ("approved", "Well documented.")
    assert 'id="next-in-queue"' in page
    assert reverse("activities:entry-detail", args=[other.pk]) in page
    # Partner staff are never offered the directors' queue.
    client.force_login(world.staff_b)
    page = client.get(reverse("activities:entry-detail", args=[world.approved_b.pk])).content.decode()
    assert 'id="next-in-queue"' not in page


def test_the_entry_shows_the_previous_approved_and_the_expected_percent(client, world):
    # Action B runs over months 1..12 of the project (started 01/2026); the entry is dated in month 3.
    world.action_b.start_month, world.action_b.end_month = 1, 12
    world.action_b.save()
    entry = ProgressEntryFactory(
        action=world.action_b,
        partner=world.partner_b,
        author=world.staff_b,
        status="submitted",
        date=datetime.date(2026, 3, 20),
        percent_complete=30,
    )
    world.approved_b.percent_complete, world.approved_b.date = 15, datetime.date(2026, 2, 1)
    world.approved_b.save()
    client.force_login(world.director)
    context = client.get(reverse("activities:entry-detail", args=[entry.pk])).context
    # 3 of 12 planned months gone by: 25 %.
    assert (context["previous_approved_percent"], context["expected_percent"]) == (15, 25)


def test_a_returned_entry_fixed_says_to_submit_it_again(client, world):
    services.progress_entry_return(actor=world.director, entry=world.submitted_a, note="Attach the list.")
    client.force_login(world.staff_a)
    entry = ProgressEntry.objects.get(pk=world.submitted_a.pk)
    form = {"date": "2026-03-01", "percent_complete": "20", "narrative": "Fixed.", "revision": entry.revision}
    response = client.post(reverse("activities:entry-edit", args=[entry.pk]), form, follow=True)
    page = response.content.decode()
    assert "Next step: submit it again for review." in page
    assert 'id="next-step"' in page and "Submit again for review" in page


def test_pdf_and_image_evidence_preview_inline_only_for_those_who_may_see_them(client, world):
    png = Evidence.objects.create(
        entry=world.draft_b,
        original_name="foto.png",
        content_type="image/png",
        size=len(PNG),
        uploaded_by=world.staff_b,
    )
    png.file.save("foto.png", upload("foto.png", PNG, "image/png").file)
    client.force_login(world.staff_b)
    page = client.get(reverse("activities:entry-detail", args=[world.draft_b.pk])).content.decode()
    pdf_url = reverse("activities:evidence-download", args=[world.evidence_b.pk])
    assert f'<iframe class="attachment-preview d-block border mt-1" src="{pdf_url}?preview"' in page
    assert f'src="{reverse("activities:evidence-download", args=[png.pk])}?preview"' in page
    response = client.get(pdf_url + "?preview")
    assert response["Content-Disposition"].startswith("inline")
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    # Without the preview it is still a download, under the site's own policy.
    response = client.get(pdf_url)
    assert response["Content-Disposition"].startswith("attachment") and response["X-Frame-Options"] == "DENY"
    client.force_login(world.staff_a)
    assert client.get(pdf_url + "?preview").status_code == 404
