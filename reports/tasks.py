"""Background work of the SAL: rendering the frozen report's PDF, outside any request."""

import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from core.pdf import html_to_pdf

from .exports import XLSX_TYPE, progress_report_xlsx, report_file_name
from .models import ProgressReport
from .pdf import progress_report_html
from .selectors import progress_report_document

logger = logging.getLogger(__name__)
PdfStatus = ProgressReport.PdfStatus


@task()
def progress_report_render(report_id: int) -> str:
    """Render the approved SAL's PDF once and store it with its SHA-256; a failure leaves it to retry.

    Returns the hash. Safe to run twice: a PDF already stored is never rendered again.
    """
    with transaction.atomic():
        report = ProgressReport.objects.select_for_update().select_related("period__project").get(pk=report_id)
        if report.pdf_status == PdfStatus.READY or report.status != ProgressReport.Status.APPROVED:
            return report.pdf_sha256
        report.pdf_status, report.pdf_error, report.pdf_started_at = PdfStatus.RENDERING, "", timezone.now()
        report.save(update_fields=["pdf_status", "pdf_error", "pdf_started_at"])
    try:
        document = progress_report_document(report)
        xlsx = (report_file_name(report) + ".xlsx", XLSX_TYPE, progress_report_xlsx(report, document["figures"]))
        pdf, pages = html_to_pdf(progress_report_html(report, document), supplements=(xlsx,))
        digest = hashlib.sha256(pdf).hexdigest()
        with transaction.atomic():
            report = ProgressReport.objects.select_for_update().select_related("period__project").get(pk=report_id)
            if report.pdf_status == PdfStatus.READY:
                return report.pdf_sha256
            name = f"sal-{report.project.code}-{report.period.number}-v{report.version}-{digest[:12]}.pdf"
            report.pdf.save(name, ContentFile(pdf), save=False)
            try:
                report.pdf_sha256, report.pdf_pages, report.pdf_status = digest, pages, PdfStatus.READY
                report.save(update_fields=["pdf", "pdf_sha256", "pdf_pages", "pdf_status"])
            except BaseException:
                report.pdf.storage.delete(report.pdf.name)
                raise
        return digest
    except Exception as error:
        logger.exception("Rendering the PDF of SAL %s failed", report_id)
        ProgressReport.objects.filter(pk=report_id).exclude(pdf_status=PdfStatus.READY).update(
            pdf_status=PdfStatus.FAILED, pdf_error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
