import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from activities.models import Evidence
from cocap.backup import _model_counts
from cocap_data.demo import cocap_load_demo
from cocap_data.seed import cocap_load
from finance.models import Expenditure, Receipt
from reports import services
from reports.models import ProgressReport
from tests.factories import sal_approve

pytestmark = pytest.mark.django_db(transaction=True)


def _files(root):
    return {path.relative_to(root): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_a_backup_restores_into_an_empty_database_with_every_record_and_file(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    project = cocap_load(start_date=datetime.date(2026, 1, 1))
    cocap_load_demo(project=project, today=datetime.date(2026, 11, 25))
    expense = Expenditure.objects.filter(partner__project=project).first()
    receipt = Receipt(expenditure=expense, original_name="nf.pdf", content_type="application/pdf", size=5)
    receipt.uploaded_by = expense.author
    receipt.file.save("nf.pdf", ContentFile(b"%PDF-receipt"), save=True)
    director = get_user_model().objects.get(username="demo-director")
    draft = services.progress_report_create(actor=director, period=project.reporting_periods.first(), language="it")
    with django_capture_on_commit_callbacks(execute=True):
        sal_approve(actor=director, report=draft, revision=draft.revision)
    counts, files = _model_counts(), _files(settings.MEDIA_ROOT)
    sal = ProgressReport.objects.get()
    # The SAL's PDF, the receipt added here and the demo's receipts.
    assert sal.pdf and len(files) == 1 + Receipt.objects.count()

    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive))
    call_command("flush", interactive=False, verbosity=0)
    for path in settings.MEDIA_ROOT.rglob("*"):
        if path.is_file():
            path.unlink()
    assert _model_counts()["partners.project"] == 0

    call_command("restore", str(archive))

    assert _model_counts() == counts
    assert _files(settings.MEDIA_ROOT) == files
    restored = ProgressReport.objects.get()
    assert restored.pdf_sha256 == sal.pdf_sha256 and restored.snapshot == sal.snapshot
    assert restored.pdf.read() == (settings.MEDIA_ROOT / restored.pdf.name).read_bytes()
    assert Receipt.objects.get(original_name="nf.pdf").file.read() == b"%PDF-receipt"
    assert Expenditure.history.count() > 0 and Evidence.objects.count() == counts["activities.evidence"]
    if connection.vendor == "postgresql":
        # Analysed, so the first pages after a restore are planned with statistics.
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'finance_expenditure'::regclass")
            assert cursor.fetchone()[0] == Expenditure.objects.count()


def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    cocap_load(start_date=datetime.date(2026, 1, 1))
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive))
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive))
