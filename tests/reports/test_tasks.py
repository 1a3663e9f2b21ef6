import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from reports import services
from reports.models import ProgressReport
from tests.factories import sal_approve


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


# The worker closes the database connection after each task, as a long-running process should: the test
# cannot run inside a transaction that is rolled back at its end.
@pytest.mark.django_db(transaction=True)
def test_approval_queues_the_render_and_the_database_worker_renders_it(
    sal_world, database_tasks, django_capture_on_commit_callbacks
):
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="it")
    with django_capture_on_commit_callbacks(execute=True):
        sal_approve(actor=sal_world.director, report=draft, revision=draft.revision)
    report = ProgressReport.objects.get()
    assert report.pdf_status == ProgressReport.PdfStatus.QUEUED and not report.pdf
    assert DBTaskResult.objects.get().task_path == "reports.tasks.progress_report_render"

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")

    report.refresh_from_db()
    assert report.pdf_status == ProgressReport.PdfStatus.READY and report.pdf_sha256
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
