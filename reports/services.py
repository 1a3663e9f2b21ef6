"""Writes on the SAL: drafting a version, editing it, approving (freezing) it and having its PDF rendered."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.services import lock_for_change
from finance.models import Expenditure

from .models import ProgressReport, ReportedExpenditure, ReportingPeriod
from .permissions import user_can_prepare_report
from .selectors import progress_report_figures
from .tasks import progress_report_render

PdfStatus = ProgressReport.PdfStatus


def _check_director(actor, project):
    if not user_can_prepare_report(actor, project):
        raise PermissionDenied(_("Only the project's directors prepare the SAL."))


def _lock_draft(report: ProgressReport, revision: int | None) -> ProgressReport:
    """Lock the report's row and check that it is still the draft the user saw."""
    return lock_for_change(
        report,
        editable=(ProgressReport.Status.DRAFT,),
        refused=_(
            "Version %(version)d was approved meanwhile and can no longer change; a correction is a new version."
        ),
        refused_code="frozen",
        revision=revision,
        stale=_("Someone else changed this SAL meanwhile. Reload the page to see their changes, then try again."),
    )


def _period_running(period: ReportingPeriod, message: str) -> ValidationError:
    end = formats.date_format(period.end, "SHORT_DATE_FORMAT")
    return ValidationError(message % {"number": period.number, "end": end}, code="period_not_ended")


@transaction.atomic
def progress_report_create(
    *, actor, period: ReportingPeriod, language: str, before_period_end: bool = False, today=None
) -> ProgressReport:
    """Start the next version of the period's SAL as a draft, taking over the latest version's summary.

    A period still running is prepared only when `before_period_end` says the director chose a draft of it,
    which is then marked as such.
    """
    _check_director(actor, period.project)
    running = not period.has_ended(today or timezone.localdate())
    if running and not before_period_end:
        raise _period_running(
            period,
            _(
                "The period of SAL %(number)d ends on %(end)s: the SAL is prepared after that. To see its "
                "figures so far, start a draft before the end, which is marked as such."
            ),
        )
    ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    existing = ProgressReport.objects.filter(period=period)
    draft = existing.filter(status=ProgressReport.Status.DRAFT).first()
    if draft is not None:
        raise ValidationError(
            _("Version %(version)d of this SAL is still a draft: edit or approve it first.")
            % {"version": draft.version},
            code="draft_exists",
        )
    latest = existing.order_by("-version").first()
    report = ProgressReport(
        period=period,
        version=(existing.aggregate(last=Max("version"))["last"] or 0) + 1,
        language=language,
        summary=latest.summary if latest else "",
        created_by=actor,
        before_period_end=running,
    )
    report.full_clean(validate_constraints=False)
    report._history_user = actor
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as error:
        raise ValidationError(_("Another director started this version at the same moment."), code="race") from error
    return report


@transaction.atomic
def progress_report_update(
    *, actor, report: ProgressReport, summary: str, language: str, revision: int
) -> ProgressReport:
    """Change the draft's summary and language."""
    _check_director(actor, report.project)
    locked = _lock_draft(report, revision)
    locked.summary, locked.language = summary, language
    locked.revision += 1
    locked.full_clean()
    locked._history_user = actor
    locked.save()
    return locked


@transaction.atomic
def progress_report_approve(*, actor, report: ProgressReport, revision: int, today=None) -> ProgressReport:
    """Freeze the draft: store every figure as a snapshot and the expenses it reports, then have the PDF rendered.

    The period's expenses are locked first, whatever their status, so that one submitted or verified meanwhile
    cannot be counted in the snapshot without being recorded as reported, or the reverse: it waits, and goes to
    the next SAL.
    """
    _check_director(actor, report.project)
    locked = _lock_draft(report, revision)
    period = locked.period
    if not period.has_ended(today or timezone.localdate()):
        # Its figures would miss the rest of the period, and its expenses could not be reported again.
        raise _period_running(
            period, _("The period of SAL %(number)d ends on %(end)s: the SAL can be approved only after that.")
        )
    locked.before_period_end = False
    candidates = Expenditure.objects.for_project(period.project).filter(date_incurred__lte=period.end)
    list(candidates.select_for_update(of=("self",)).values_list("pk"))
    locked.snapshot = progress_report_figures(locked)
    unreported = candidates.filter(status=Expenditure.Status.VERIFIED, reported__isnull=True)
    ReportedExpenditure.objects.bulk_create(
        ReportedExpenditure(report=locked, expenditure_id=pk) for pk in unreported.values_list("pk", flat=True)
    )
    locked.status = ProgressReport.Status.APPROVED
    locked.approved_by, locked.approved_at = actor, timezone.now()
    locked.revision += 1
    _queue_render(locked)
    locked._history_user = actor
    locked.save()
    return locked


@transaction.atomic
def progress_report_render_retry(*, actor, report: ProgressReport) -> ProgressReport:
    """Queue the PDF of an approved SAL again after a failed or lost render."""
    _check_director(actor, report.project)
    locked = ProgressReport.objects.select_for_update().get(pk=report.pk)
    if not locked.render_retryable():
        raise ValidationError(_("The PDF of this SAL is not waiting for a retry."), code="not_retryable")
    _queue_render(locked)
    locked._history_user = actor
    locked.save()
    return locked


def _queue_render(report: ProgressReport):
    report.pdf_status, report.pdf_error, report.pdf_started_at = PdfStatus.QUEUED, "", timezone.now()
    report_id = report.pk
    transaction.on_commit(lambda: progress_report_render.enqueue(report_id))
