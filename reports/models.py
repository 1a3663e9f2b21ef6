import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.validators import SAL_SUMMARY_MAX_CHARS, MaxCharsValidator
from partners.models import Project
from partners.permissions import scope_to_user


class ReportingPeriod(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="reporting_periods", verbose_name=_("project")
    )
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    due_date = models.DateField(_("due date"))

    class Meta:
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="reporting_period_unique_number"),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="reporting_period_number_positive",
                violation_error_message=_("Numbers start at 1."),
            ),
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="reporting_period_end_after_start",
                violation_error_message=_("A period cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("end")),
                name="reporting_period_due_after_end",
                violation_error_message=_("A report cannot be due before its period ends."),
            ),
        ]

    def __str__(self):
        return _("SAL %(number)d (%(start)s – %(end)s)") % {
            "number": self.number,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    def has_ended(self, today) -> bool:
        """Tell whether the period is over by `today`: its last day has gone by."""
        return self.end < today

    def clean(self):
        if self.project_id and self.start and self.end:
            project = self.project
            if not (project.contains(self.start) and project.contains(self.end)):
                raise ValidationError(
                    _("The period must fall inside the project (%(start)s – %(end)s).")
                    % {"start": project.start_date.isoformat(), "end": project.end_date.isoformat()},
                    code="outside_project",
                )


# A render still queued or running after this long is taken as lost (its worker stopped) and may be retried.
RENDER_STALE_AFTER = datetime.timedelta(minutes=15)


class ProgressReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Directors see every version of their projects' SALs; observers the approved ones; partner staff none.

        The SAL holds every partner's money, which partner staff may not see.
        """
        return scope_to_user(
            self, user, project_field="period__project", observers_see=Q(status=ProgressReport.Status.APPROVED)
        )


class ProgressReport(models.Model):
    """A SAL: a version of the progress report for a period; frozen once approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")

    class PdfStatus(models.TextChoices):
        NONE = "none", _("Not rendered")
        QUEUED = "queued", _("Waiting to be rendered")
        RENDERING = "rendering", _("Rendering")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Rendering failed")

    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.PROTECT, related_name="reports", verbose_name=_("reporting period")
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1, validators=[MinValueValidator(1)])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(
        _("directors' summary"), blank=True, validators=[MaxCharsValidator(SAL_SUMMARY_MAX_CHARS)]
    )
    snapshot = models.JSONField(_("frozen figures"), null=True, blank=True, editable=False)
    pdf = models.FileField(_("PDF"), upload_to="sal/", blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, editable=False)
    pdf_status = models.CharField(
        _("PDF status"), max_length=10, choices=PdfStatus.choices, default=PdfStatus.NONE, editable=False
    )
    pdf_error = models.TextField(_("rendering error"), blank=True, editable=False)
    pdf_started_at = models.DateTimeField(_("rendering started at"), null=True, blank=True, editable=False)
    pdf_pages = models.PositiveIntegerField(_("PDF pages"), null=True, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="it")
    # Bumped on every change, so that a form opened on an older state cannot overwrite a newer one.
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # A director may start a draft while the period runs, to see its figures so far; it is marked as such and
    # can be approved only once the period has ended.
    before_period_end = models.BooleanField(_("started before the period ended"), default=False)

    objects = ProgressReportQuerySet.as_manager()
    # The snapshot is written once, on approval; the history keeps who changed the summary, approved and rendered.
    history = HistoricalRecords(excluded_fields=["snapshot"])

    class Meta:
        verbose_name = _("progress report (SAL)")
        verbose_name_plural = _("progress reports (SAL)")
        ordering = ["period", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["period", "version"], name="progress_report_unique_version"),
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(status="draft"),
                name="progress_report_one_draft_per_period",
                violation_error_message=_("This period already has a SAL in draft."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(snapshot__isnull=False) & Q(approved_by__isnull=False) & Q(approved_at__isnull=False)),
                name="progress_report_approved_is_frozen",
                violation_error_message=_("An approved report needs its frozen figures and approver."),
            ),
            models.CheckConstraint(
                condition=Q(status="approved") | Q(pdf_status="none", pdf="", pdf_sha256=""),
                name="progress_report_draft_has_no_pdf",
                violation_error_message=_("A draft SAL has no PDF."),
            ),
            models.CheckConstraint(
                condition=~Q(pdf_status="ready") | (~Q(pdf="") & ~Q(pdf_sha256="")),
                name="progress_report_ready_pdf_has_hash",
                violation_error_message=_("A ready PDF needs its file and its SHA-256."),
            ),
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="progress_report_language_known",
                violation_error_message=_("The report's language must be one of the portal's languages."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("summary"), SAL_SUMMARY_MAX_CHARS),
                name="progress_report_summary_length",
                violation_error_message=_("The summary is too long."),
            ),
        ]

    def __str__(self):
        return _("%(period)s, version %(version)d") % {"period": self.period, "version": self.version}

    @property
    def project(self):
        return self.period.project

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.APPROVED

    def render_retryable(self, now: datetime.datetime | None = None) -> bool:
        """A failed render, or one queued or running for so long that its worker must have stopped."""
        if self.status != self.Status.APPROVED:
            return False
        if self.pdf_status == self.PdfStatus.FAILED:
            return True
        waiting = self.pdf_status in (self.PdfStatus.QUEUED, self.PdfStatus.RENDERING)
        started = self.pdf_started_at or self.approved_at
        return waiting and started < (now or timezone.now()) - RENDER_STALE_AFTER


class ReportedExpenditure(models.Model):
    """The approved SAL that reports a verified expense: written on approval, at most one per expense.

    It lives here rather than on the expense because finance must not depend on reports. An expense is reported
    by the first SAL approved after its verification among those whose period ends on or after its date incurred,
    so an expense verified late is reported once, by a later SAL, instead of never.
    """

    report = models.ForeignKey(
        ProgressReport, on_delete=models.PROTECT, related_name="reported_expenses", verbose_name=_("SAL")
    )
    expenditure = models.OneToOneField(
        "finance.Expenditure", on_delete=models.PROTECT, related_name="reported", verbose_name=_("expense")
    )

    class Meta:
        verbose_name = _("expense reported by a SAL")
        verbose_name_plural = _("expenses reported by a SAL")

    def __str__(self):
        return f"{self.report} – {self.expenditure}"
