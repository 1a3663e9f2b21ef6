from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from partners.models import Project


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
            models.CheckConstraint(condition=Q(number__gte=1), name="reporting_period_number_positive"),
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

    def clean(self):
        if self.project_id and self.start and self.end:
            project = self.project
            if not (project.contains(self.start) and project.contains(self.end)):
                raise ValidationError(
                    _("The period must fall inside the project (%(start)s – %(end)s).")
                    % {"start": project.start_date.isoformat(), "end": project.end_date.isoformat()},
                    code="outside_project",
                )


class ProgressReport(models.Model):
    """A SAL: a version of the progress report for a period; frozen once approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")

    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.PROTECT, related_name="reports", verbose_name=_("reporting period")
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1, validators=[MinValueValidator(1)])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(_("directors' summary"), blank=True)
    snapshot = models.JSONField(_("frozen figures"), null=True, blank=True, editable=False)
    pdf = models.FileField(_("PDF"), upload_to="sal/", blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=5, default="it")
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

    class Meta:
        verbose_name = _("progress report (SAL)")
        verbose_name_plural = _("progress reports (SAL)")
        ordering = ["period", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["period", "version"], name="progress_report_unique_version"),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (
                    Q(snapshot__isnull=False)
                    & ~Q(pdf_sha256="")
                    & Q(approved_by__isnull=False)
                    & Q(approved_at__isnull=False)
                ),
                name="progress_report_approved_is_frozen",
                violation_error_message=_("An approved report needs its frozen figures, PDF hash and approver."),
            ),
        ]

    def __str__(self):
        return _("%(period)s, version %(version)d") % {"period": self.period, "version": self.version}

    @property
    def project(self):
        return self.period.project
