import calendar
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Enter an ISO 4217 currency code such as EUR or BRL."))
country_validator = RegexValidator(r"^[A-Z]{2}$", _("Enter an ISO 3166 country code such as IT or AR."))


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Return the same day `months` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Projects the user is a member of; every project for administrators."""
        # Imported here: the permissions module builds on these models.
        from .permissions import scope_to_user

        return scope_to_user(self, user, project_field="pk", members_see=Q())


class Project(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300)
    programme = models.CharField(_("programme"), max_length=120)
    start_date = models.DateField(_("start date"))
    duration_months = models.PositiveSmallIntegerField(_("duration (months)"), validators=[MinValueValidator(1)])
    description = models.TextField(_("description"), blank=True)
    contract_number = models.CharField(
        _("grant contract number"), max_length=60, blank=True, help_text=_("As written on the grant contract.")
    )
    region = models.CharField(_("region"), max_length=200, blank=True, help_text=_("Where the action takes place."))
    # What the project's documents do not give is entered as an assumption, printed as such until confirmed.
    start_date_confirmed = models.BooleanField(
        _("start date confirmed"), default=False, help_text=_("Untick while the start date is an assumption.")
    )
    schedule_confirmed = models.BooleanField(
        _("work plan schedule confirmed"),
        default=False,
        help_text=_("Untick while the planned months of activities and actions are assumptions."),
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_months__gte=1),
                name="project_duration_positive",
                violation_error_message=_("A project lasts at least one month."),
            ),
        ]

    def __str__(self):
        return self.code.upper() if len(self.code) <= 8 else self.code

    @property
    def end_date(self) -> datetime.date:
        """Return the last day of the project."""
        return add_months(self.start_date, self.duration_months) - datetime.timedelta(days=1)

    def contains(self, day: datetime.date) -> bool:
        return self.start_date <= day <= self.end_date

    def month_of(self, day: datetime.date) -> int:
        """Return the project month (1-based) that `day` falls in; 0 before the start."""
        if day < self.start_date:
            return 0
        months = (day.year - self.start_date.year) * 12 + day.month - self.start_date.month
        if day.day < self.start_date.day:
            months -= 1
        return months + 1

    def elapsed_months(self, on: datetime.date) -> int:
        """Return how many project months have started by `on`, capped at the duration."""
        return min(self.month_of(on), self.duration_months)


class Organisation(models.Model):
    class Kind(models.TextChoices):
        REGION = "region", _("Region")
        STATE = "state", _("State or province")
        DEPARTMENT = "department", _("Department")
        MUNICIPALITY = "municipality", _("Municipality")
        AGENCY = "agency", _("Agency")
        UNIVERSITY = "university", _("University or research centre")
        FOUNDATION = "foundation", _("Foundation")
        ASSOCIATION = "association", _("Association")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=40)
    country = models.CharField(_("country"), max_length=2, validators=[country_validator], help_text=_("ISO 3166 code"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    city = models.CharField(_("city"), max_length=120, blank=True)
    is_demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Created by the demo loader; not a real participant.")
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class PartnerQuerySet(models.QuerySet):
    def for_project(self, project):
        return self.filter(project=project)


class Partner(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead partner")
        PARTNER = "partner", _("Partner")
        ASSOCIATE = "associate", _("Associate")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="partners", verbose_name=_("project"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="partnerships", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.PARTNER)
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[currency_validator], help_text=_("ISO 4217 code")
    )

    objects = PartnerQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        # The lead partner first, then by name.
        ordering = [
            "project",
            models.Case(models.When(role="lead", then=0), default=1).asc(),
            "organisation__name",
        ]
        constraints = [
            models.UniqueConstraint(fields=["project", "organisation"], name="partner_unique_per_project"),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(role="lead"),
                name="partner_one_lead_per_project",
                violation_error_message=_("The project already has a lead partner."),
            ),
        ]

    def __str__(self):
        return self.organisation.short_name or self.organisation.name


class GoverningBody(models.Model):
    """A body of the project's direction structure (director, committee, ...)."""

    class Kind(models.TextChoices):
        DIRECTION = "direction", _("Direction")
        COMMITTEE = "committee", _("Committee")
        SUPPORT = "support", _("Support")

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="governing_bodies", verbose_name=_("project")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("governing body")
        verbose_name_plural = _("governing bodies")
        ordering = ["project", "order"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="governing_body_unique_name"),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """What a user may do in a project: partner staff of one partner, director or observer."""

    class Role(models.TextChoices):
        PARTNER_STAFF = "partner_staff", _("Partner staff")
        DIRECTOR = "director", _("Director")
        OBSERVER = "observer", _("Observer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("project")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("partner"),
        help_text=_("Required for partner staff, empty for directors and observers."),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["project", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="membership_one_per_user_and_project"),
            models.CheckConstraint(
                condition=(Q(role="partner_staff") & Q(partner__isnull=False))
                | (~Q(role="partner_staff") & Q(partner__isnull=True)),
                name="membership_partner_iff_partner_staff",
                violation_error_message=_("Partner staff need a partner; directors and observers have none."),
            ),
        ]

    def __str__(self):
        if self.partner_id:
            return f"{self.user} – {self.get_role_display()} ({self.partner})"
        return f"{self.user} – {self.get_role_display()}"

    def clean(self):
        if self.partner_id and self.project_id and self.partner.project_id != self.project_id:
            raise ValidationError({"partner": _("The partner must take part in the same project.")}, code="project")
