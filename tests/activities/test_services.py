import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from activities import services
from activities.models import IndicatorValue, ProgressEntry
from tests.factories import (
    ActionFactory,
    IndicatorFactory,
    PartnerFactory,
    ProgressEntryFactory,
    director_of,
    observer_of,
    staff_of,
)

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
