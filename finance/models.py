from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from activities.models import Activity
from core.models import Attachment, Reviewed
from core.validators import validate_not_in_future
from partners.models import Partner, Project, currency_validator
from partners.permissions import scope_to_user


def money_field(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def rate_field(verbose_name, default, **kwargs):
    return models.DecimalField(verbose_name, max_digits=5, decimal_places=4, default=Decimal(default), **kwargs)


class CostCategory(models.Model):
    """A heading of the EU budget (1 human resources … 8 indirect costs)."""

    class Kind(models.TextChoices):
        DIRECT = "direct", _("Direct cost")
        CONTINGENCY = "contingency", _("Contingency reserve")
        INDIRECT = "indirect", _("Indirect cost")

    code = models.PositiveSmallIntegerField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.DIRECT)

    class Meta:
        verbose_name = _("cost category")
        verbose_name_plural = _("cost categories")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__gte=1),
                name="cost_category_code_positive",
                violation_error_message=_("Numbers start at 1."),
            )
        ]

    def __str__(self):
        # The EU headings are loaded under their English names, marked for translation.
        return f"{self.code}. {gettext(self.name)}"


class Budget(models.Model):
    """A version of the project budget; amendments make new versions, one is current."""

    class RateMethod(models.TextChoices):
        MONTH_INCURRED = "month", _("Rate of the month incurred (InforEuro)")
        PERIOD_AVERAGE = "period", _("Average rate over the reporting period")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="budgets", verbose_name=_("project"))
    version = models.PositiveSmallIntegerField(_("version"), validators=[MinValueValidator(1)])
    label = models.CharField(_("label"), max_length=200, blank=True)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    is_current = models.BooleanField(_("current version"), default=False)
    total_eligible_cost = money_field(_("total eligible cost"), validators=[MinValueValidator(Decimal("0.01"))])
    eu_contribution = money_field(_("EU contribution"), validators=[MinValueValidator(Decimal("0.00"))])
    eu_max_rate = rate_field(_("EU maximum rate"), "0.8000")
    indirect_cap = rate_field(_("indirect costs cap"), "0.0700", help_text=_("Share of direct eligible costs."))
    flexibility_threshold = rate_field(
        _("flexibility threshold"), "0.1500", help_text=_("Change of a heading allowed without an amendment.")
    )
    contingency_cap = rate_field(_("contingency reserve cap"), "0.0500")
    rate_method = models.CharField(
        _("exchange-rate method"), max_length=8, choices=RateMethod.choices, default=RateMethod.MONTH_INCURRED
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["project", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="budget_unique_version"),
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(is_current=True),
                name="budget_one_current_per_project",
                violation_error_message=_("The project already has a current budget."),
            ),
            models.CheckConstraint(
                condition=Q(total_eligible_cost__gt=0),
                name="budget_total_positive",
                violation_error_message=_("The total eligible cost must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(eu_contribution__gte=0)
                & Q(eu_contribution__lte=F("total_eligible_cost") * F("eu_max_rate")),
                name="budget_eu_contribution_within_rate",
                violation_error_message=_("The EU contribution exceeds the EU maximum rate of the total."),
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{rate}__gte": 0, f"{rate}__lte": 1}),
                    name=f"budget_{rate}_0_1",
                    violation_error_message=_("A rate is a fraction from 0 to 1, such as 0.07."),
                )
                for rate in ("eu_max_rate", "indirect_cap", "flexibility_threshold", "contingency_cap")
            ],
        ]

    def __str__(self):
        return _("%(project)s budget v%(version)d") % {"project": self.project, "version": self.version}

    @property
    def co_financing(self) -> Decimal:
        return self.total_eligible_cost - self.eu_contribution

    @property
    def is_approved(self) -> bool:
        """An approved version never changes: an amendment is a new version."""
        return self.approved_on is not None


class BudgetLine(models.Model):
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="lines", verbose_name=_("budget"))
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="budget_lines", verbose_name=_("partner")
    )
    category = models.ForeignKey(
        CostCategory, on_delete=models.PROTECT, related_name="budget_lines", verbose_name=_("cost category")
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budget_lines",
        verbose_name=_("activity"),
    )
    amount = money_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        ordering = ["budget", "category__code", "partner__organisation__name", "activity__number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="budget_line_amount_positive",
                violation_error_message=_("A budget line amount must be positive."),
            ),
            models.UniqueConstraint(
                fields=["budget", "partner", "category", "activity"],
                name="budget_line_unique_with_activity",
                violation_error_message=_("This budget already has a line for that partner, heading and activity."),
            ),
            models.UniqueConstraint(
                fields=["budget", "partner", "category"],
                condition=Q(activity__isnull=True),
                name="budget_line_unique_without_activity",
                violation_error_message=_("This budget already has a line for that partner and heading."),
            ),
        ]

    def __str__(self):
        return f"{self.partner} – {self.category}: {self.amount}"

    def clean(self):
        errors = {}
        if self.budget_id:
            project_id = self.budget.project_id
            if self.partner_id and self.partner.project_id != project_id:
                errors["partner"] = _("The partner must take part in the budget's project.")
            if self.activity_id and self.activity.project_id != project_id:
                errors["activity"] = _("The activity must belong to the budget's project.")
        if errors:
            raise ValidationError(errors)


class ExchangeRate(models.Model):
    """The Commission's monthly accounting rate: units of `currency` per EUR."""

    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    rate = models.DecimalField(_("rate (units per EUR)"), max_digits=18, decimal_places=6)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "month"],
                name="exchange_rate_unique_month",
                violation_error_message=_("There is already a rate for this currency and month."),
            ),
            models.CheckConstraint(
                condition=Q(rate__gt=0),
                name="exchange_rate_positive",
                violation_error_message=_("A rate must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="exchange_rate_first_of_month",
                violation_error_message=_("A rate's month is given by its first day."),
            ),
            models.CheckConstraint(
                condition=~Q(currency="EUR"),
                name="exchange_rate_not_eur",
                violation_error_message=_("EUR needs no exchange rate."),
            ),
        ]

    def __str__(self):
        return f"{self.currency} {self.month:%Y-%m}: {self.rate}"


class ExpenditureQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Expenses of projects the user directs or observes, and those of the user's own partner."""
        return scope_to_user(self, user, project_field="partner__project", partner_field="partner")

    def for_project(self, project):
        return self.filter(partner__project=project)

    def declared(self):
        """Submitted or verified: what partners have put forward as spent."""
        return self.filter(status__in=[Expenditure.Status.SUBMITTED, Expenditure.Status.VERIFIED])

    def verified(self):
        return self.filter(status=Expenditure.Status.VERIFIED)


class Expenditure(Reviewed):
    """An expense a partner declares, in its own currency, with the EUR amount fixed at declaration."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")
        RETURNED = "returned", _("Returned")

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="expenditures", verbose_name=_("partner")
    )
    category = models.ForeignKey(
        CostCategory, on_delete=models.PROTECT, related_name="expenditures", verbose_name=_("cost category")
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expenditures",
        verbose_name=_("activity"),
    )
    budget_line = models.ForeignKey(
        BudgetLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expenditures",
        verbose_name=_("budget line"),
    )
    date_incurred = models.DateField(_("date incurred"))
    description = models.CharField(_("description"), max_length=500)
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    document_ref = models.CharField(_("document reference"), max_length=100, blank=True)
    amount = money_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    exchange_rate = models.DecimalField(
        _("exchange rate (units per EUR)"), max_digits=18, decimal_places=6, default=Decimal("1")
    )
    amount_eur = money_field(_("amount in EUR"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="expenditures", verbose_name=_("author")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_expenditures",
        verbose_name=_("reviewer"),
    )

    # The director's checklist, recorded with the decision (and in the history); all of it is needed to verify.
    check_eligible = models.BooleanField(_("eligible cost"), default=False)
    check_receipt_matches = models.BooleanField(_("receipt matches the amount"), default=False)
    check_within_budget_line = models.BooleanField(_("within the budget line"), default=False)
    check_date_within_project = models.BooleanField(_("date within the project"), default=False)

    CHECKLIST = ("check_eligible", "check_receipt_matches", "check_within_budget_line", "check_date_within_project")

    objects = ExpenditureQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("expenditure")
        verbose_name_plural = _("expenditures")
        ordering = ["-date_incurred", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="expenditure_amount_positive",
                violation_error_message=_("The amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(amount_eur__gt=0),
                name="expenditure_amount_eur_positive",
                violation_error_message=_("The amount in EUR must be at least one cent."),
            ),
            models.CheckConstraint(
                condition=Q(exchange_rate__gt=0),
                name="expenditure_rate_positive",
                violation_error_message=_("A rate must be positive."),
            ),
            models.CheckConstraint(
                condition=~Q(currency="EUR") | (Q(exchange_rate=1) & Q(amount_eur=F("amount"))),
                name="expenditure_eur_is_not_converted",
                violation_error_message=_("An expense in EUR has the rate 1 and the same amount in EUR."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted"]) | Q(reviewer__isnull=False),
                name="expenditure_reviewed_has_reviewer",
                violation_error_message=_("A reviewed expense needs its reviewer."),
            ),
            *Reviewed.constraints_named("expenditure"),
        ]
        indexes = [models.Index(fields=["partner", "status", "date_incurred"])]

    def __str__(self):
        return f"{self.date_incurred} {self.description} – {self.amount} {self.currency}"

    def clean(self):
        errors = {}
        if self.date_incurred:
            try:
                validate_not_in_future(self.date_incurred)
            except ValidationError as error:
                errors["date_incurred"] = error
        if self.partner_id:
            project = self.partner.project
            if self.date_incurred and not project.contains(self.date_incurred):
                errors["date_incurred"] = _("The date must fall inside the project period (%(start)s – %(end)s).") % {
                    "start": project.start_date.isoformat(),
                    "end": project.end_date.isoformat(),
                }
            if self.activity_id and self.activity.project_id != project.id:
                errors["activity"] = _("The activity must belong to the partner's project.")
            if self.budget_line_id and (
                self.budget_line.partner_id != self.partner_id or self.budget_line.category_id != self.category_id
            ):
                errors["budget_line"] = _("The budget line must be of the same partner and heading.")
        if errors:
            raise ValidationError(errors)


def receipt_upload_to(instance, filename):
    return f"receipts/{instance.expenditure.partner_id}/{filename}"


class ReceiptQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(expenditure__in=Expenditure.objects.visible_to(user))


class Receipt(Attachment):
    """A file that proves an expense (invoice, receipt, payment order)."""

    expenditure = models.ForeignKey(
        Expenditure, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("expenditure")
    )
    file = models.FileField(_("file"), upload_to=receipt_upload_to, max_length=300)

    objects = ReceiptQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["expenditure", "uploaded_at"]


class EUPayment(models.Model):
    """A payment received from the European Commission: a pre-financing tranche or the balance."""

    class Kind(models.TextChoices):
        PRE_FINANCING = "pre_financing", _("Pre-financing")
        BALANCE = "balance", _("Balance")

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="eu_payments", verbose_name=_("project")
    )
    number = models.PositiveSmallIntegerField(_("tranche"), validators=[MinValueValidator(1)])
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PRE_FINANCING)
    received_on = models.DateField(_("received on"))
    amount = money_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    note = models.CharField(_("note"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("EU payment")
        verbose_name_plural = _("EU payments")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"],
                name="eu_payment_unique_number",
                violation_error_message=_("This tranche number is already recorded."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="eu_payment_amount_positive",
                violation_error_message=_("The amount must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1),
                name="eu_payment_number_positive",
                violation_error_message=_("Numbers start at 1."),
            ),
        ]

    def __str__(self):
        return _("%(project)s EU payment %(number)d: %(amount)s EUR") % {
            "project": self.project,
            "number": self.number,
            "amount": self.amount,
        }
