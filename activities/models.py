from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import Attachment, Reviewed
from core.validators import (
    NARRATIVE_MAX_CHARS,
    MaxCharsValidator,
    validate_not_in_future,
)
from partners.models import Partner, Project
from partners.permissions import scope_to_user


def _check_months(obj, duration: int, errors: dict):
    if obj.start_month and obj.start_month > duration:
        errors["start_month"] = _("The project lasts %(months)d months.") % {"months": duration}
    if obj.end_month and obj.end_month > duration:
        errors["end_month"] = _("The project lasts %(months)d months.") % {"months": duration}


def _month_constraints(prefix: str) -> list:
    return [
        models.CheckConstraint(
            condition=Q(start_month__gte=1),
            name=f"{prefix}_start_month_positive",
            violation_error_message=_("Months are counted from 1, the project's first month."),
        ),
        models.CheckConstraint(
            condition=Q(end_month__gte=F("start_month")),
            name=f"{prefix}_end_after_start",
            violation_error_message=_("The end month cannot come before the start month."),
        ),
    ]


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_to_user(self, user, project_field="project", members_see=Q())


class Activity(models.Model):
    class Kind(models.TextChoices):
        OPERATIVE = "operative", _("Operative")
        TRANSVERSAL = "transversal", _("Transversal")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="activities", verbose_name=_("project"))
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.OPERATIVE)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    leader = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_activities",
        verbose_name=_("leader"),
    )
    participants = models.ManyToManyField(
        Partner, blank=True, related_name="activities", verbose_name=_("participants")
    )
    start_month = models.PositiveSmallIntegerField(_("planned start month"), default=1)
    end_month = models.PositiveSmallIntegerField(_("planned end month"), default=1)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="activity_unique_number"),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="activity_number_positive",
                violation_error_message=_("Numbers start at 1."),
            ),
            *_month_constraints("activity"),
        ]

    def __str__(self):
        return _("Activity %(number)d: %(title)s") % {"number": self.number, "title": self.title}

    def clean(self):
        errors = {}
        if self.project_id:
            _check_months(self, self.project.duration_months, errors)
            if self.leader_id and self.leader.project_id != self.project_id:
                errors["leader"] = _("The leader must be a partner of the same project.")
        if errors:
            raise ValidationError(errors)


class Action(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="actions", verbose_name=_("activity"))
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    title = models.CharField(_("title"), max_length=400)
    responsible = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("responsible partner"),
    )
    start_month = models.PositiveSmallIntegerField(_("planned start month"), default=1)
    end_month = models.PositiveSmallIntegerField(_("planned end month"), default=1)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["activity", "number"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "number"], name="action_unique_number"),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="action_number_positive",
                violation_error_message=_("Numbers start at 1."),
            ),
            *_month_constraints("action"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def code(self) -> str:
        return f"{self.activity.number}.{self.number}"

    def clean(self):
        errors = {}
        if self.activity_id:
            activity = self.activity
            _check_months(self, activity.project.duration_months, errors)
            if self.start_month and self.start_month < activity.start_month:
                errors["start_month"] = _("The action cannot start before its activity (month %(month)d).") % {
                    "month": activity.start_month
                }
            if self.end_month and self.end_month > activity.end_month:
                errors["end_month"] = _("The action cannot end after its activity (month %(month)d).") % {
                    "month": activity.end_month
                }
            if self.responsible_id and self.responsible.project_id != activity.project_id:
                errors["responsible"] = _("The responsible partner must take part in the same project.")
        if errors:
            raise ValidationError(errors)


class Indicator(models.Model):
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("activity")
    )
    name = models.CharField(_("name"), max_length=300)
    unit = models.CharField(_("unit"), max_length=60)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2, default=0)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["activity", "name"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "name"], name="indicator_unique_name"),
            models.CheckConstraint(
                condition=Q(baseline__gte=0),
                name="indicator_baseline_not_negative",
                violation_error_message=_("The baseline cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(target__gt=0),
                name="indicator_target_positive",
                violation_error_message=_("The target must be positive."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.unit})"


class ProgressEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Entries of projects where the user directs or observes, of their own partner, or approved."""
        return scope_to_user(
            self,
            user,
            project_field="action__activity__project",
            partner_field="partner",
            members_see=Q(status=ProgressEntry.Status.APPROVED),
        )

    def for_project(self, project):
        return self.filter(action__activity__project=project)


class ProgressEntry(Reviewed):
    """The state of an action at a date, as reported by a partner."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned")

    action = models.ForeignKey(
        Action, on_delete=models.PROTECT, related_name="progress_entries", verbose_name=_("action")
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="progress_entries", verbose_name=_("partner")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="progress_entries",
        verbose_name=_("author"),
    )
    date = models.DateField(_("date"))
    percent_complete = models.PositiveSmallIntegerField(
        _("percent complete"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    narrative = models.TextField(_("narrative"), validators=[MaxCharsValidator(NARRATIVE_MAX_CHARS)])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_progress_entries",
        verbose_name=_("reviewer"),
    )

    objects = ProgressEntryQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("progress entry")
        verbose_name_plural = _("progress entries")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_complete__gte=0) & Q(percent_complete__lte=100),
                name="progress_entry_percent_0_100",
                violation_error_message=_("Percent complete must be between 0 and 100."),
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(reviewer__isnull=False),
                name="progress_entry_approved_has_reviewer",
                violation_error_message=_("An approved entry needs its reviewer."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("narrative"), NARRATIVE_MAX_CHARS),
                name="progress_entry_narrative_length",
                violation_error_message=_("The narrative is too long."),
            ),
            *Reviewed.constraints_named("progress_entry"),
        ]
        indexes = [models.Index(fields=["action", "status", "date"])]

    def __str__(self):
        return _("%(action)s at %(date)s: %(percent)d%%") % {
            "action": self.action.code,
            "date": self.date.isoformat(),
            "percent": self.percent_complete,
        }

    def clean(self):
        errors = {}
        if self.date:
            try:
                validate_not_in_future(self.date)
            except ValidationError as error:
                errors["date"] = error
        if self.action_id:
            project = self.action.activity.project
            if self.date and not project.contains(self.date):
                errors["date"] = _("The date must fall inside the project period (%(start)s – %(end)s).") % {
                    "start": project.start_date.isoformat(),
                    "end": project.end_date.isoformat(),
                }
            if self.partner_id and self.partner.project_id != project.id:
                errors["partner"] = _("The partner must take part in the action's project.")
        if errors:
            raise ValidationError(errors)


class IndicatorValue(models.Model):
    entry = models.ForeignKey(
        ProgressEntry, on_delete=models.CASCADE, related_name="indicator_values", verbose_name=_("progress entry")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="values", verbose_name=_("indicator")
    )
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        ordering = ["entry", "indicator"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "indicator"], name="indicator_value_once_per_entry"),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="indicator_value_not_negative",
                violation_error_message=_("An indicator value cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.indicator.name}: {self.value}"

    def clean(self):
        if self.entry_id and self.indicator_id and self.indicator.activity_id != self.entry.action.activity_id:
            raise ValidationError(
                {"indicator": _("The indicator must belong to the entry's activity.")}, code="activity"
            )


def evidence_upload_to(instance, filename):
    return f"evidence/{instance.entry.action.activity.project_id}/{filename}"


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(entry__in=ProgressEntry.objects.visible_to(user))


class Evidence(Attachment):
    """A file that documents a progress entry (report, attendance list, photo)."""

    entry = models.ForeignKey(
        ProgressEntry, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("progress entry")
    )
    file = models.FileField(_("file"), upload_to=evidence_upload_to, max_length=300)

    objects = EvidenceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["entry", "uploaded_at"]
