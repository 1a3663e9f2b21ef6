import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from activities import services
from activities.models import Evidence, IndicatorValue, ProgressEntry
from core.services import AlreadySaved
from core.uploads import upload_check
from core.validators import NARRATIVE_MAX_CHARS, REVIEW_NOTE_MAX_CHARS
from tests.factories import (
    ActionFactory,
    IndicatorFactory,
    PartnerFactory,
    ProgressEntryFactory,
    director_of,
    observer_of,
    staff_of,
)
from tests.files import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return PartnerFactory()


@pytest.fixture
def action(partner):
    return ActionFactory(activity__project=partner.project, responsible=partner)


def _create(actor, action, partner=None, **overrides):
    fields = {"date": datetime.date(2026, 4, 1), "percent_complete": 30, "narrative": "Seminar held."} | overrides
    return services.progress_entry_create(actor=actor, action=action, **fields)


def test_partner_staff_record_a_draft_with_indicator_values(action, partner):
    indicator = IndicatorFactory(activity=action.activity)
    staff = staff_of(partner)
    entry = _create(staff, action, partner, indicator_values={indicator: Decimal("12")})
    assert entry.status == ProgressEntry.Status.DRAFT
    assert entry.author == staff
    assert entry.indicator_values.get().value == Decimal("12")
    assert entry.history.get().history_user == staff


def test_staff_of_another_partner_cannot_record_progress(action, partner):
    other_staff = staff_of(PartnerFactory(project=action.activity.project))
    with pytest.raises(PermissionDenied):
        _create(other_staff, action, partner)
    with pytest.raises(PermissionDenied):
        _create(director_of(action.activity.project), action, partner)
    assert not ProgressEntry.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"percent_complete": 101}, "percent_complete"),
        ({"date": datetime.date(2025, 12, 31)}, "date"),
        ({"narrative": ""}, "narrative"),
    ],
    ids=["percent-101", "date-before-project", "empty-narrative"],
)
def test_bad_input_is_refused_and_nothing_is_saved(action, partner, overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        _create(staff_of(partner), action, partner, **overrides)
    assert field in excinfo.value.message_dict
    assert not ProgressEntry.objects.exists()


def test_negative_indicator_value_saves_nothing(action, partner):
    indicator = IndicatorFactory(activity=action.activity)
    with pytest.raises(ValidationError):
        _create(staff_of(partner), action, partner, indicator_values={indicator: Decimal("-1")})
    assert not ProgressEntry.objects.exists()
    assert not IndicatorValue.objects.exists()


def test_submit_approve_records_reviewer_and_history(action, partner):
    staff, director = staff_of(partner), director_of(action.activity.project)
    entry = services.progress_entry_submit(actor=staff, entry=_create(staff, action, partner))
    assert entry.status == ProgressEntry.Status.SUBMITTED
    entry = services.progress_entry_approve(actor=director, entry=entry, note="Good.")
    assert (entry.status, entry.reviewer, entry.review_note) == (ProgressEntry.Status.APPROVED, director, "Good.")
    assert entry.reviewed_at is not None
    assert [h.history_user for h in entry.history.order_by("history_date")] == [staff, staff, director]


def test_returned_entry_goes_back_to_its_author_with_the_note(action, partner):
    staff, director = staff_of(partner), director_of(action.activity.project)
    entry = services.progress_entry_submit(actor=staff, entry=_create(staff, action, partner))
    with pytest.raises(ValidationError):
        services.progress_entry_return(actor=director, entry=entry, note="  ")
    entry = services.progress_entry_return(actor=director, entry=entry, note="Add the attendance list.")
    assert entry.status == ProgressEntry.Status.RETURNED
    assert services.progress_entry_submit(actor=staff, entry=entry).status == ProgressEntry.Status.SUBMITTED


@pytest.mark.parametrize("status", ["draft", "approved", "returned"])
def test_only_submitted_entries_are_approved(action, partner, status):
    director = director_of(action.activity.project)
    entry = ProgressEntryFactory(action=action, partner=partner, status=status, reviewer=director)
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.progress_entry_approve(actor=director, entry=entry)


def test_approving_twice_approves_once(action, partner):
    director = director_of(action.activity.project)
    entry = ProgressEntryFactory(action=action, partner=partner, status=ProgressEntry.Status.SUBMITTED)
    services.progress_entry_approve(actor=director, entry=entry)
    with pytest.raises(ValidationError):
        services.progress_entry_approve(actor=director, entry=entry)
    assert entry.history.filter(status=ProgressEntry.Status.APPROVED).count() == 1


def test_observers_and_partner_staff_cannot_review(action, partner):
    entry = ProgressEntryFactory(action=action, partner=partner, status=ProgressEntry.Status.SUBMITTED)
    for user in (observer_of(action.activity.project), staff_of(partner)):
        with pytest.raises(PermissionDenied):
            services.progress_entry_approve(actor=user, entry=entry)
    entry.refresh_from_db()
    assert entry.status == ProgressEntry.Status.SUBMITTED


def test_director_of_another_project_cannot_review(action, partner):
    entry = ProgressEntryFactory(action=action, partner=partner, status=ProgressEntry.Status.SUBMITTED)
    with pytest.raises(PermissionDenied):
        services.progress_entry_approve(actor=director_of(PartnerFactory().project), entry=entry)


def test_staff_record_on_actions_without_a_responsible_partner_through_the_activity_leader(partner):
    action = ActionFactory(activity__project=partner.project, activity__leader=partner, responsible=None)
    assert _create(staff_of(partner), action).partner == partner
    other = PartnerFactory(project=partner.project)
    with pytest.raises(PermissionDenied):
        _create(staff_of(other), action)


def _update(actor, entry, **overrides):
    fields = {
        "revision": entry.revision,
        "date": entry.date,
        "percent_complete": entry.percent_complete,
        "narrative": entry.narrative,
    } | overrides
    return services.progress_entry_update(actor=actor, entry=entry, **fields)


def test_update_changes_a_draft_and_counts_the_revision(action, partner):
    staff = staff_of(partner)
    entry = _create(staff, action)
    entry = _update(staff, entry, percent_complete=55, narrative="Second seminar held.")
    entry.refresh_from_db()
    assert (entry.percent_complete, entry.narrative, entry.revision) == (55, "Second seminar held.", 2)
    assert entry.history.count() == 2


def test_update_from_a_stale_copy_is_refused_and_keeps_the_other_change(action, partner):
    staff, colleague = staff_of(partner), staff_of(partner)
    entry = _create(staff, action)
    stale = ProgressEntry.objects.get(pk=entry.pk)
    _update(colleague, entry, narrative="Colleague's version.")
    with pytest.raises(ValidationError) as excinfo:
        _update(staff, stale, narrative="My version.")
    assert excinfo.value.code == "stale"
    entry.refresh_from_db()
    assert entry.narrative == "Colleague's version."


def test_update_of_a_submitted_entry_is_refused(action, partner):
    staff = staff_of(partner)
    entry = services.progress_entry_submit(actor=staff, entry=_create(staff, action))
    with pytest.raises(ValidationError, match="can no longer be changed"):
        _update(staff, entry, narrative="Late change.")


def test_a_review_outdates_an_open_edit(action, partner):
    staff, director = staff_of(partner), director_of(partner.project)
    entry = services.progress_entry_submit(actor=staff, entry=_create(staff, action))
    opened = services.progress_entry_return(actor=director, entry=entry, note="Add the list.")
    services.progress_entry_submit(actor=staff, entry=opened)
    services.progress_entry_return(actor=director, entry=opened, note="Still missing.")
    with pytest.raises(ValidationError) as excinfo:
        _update(staff, opened, narrative="Edited on the first return.")
    assert excinfo.value.code == "stale"


def test_other_partners_staff_cannot_update_or_submit(action, partner):
    entry = _create(staff_of(partner), action)
    intruder = staff_of(PartnerFactory(project=partner.project))
    with pytest.raises(PermissionDenied):
        _update(intruder, entry, narrative="Not mine.")
    with pytest.raises(PermissionDenied):
        services.progress_entry_submit(actor=intruder, entry=entry)
    entry.refresh_from_db()
    assert (entry.status, entry.narrative) == (ProgressEntry.Status.DRAFT, "Seminar held.")


def test_submission_mails_the_directors_and_review_mails_the_author(
    action, partner, mailoutbox, django_capture_on_commit_callbacks
):
    staff = staff_of(partner, user__email="staff@example.org")
    director = director_of(partner.project, user__email="director@example.org")
    observer_of(partner.project, user__email="observer@example.org")
    entry = _create(staff, action)
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.progress_entry_submit(actor=staff, entry=entry)
    assert [m.to for m in mailoutbox] == [["director@example.org"]]
    assert action.code in mailoutbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        services.progress_entry_return(actor=director, entry=entry, note="Attach the attendance list.")
    assert mailoutbox[1].to == ["staff@example.org"]
    assert "Attach the attendance list." in mailoutbox[1].body


def _draft_with_value_and_file(action, partner, staff):
    indicator = IndicatorFactory(activity=action.activity)
    return _create(
        staff, action, indicator_values={indicator: Decimal("5")}, evidence=[upload_check(upload("list.pdf"))]
    )


def test_partner_staff_delete_a_draft_with_its_values_and_files_and_the_history_keeps_it(
    action, partner, settings, django_capture_on_commit_callbacks
):
    staff, colleague = staff_of(partner), staff_of(partner)
    entry = _draft_with_value_and_file(action, partner, staff)
    stored = settings.MEDIA_ROOT / entry.evidence.get().file.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.progress_entry_delete(actor=colleague, entry=entry)
    assert not ProgressEntry.objects.exists()
    assert not IndicatorValue.objects.exists() and not Evidence.objects.exists()
    assert not stored.exists()
    deleted = ProgressEntry.history.get(id=entry.pk, history_type="-")
    assert (deleted.history_user, deleted.narrative) == (colleague, "Seminar held.")
    assert IndicatorValue.history.get(history_type="-").history_user == colleague
    assert Evidence.history.get(history_type="-").history_user == colleague


def test_deleting_a_returned_entry_tells_the_director_who_returned_it(
    action, partner, mailoutbox, django_capture_on_commit_callbacks
):
    staff = staff_of(partner)
    director = director_of(partner.project, user__email="director@example.org")
    entry = services.progress_entry_submit(actor=staff, entry=_create(staff, action))
    entry = services.progress_entry_return(actor=director, entry=entry, note="This duplicates entry 12.")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.progress_entry_delete(actor=staff, entry=entry)
    assert not ProgressEntry.objects.exists()
    assert [m.to for m in mailoutbox] == [["director@example.org"]]
    assert "withdrawn" in mailoutbox[0].subject
    assert "This duplicates entry 12." in mailoutbox[0].body


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_submitted_and_approved_entries_cannot_be_deleted(action, partner, status):
    staff = staff_of(partner)
    entry = ProgressEntryFactory(action=action, partner=partner, status=status, reviewer=director_of(partner.project))
    with pytest.raises(ValidationError, match="can no longer be deleted"):
        services.progress_entry_delete(actor=staff, entry=entry)
    assert ProgressEntry.objects.filter(pk=entry.pk, status=status).exists()


def test_only_the_partners_own_staff_delete_its_draft(action, partner):
    entry = _create(staff_of(partner), action)
    project = partner.project
    outsiders = [
        staff_of(PartnerFactory(project=project)),
        director_of(project),
        observer_of(project),
        staff_of(PartnerFactory()),
    ]
    for user in outsiders:
        with pytest.raises(PermissionDenied):
            services.progress_entry_delete(actor=user, entry=entry)
    assert ProgressEntry.objects.filter(pk=entry.pk).exists()


def test_deleting_an_entry_deleted_meanwhile_says_so(action, partner):
    staff = staff_of(partner)
    entry = _create(staff, action)
    stale_copy = ProgressEntry.objects.get(pk=entry.pk)
    services.progress_entry_delete(actor=staff, entry=entry)
    with pytest.raises(ValidationError, match="deleted already"):
        services.progress_entry_delete(actor=staff, entry=stale_copy)


def test_the_same_form_token_creates_one_entry_per_author(action, partner):
    staff, colleague = staff_of(partner), staff_of(partner)
    token = uuid.uuid4()
    first = _create(staff, action, form_token=token)
    with pytest.raises(AlreadySaved) as excinfo:
        _create(staff, action, form_token=token, narrative="Sent again, changed.")
    assert excinfo.value.instance == first
    # The token is one form's, so a colleague's identical token (never in practice) is their own form.
    assert _create(colleague, action, form_token=token) != first
    assert ProgressEntry.objects.filter(author=staff).count() == 1
    assert _create(staff, action, form_token=uuid.uuid4()) != first
    assert _create(staff, action) != first


def test_a_future_date_is_refused_and_today_accepted(partner):
    today = timezone.localdate()
    partner.project.start_date = today - datetime.timedelta(days=400)
    partner.project.save()
    action = ActionFactory(activity__project=partner.project, responsible=partner)
    with pytest.raises(ValidationError) as excinfo:
        _create(staff_of(partner), action, date=today + datetime.timedelta(days=1))
    assert excinfo.value.message_dict["date"] == [f"The date cannot be in the future (today is {today.isoformat()})."]
    assert not ProgressEntry.objects.exists()
    assert _create(staff_of(partner), action, date=today).date == today


def test_a_narrative_over_the_limit_is_refused_and_one_at_the_limit_kept(action, partner):
    staff = staff_of(partner)
    with pytest.raises(ValidationError) as excinfo:
        _create(staff, action, narrative="x" * (NARRATIVE_MAX_CHARS + 1))
    assert "at most 10,000 are allowed" in excinfo.value.message_dict["narrative"][0]
    assert len(_create(staff, action, narrative="é" * NARRATIVE_MAX_CHARS).narrative) == NARRATIVE_MAX_CHARS


def test_a_review_note_over_the_limit_is_refused_and_the_entry_stays_submitted(action, partner):
    entry = services.progress_entry_submit(actor=staff_of(partner), entry=_create(staff_of(partner), action))
    with pytest.raises(ValidationError) as excinfo:
        services.progress_entry_return(
            actor=director_of(partner.project), entry=entry, note="x" * (REVIEW_NOTE_MAX_CHARS + 1)
        )
    assert "review_note" in excinfo.value.message_dict
    entry.refresh_from_db()
    assert entry.status == ProgressEntry.Status.SUBMITTED


@pytest.mark.django_db(transaction=True)
def test_two_requests_with_the_same_form_token_at_the_same_moment_create_one_entry(action, partner):
    import threading
    import time

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; the unique index is what PostgreSQL must show")
    staff, token = staff_of(partner), uuid.uuid4()
    first_saved, outcomes = threading.Event(), []

    def send(is_first):
        from django.db import connection as thread_connection

        try:
            # As ATOMIC_REQUESTS does: the first request's entry stays uncommitted while the second one saves.
            with transaction.atomic():
                if not is_first:
                    first_saved.wait(5)
                entry = _create(staff, action, form_token=token)
                if is_first:
                    first_saved.set()
                    time.sleep(1)
            outcomes.append(("created", entry.pk))
        except AlreadySaved as sent_before:
            outcomes.append(("already saved", sent_before.instance.pk))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=send, args=(is_first,)) for is_first in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entry = ProgressEntry.objects.get()
    assert sorted(outcomes) == [("already saved", entry.pk), ("created", entry.pk)]
