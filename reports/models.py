import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from core.models import Reviewed
from core.validators import CONTRIBUTION_TEXT_MAX_CHARS, REVIEW_NOTE_MAX_CHARS, SAL_SUMMARY_MAX_CHARS, MaxCharsValidator
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
            "start": date_format(self.start, "SHORT_DATE_FORMAT"),
            "end": date_format(self.end, "SHORT_DATE_FORMAT"),
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
        DRAFT = "draft", pgettext_lazy("progress report status", "Draft")
        APPROVED = "approved", pgettext_lazy("progress report status", "Approved")

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
    # The financial report's figures the data cannot give: other funding, and the forecast of the next period.
    other_donors_eur = models.DecimalField(
        _("other donors (EUR)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    in_kind_eur = models.DecimalField(
        _("in-kind contributions (EUR)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    interest_eur = models.DecimalField(
        _("interest earned on pre-financing (EUR)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    funding_note = models.TextField(
        _("note on the sources of funding"), blank=True, validators=[MaxCharsValidator(REVIEW_NOTE_MAX_CHARS)]
    )
    forecast_eur = models.DecimalField(
        _("expenditure forecast for the next period (EUR)"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    forecast_note = models.TextField(
        _("forecast: what the next period's spending is for"),
        blank=True,
        validators=[MaxCharsValidator(REVIEW_NOTE_MAX_CHARS)],
    )

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
            models.CheckConstraint(
                condition=Q(other_donors_eur__gte=0, in_kind_eur__gte=0, interest_eur__gte=0, forecast_eur__gte=0),
                name="progress_report_funding_not_negative",
                violation_error_message=_("Funding and forecast amounts cannot be negative."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("funding_note"), REVIEW_NOTE_MAX_CHARS)
                & LessThanOrEqual(Length("forecast_note"), REVIEW_NOTE_MAX_CHARS),
                name="progress_report_financial_notes_length",
                violation_error_message=_("A note is too long."),
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


class PartnerContributionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Directors see every contribution of their projects; partner staff their own partner's; observers the
        accepted ones."""
        return scope_to_user(
            self,
            user,
            project_field="period__project",
            partner_field="partner",
            observers_see=Q(status=PartnerContribution.Status.APPROVED),
        )


class PartnerContribution(Reviewed):
    """A partner's part of a period's report: what it did on each activity it leads or works on.

    Written and reviewed like a progress entry: draft, submitted, then accepted or returned with a note.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("contribution status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("contribution status", "Submitted")
        APPROVED = "approved", pgettext_lazy("contribution status", "Accepted")
        RETURNED = "returned", pgettext_lazy("contribution status", "Returned")

    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.PROTECT, related_name="contributions", verbose_name=_("reporting period")
    )
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="contributions", verbose_name=_("partner")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contributions", verbose_name=_("author")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_contributions",
        verbose_name=_("reviewer"),
    )

    objects = PartnerContributionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("partner contribution")
        verbose_name_plural = _("partner contributions")
        ordering = ["-period__number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "partner"],
                name="contribution_once_per_period",
                violation_error_message=_("This partner has a contribution for this period already."),
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(reviewer__isnull=False),
                name="contribution_approved_has_reviewer",
                violation_error_message=_("An accepted contribution needs its reviewer."),
            ),
            *Reviewed.constraints_named("contribution"),
        ]

    def __str__(self):
        return _("%(partner)s, period %(number)d") % {"partner": self.partner, "number": self.period.number}

    @property
    def project(self):
        return self.period.project

    def clean(self):
        if self.period_id and self.partner_id and self.partner.project_id != self.period.project_id:
            raise ValidationError({"partner": _("The partner must take part in the period's project.")})


CONTRIBUTION_TEXT_FIELDS = ("done", "results", "problems", "next_period", "visibility")


def _contribution_text(label):
    return models.TextField(label, blank=True, validators=[MaxCharsValidator(CONTRIBUTION_TEXT_MAX_CHARS)])


class ContributionActivity(models.Model):
    """What a partner reports on one activity in its contribution."""

    contribution = models.ForeignKey(
        PartnerContribution, on_delete=models.CASCADE, related_name="lines", verbose_name=_("contribution")
    )
    activity = models.ForeignKey(
        "activities.Activity", on_delete=models.PROTECT, related_name="contributions", verbose_name=_("activity")
    )
    done = _contribution_text(_("what was done"))
    results = _contribution_text(_("results"))
    problems = _contribution_text(_("problems met and measures taken"))
    next_period = _contribution_text(_("next period's plan"))
    visibility = _contribution_text(_("visibility actions"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contribution on an activity")
        verbose_name_plural = _("contributions on activities")
        ordering = ["contribution", "activity__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["contribution", "activity"],
                name="contribution_activity_once",
                violation_error_message=_("The contribution covers this activity already."),
            ),
            *(
                models.CheckConstraint(
                    condition=LessThanOrEqual(Length(field), CONTRIBUTION_TEXT_MAX_CHARS),
                    name=f"contribution_activity_{field}_length",
                    violation_error_message=_("A text of the contribution is too long."),
                )
                for field in CONTRIBUTION_TEXT_FIELDS
            ),
        ]

    def __str__(self):
        return f"{self.contribution} – {self.activity.number}"


class ReportSection(models.Model):
    """A chapter of the SAL as the EU interim narrative report (Annex VI) has it, compiled then edited by directors.

    The activities chapter has one section per activity; every other chapter has one.
    """

    class Kind(models.TextChoices):
        ACTIVITIES = "activities", _("Activities carried out")
        RESULTS = "results", _("Results against the logframe")
        PROBLEMS = "problems", _("Problems met, measures taken and reasons for delays")
        ACTION_PLAN = "action_plan", _("Updated action plan for the next period")
        PARTNERSHIP = "partnership", _("Partnership and cooperation")
        VISIBILITY = "visibility", _("Visibility")
        SUSTAINABILITY = "sustainability", _("Sustainability")
        LESSONS = "lessons", _("Lessons learned")

    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="sections", verbose_name=_("SAL"))
    kind = models.CharField(_("section"), max_length=16, choices=Kind.choices)
    activity = models.ForeignKey(
        "activities.Activity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("activity"),
    )
    text = models.TextField(_("text"), blank=True, validators=[MaxCharsValidator(SAL_SUMMARY_MAX_CHARS)])
    # Who last wrote it by hand: compiling again leaves such a section alone.
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("edited by"),
    )
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SAL section")
        verbose_name_plural = _("SAL sections")
        ordering = ["report", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "kind", "activity"],
                name="report_section_unique_per_activity",
                violation_error_message=_("This SAL already has this section for that activity."),
            ),
            models.UniqueConstraint(
                fields=["report", "kind"],
                condition=Q(activity__isnull=True),
                name="report_section_unique",
                violation_error_message=_("This SAL already has this section."),
            ),
            models.CheckConstraint(
                condition=Q(kind="activities", activity__isnull=False) | (~Q(kind="activities") & Q(activity=None)),
                name="report_section_activity_only_for_activities",
                violation_error_message=_("Only the activities chapter has a section per activity."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), SAL_SUMMARY_MAX_CHARS),
                name="report_section_text_length",
                violation_error_message=_("The text is too long."),
            ),
        ]

    def __str__(self):
        if self.activity_id:
            return f"{self.report} – {self.get_kind_display()} {self.activity.number}"
        return f"{self.report} – {self.get_kind_display()}"


class HeadingVariance(models.Model):
    """Why a budget heading's spending strays from plan by more than the flexibility threshold, as directors explain.

    The EU financial report asks for it; a SAL is approved only once every such heading has one.
    """

    report = models.ForeignKey(
        ProgressReport, on_delete=models.CASCADE, related_name="variances", verbose_name=_("SAL")
    )
    category = models.ForeignKey(
        "finance.CostCategory", on_delete=models.PROTECT, related_name="+", verbose_name=_("budget heading")
    )
    explanation = models.TextField(_("explanation"), validators=[MaxCharsValidator(REVIEW_NOTE_MAX_CHARS)])

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("variance explanation")
        verbose_name_plural = _("variance explanations")
        ordering = ["report", "category__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "category"],
                name="heading_variance_unique",
                violation_error_message=_("This SAL already explains this heading."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("explanation"), REVIEW_NOTE_MAX_CHARS),
                name="heading_variance_explanation_length",
                violation_error_message=_("The explanation is too long."),
            ),
        ]

    def __str__(self):
        return f"{self.report} – {self.category}"
