import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from activities.models import ProgressEntry
from core.services import lock_for_change
from tests.factories import ProgressEntryFactory

pytestmark = pytest.mark.django_db

EDITABLE = (ProgressEntry.Status.DRAFT, ProgressEntry.Status.RETURNED)


@transaction.atomic
def _lock(entry, **kwargs):
    return lock_for_change(entry, editable=EDITABLE, **kwargs)


def test_the_row_comes_back_as_saved_now_not_as_the_copy_had_it():
    entry = ProgressEntryFactory()
    ProgressEntry.objects.filter(pk=entry.pk).update(narrative="Saved by a colleague.", revision=2)
    assert _lock(entry, revision=2).narrative == "Saved by a colleague."


def test_a_status_outside_the_editable_ones_is_refused_by_name():
    entry = ProgressEntryFactory(status=ProgressEntry.Status.SUBMITTED)
    with pytest.raises(ValidationError) as excinfo:
        _lock(entry, refused="This entry is %(status)s, at %(percent_complete)d %%.")
    assert excinfo.value.messages == ["This entry is Submitted, at 10 %."]
    assert excinfo.value.code == "invalid_transition"
    with pytest.raises(ValidationError, match="is Submitted and cannot be changed that way"):
        _lock(entry)


def test_the_status_is_read_from_the_row_not_from_the_copy():
    entry = ProgressEntryFactory()
    ProgressEntry.objects.filter(pk=entry.pk).update(status=ProgressEntry.Status.SUBMITTED)
    with pytest.raises(ValidationError, match="is Submitted"):
        _lock(entry)


def test_a_user_who_may_not_change_it_is_told_so_before_the_revision_is_compared():
    entry = ProgressEntryFactory()
    with pytest.raises(PermissionDenied, match="Not yours"):
        _lock(entry, permitted=lambda row: False, denied="Not yours.", revision=7, stale="Stale.")
    assert _lock(entry, permitted=lambda row: row.pk == entry.pk) == entry


def test_a_copy_older_than_the_row_is_refused_as_stale():
    entry = ProgressEntryFactory()
    ProgressEntry.objects.filter(pk=entry.pk).update(revision=2)
    with pytest.raises(ValidationError) as excinfo:
        _lock(entry, revision=1, stale="Someone else saved it.")
    assert (excinfo.value.messages, excinfo.value.code) == (["Someone else saved it."], "stale")


def test_a_row_deleted_meanwhile_is_gone_or_does_not_exist():
    entry = ProgressEntryFactory()
    ProgressEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(ValidationError) as excinfo:
        _lock(entry, gone="Deleted already.")
    assert (excinfo.value.messages, excinfo.value.code) == (["Deleted already."], "gone")
    with pytest.raises(ProgressEntry.DoesNotExist):
        _lock(entry)
