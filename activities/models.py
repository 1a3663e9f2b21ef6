from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from core.models import Attachment, Reviewed
from core.validators import (
    LOGFRAME_TEXT_MAX_CHARS,
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
    # Declared as a string: the logframe's Result is defined below, with the Objective it comes under.
    result = models.ForeignKey(
        "Result",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("expected result"),
    )

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
            if self.result_id and self.result.objective.project_id != self.project_id:
                errors["result"] = _("The result must belong to the same project.")
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


class Objective(models.Model):
    """An objective of the logframe: the project's overall objective or one of its specific objectives."""

    class Kind(models.TextChoices):
        OVERALL = "overall", _("Overall objective")
        SPECIFIC = "specific", _("Specific objective")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="objectives", verbose_name=_("project"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    text = models.TextField(_("text"), validators=[MaxCharsValidator(LOGFRAME_TEXT_MAX_CHARS)])

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("objective")
        verbose_name_plural = _("objectives")
        ordering = ["project", "kind", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "number"],
                name="objective_unique_number",
                violation_error_message=_("The project has an objective of this kind with this number already."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="objective_number_positive",
                violation_error_message=_("Numbers start at 1."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), LOGFRAME_TEXT_MAX_CHARS),
                name="objective_text_length",
                violation_error_message=_("The text is too long."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.text[:80]}"

    @property
    def code(self) -> str:
        return f"OG{self.number}" if self.kind == self.Kind.OVERALL else f"OS{self.number}"


class Result(models.Model):
    """An expected result of the logframe, under a specific objective; activities work towards it."""

    objective = models.ForeignKey(
        Objective, on_delete=models.PROTECT, related_name="results", verbose_name=_("specific objective")
    )
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    text = models.TextField(_("text"), validators=[MaxCharsValidator(LOGFRAME_TEXT_MAX_CHARS)])

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("expected result")
        verbose_name_plural = _("expected results")
        ordering = ["objective", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["objective", "number"],
                name="result_unique_number",
                violation_error_message=_("The objective has a result with this number already."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="result_number_positive",
                violation_error_message=_("Numbers start at 1."),
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), LOGFRAME_TEXT_MAX_CHARS),
                name="result_text_length",
                violation_error_message=_("The text is too long."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.text[:80]}"

    @property
    def code(self) -> str:
        return f"R{self.objective.number}.{self.number}"

    def clean(self):
        if self.objective_id and self.objective.kind != Objective.Kind.SPECIFIC:
            raise ValidationError({"objective": _("A result comes under a specific objective.")}, code="overall")


class TargetGroup(models.Model):
    """A group the project works for, as the project description names it."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="target_groups", verbose_name=_("project")
    )
    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1)])
    name = models.CharField(_("name"), max_length=300)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target group")
        verbose_name_plural = _("target groups")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"],
                name="target_group_unique_number",
                violation_error_message=_("The project has a target group with this number already."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="target_group_number_positive",
                violation_error_message=_("Numbers start at 1."),
            ),
        ]

    def __str__(self):
        return self.name


class IndicatorQuerySet(models.QuerySet):
    def for_project(self, project):
        return self.filter(
            Q(activity__project=project) | Q(objective__project=project) | Q(result__objective__project=project)
        )


class Indicator(models.Model):
    """What measures an objective, a result or an activity of the logframe: exactly one of the three.

    `cumulative` says how its values add up (see `activities.rules.indicator_achievement`): a cumulative
    indicator's value is the total reached so far, so the latest one counts; a non-cumulative indicator's
    value is what was achieved since the previous value, so the values add up.
    """

    objective = models.ForeignKey(
        Objective,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name=_("objective"),
    )
    result = models.ForeignKey(
        Result, on_delete=models.CASCADE, null=True, blank=True, related_name="indicators", verbose_name=_("result")
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name=_("activity"),
    )
    name = models.CharField(_("name"), max_length=300)
    unit = models.CharField(_("unit"), max_length=60)
    baseline = models.DecimalField(_("baseline"), max_digits=14, decimal_places=2, default=0)
    target = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    # No default: whoever creates an indicator says how its values add up.
    cumulative = models.BooleanField(
        _("cumulative"),
        choices=[
            (True, _("Yes: each value is the total reached so far")),
            (False, _("No: each value is what was achieved since the previous one")),
        ],
    )
    source_of_verification = models.TextField(
        _("source of verification"), blank=True, validators=[MaxCharsValidator(LOGFRAME_TEXT_MAX_CHARS)]
    )
    assumptions = models.TextField(
        _("assumptions"), blank=True, validators=[MaxCharsValidator(LOGFRAME_TEXT_MAX_CHARS)]
    )

    objects = IndicatorQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "name"], name="indicator_unique_name"),
            models.CheckConstraint(
                condition=Q(objective__isnull=False, result__isnull=True, activity__isnull=True)
                | Q(objective__isnull=True, result__isnull=False, activity__isnull=True)
                | Q(objective__isnull=True, result__isnull=True, activity__isnull=False),
                name="indicator_measures_one_item",
                violation_error_message=_("An indicator measures exactly one objective, result or activity."),
            ),
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
            models.CheckConstraint(
                condition=~Q(target=F("baseline")),
                name="indicator_target_not_baseline",
                violation_error_message=_("The target must differ from the baseline: nothing would be achieved."),
            ),
            *(
                models.CheckConstraint(
                    condition=LessThanOrEqual(Length(field), LOGFRAME_TEXT_MAX_CHARS),
                    name=f"indicator_{field}_length",
                    violation_error_message=_("The text is too long."),
                )
                for field in ("source_of_verification", "assumptions")
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.unit})"

    @property
    def measured(self):
        """Return the objective, result or activity the indicator measures."""
        return self.objective or self.result or self.activity

    @property
    def project_id(self):
        if self.activity_id:
            return self.activity.project_id
        if self.result_id:
            return self.result.objective.project_id
        return self.objective.project_id if self.objective_id else None


class IndicatorMeasurement(models.Model):
    """A value of an indicator as of a date, recorded by a director (partners report theirs in progress entries).

    The date places the value in a reporting period (the reports app's periods are date ranges), so this app
    needs no period of its own.
    """

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="measurements", verbose_name=_("indicator")
    )
    date = models.DateField(_("as of"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator measurement")
        verbose_name_plural = _("indicator measurements")
        ordering = ["indicator", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "date"],
                name="indicator_measurement_once_a_day",
                violation_error_message=_("This indicator has a value at this date already: change that one."),
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="indicator_measurement_not_negative",
                violation_error_message=_("An indicator value cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.indicator.name} {self.date.isoformat()}: {self.value}"

    def clean(self):
        if self.date:
            try:
                validate_not_in_future(self.date)
            except ValidationError as error:
                raise ValidationError({"date": error}) from None


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
        DRAFT = "draft", pgettext_lazy("progress entry status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("progress entry status", "Submitted")
        APPROVED = "approved", pgettext_lazy("progress entry status", "Approved")
        RETURNED = "returned", pgettext_lazy("progress entry status", "Returned")

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
