import datetime
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from activities.models import ProgressEntry
from finance.models import Expenditure
from reports import services, tasks
from reports.models import ProgressReport
from tests.factories import sal_approve

PdfStatus = ProgressReport.PdfStatus


def _approve(world, report, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return sal_approve(actor=world.director, report=report, revision=report.revision)


def test_a_director_drafts_the_next_version_and_only_one_draft_at_a_time(sal_world):
    report = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="es")
    assert (report.version, report.status, report.language) == (1, "draft", "es")
    with pytest.raises(ValidationError, match="still a draft"):
        services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    assert ProgressReport.objects.count() == 1


@pytest.mark.parametrize("role", ["observer", "staff"])
def test_only_directors_prepare_the_sal(sal_world, role):
    with pytest.raises(PermissionDenied):
        services.progress_report_create(actor=getattr(sal_world, role), period=sal_world.period1, language="it")
    assert not ProgressReport.objects.exists()


def test_approval_freezes_the_figures_and_renders_the_pdf_once(sal_world, django_capture_on_commit_callbacks):
    report = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    report = services.progress_report_update(
        actor=sal_world.director, report=report, summary="Periodo positivo.", language="it", revision=report.revision
    )
    approved = _approve(sal_world, report, django_capture_on_commit_callbacks)
    approved.refresh_from_db()
    assert approved.status == "approved" and approved.approved_by == sal_world.director
    assert approved.snapshot["summary"] == "Periodo positivo."
    assert approved.pdf_status == PdfStatus.READY and approved.pdf_pages >= 4
    pdf = approved.pdf.read()
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == approved.pdf_sha256


def test_an_approved_sal_never_changes_when_the_data_does(sal_world, django_capture_on_commit_callbacks):
    report = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="en")
    approved = _approve(sal_world, report, django_capture_on_commit_callbacks)
    approved.refresh_from_db()
    snapshot, sha, pdf = approved.snapshot, approved.pdf_sha256, approved.pdf.read()

    ProgressEntry.objects.filter(status="submitted").update(status="approved", reviewer=sal_world.director)
    Expenditure.objects.filter(status="submitted").update(status="verified", reviewer=sal_world.director)
    sal_world.budget.lines.update(amount=1)
    with pytest.raises(ValidationError, match="approved meanwhile"):
        services.progress_report_update(
            actor=sal_world.director, report=approved, summary="Changed", language="en", revision=approved.revision
        )
    tasks.progress_report_render.call(approved.pk)

    approved.refresh_from_db()
    assert approved.snapshot == snapshot
    assert approved.pdf_sha256 == sha and approved.pdf.read() == pdf
    assert approved.snapshot["finance"]["totals"]["verified"] == "1320.55"


def test_two_directors_approving_the_same_draft_give_one_approval(sal_world, django_capture_on_commit_callbacks):
    other = sal_world.director.__class__.objects.create(username="second-director")
    from tests.factories import director_of

    director_of(sal_world.project, user=other)
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    seen_by_both = ProgressReport.objects.get(pk=draft.pk)
    _approve(sal_world, draft, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="approved meanwhile"):
        sal_approve(actor=other, report=seen_by_both, revision=seen_by_both.revision)
    approved = ProgressReport.objects.get()
    assert approved.approved_by == sal_world.director and approved.version == 1


def test_approving_a_draft_changed_meanwhile_is_refused(sal_world):
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    stale_revision = draft.revision
    services.progress_report_update(
        actor=sal_world.director, report=draft, summary="Nuovo testo", language="it", revision=draft.revision
    )
    with pytest.raises(ValidationError, match="changed this SAL meanwhile"):
        sal_approve(actor=sal_world.director, report=draft, revision=stale_revision)
    assert ProgressReport.objects.get().status == "draft"


def test_a_correction_is_a_new_version_that_starts_from_the_last_summary(sal_world, django_capture_on_commit_callbacks):
    first = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    first = services.progress_report_update(
        actor=sal_world.director, report=first, summary="Sintesi 1", language="it", revision=first.revision
    )
    _approve(sal_world, first, django_capture_on_commit_callbacks)
    second = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="pt")
    assert (second.version, second.summary, second.status) == (2, "Sintesi 1", "draft")
    assert ProgressReport.objects.get(version=1).status == "approved"


def test_a_failed_render_leaves_the_sal_approved_and_retryable(
    sal_world, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(html, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(tasks, "html_to_pdf", broken)
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    _approve(sal_world, draft, django_capture_on_commit_callbacks)
    report = ProgressReport.objects.get()
    assert report.status == "approved" and report.snapshot is not None
    assert report.pdf_status == PdfStatus.FAILED and "No space left" in report.pdf_error
    assert not report.pdf and report.render_retryable()

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        services.progress_report_render_retry(actor=sal_world.director, report=report)
    report.refresh_from_db()
    assert report.pdf_status == PdfStatus.READY and report.pdf_sha256


def test_a_render_is_retried_only_when_failed_or_lost(sal_world, django_capture_on_commit_callbacks):
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    with pytest.raises(ValidationError, match="not waiting"):
        services.progress_report_render_retry(actor=sal_world.director, report=draft)
    sal_approve(actor=sal_world.director, report=draft, revision=draft.revision)
    queued = ProgressReport.objects.get()
    assert queued.pdf_status == PdfStatus.QUEUED and not queued.render_retryable()
    later = timezone.now() + datetime.timedelta(minutes=16)
    assert queued.render_retryable(now=later)
    with pytest.raises(ValidationError, match="not waiting"):
        services.progress_report_render_retry(actor=sal_world.director, report=queued)


@pytest.mark.django_db(transaction=True)
def test_two_directors_approving_at_the_same_moment_give_one_version(sal_world):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; the row lock is what PostgreSQL must show")
    from tests.factories import director_of

    other = director_of(sal_world.project)
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    # The variance explained first, so that both directors approve the same revision.
    category = sal_world.budget.lines.first().category_id
    draft = services.progress_report_financial_update(
        actor=sal_world.director, report=draft, revision=draft.revision, explanations={category: "Spiegato."}
    )
    barrier, outcomes = threading.Barrier(2), []

    def approve(actor):
        from django.db import connection as thread_connection

        try:
            report = ProgressReport.objects.get(pk=draft.pk)
            barrier.wait()
            services.progress_report_approve(actor=actor, report=report, revision=report.revision)
            outcomes.append("approved")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=approve, args=(actor,)) for actor in (sal_world.director, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    frozen = "Version 1 was approved meanwhile and can no longer change; a correction is a new version."
    assert sorted(outcomes) == sorted(["approved", frozen])
    assert ProgressReport.objects.count() == 1
    assert ProgressReport.objects.get().status == "approved"
