import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import DateField, F, Q
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from activities.models import Action, Activity
from core.formatters import money_text, months_text
from core.models import Attachment, Reviewed
from core.validators import validate_iso_4217, validate_not_in_future
from partners.models import Partner, Project, currency_validator
from partners.permissions import scope_to_user


def money_field(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **kwargs)


def rate_field(verbose_name, default, **kwargs):
    return models.DecimalField(verbose_name, max_digits=5, decimal_places=4, default=Decimal(default), **kwargs)


class CostCategory(models.Model):
    """A heading of the EU budget that holds money; its code is its line in Annex III (see finance.annex)."""

    class Kind(models.TextChoices):
        DIRECT = "direct", _("Direct cost")
        CONTINGENCY = "contingency", _("Contingency reserve")
        INDIRECT = "indirect", _("Indirect cost")
        TAXES = "taxes", _("Taxes")

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
            ),
            # Lines 7, 9, 11 and 13 are sums, computed: no heading holds them.
            models.CheckConstraint(
                condition=Q(kind="direct", code__lte=6)
                | Q(kind="contingency", code=8)
                | Q(kind="indirect", code=10)
                | Q(kind="taxes", code=12),
                name="cost_category_code_is_annex_line",
                violation_error_message=_(
                    "The code is the heading's line in Annex III: 1 to 6 for direct costs, 8 for the contingency "
                    "reserve, 10 for indirect costs, 12 for taxes."
                ),
            ),
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


INDIRECT_NOT_DECLARED = _(
    "Indirect costs are not declared as expenses: they are a flat rate of the verified direct costs, "
    "computed by the portal. Choose the heading the cost belongs to."
)


class MonthStart(TruncMonth):
    """The first day of a date's month, computed natively by SQLite and PostgreSQL.

    Django's month truncation runs in Python on SQLite and converts the date to a timestamp with time zone on
    PostgreSQL: summing 100,000 expenses by month, either costs more than the sums. The cast also gives a NULL a
    type, so that model validation can check a constraint on a date that is not set.
    """

    output_field = DateField()

    def as_sqlite(self, compiler, connection):
        # SQLite holds a date as 'YYYY-MM-DD' text.
        sql, params = compiler.compile(self.lhs)
        return f"SUBSTR({sql}, 1, 8) || '01'", params

    def as_postgresql(self, compiler, connection):
        sql, params = compiler.compile(self.lhs)
        return f"DATE_TRUNC('month', ({sql})::timestamp)::date", params


def partners_whose_expenses_are_visible_to(user):
    """Partners of projects the user directs or observes, and the user's own: whose expenses the user may read."""
    return scope_to_user(Partner.objects.all(), user, project_field="project", partner_field="pk")


class ExpenditureQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Expenses of projects the user directs or observes, and those of the user's own partner."""
        return self.filter(partner__in=partners_whose_expenses_are_visible_to(user))

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
        DRAFT = "draft", pgettext_lazy("expense status", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("expense status", "Submitted")
        VERIFIED = "verified", pgettext_lazy("expense status", "Verified")
        REJECTED = "rejected", pgettext_lazy("expense status", "Rejected")
        RETURNED = "returned", pgettext_lazy("expense status", "Returned")

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
    # How the stored rate was set: the month incurred's, or the average of a reporting period's monthly rates (then
    # from the first to the last month averaged). Written with the rate, never read from the budget afterwards.
    rate_method = models.CharField(
        _("exchange-rate method"),
        max_length=8,
        choices=Budget.RateMethod.choices,
        default=Budget.RateMethod.MONTH_INCURRED,
    )
    rate_first_month = models.DateField(_("first month averaged"), null=True, blank=True)
    rate_last_month = models.DateField(_("last month averaged"), null=True, blank=True)
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
                condition=Q(rate_method="month", rate_first_month__isnull=True, rate_last_month__isnull=True)
                | (
                    Q(
                        rate_method="period",
                        rate_first_month=MonthStart("rate_first_month"),
                        rate_last_month=MonthStart("rate_last_month"),
                    )
                    & Q(rate_last_month__gte=F("rate_first_month"))
                    & ~Q(currency="EUR")
                ),
                name="expenditure_rate_months_match_method",
                violation_error_message=_(
                    "A period-average rate names the first and last months averaged, in that order; "
                    "a month's rate names none, and an expense in EUR is never averaged."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted"]) | Q(reviewer__isnull=False),
                name="expenditure_reviewed_has_reviewer",
                violation_error_message=_("A reviewed expense needs its reviewer."),
            ),
            *Reviewed.constraints_named("expenditure"),
        ]
        indexes = [
            models.Index(fields=["partner", "status", "date_incurred"]),
            # The finance overview sums every expense by these columns: the index holds all it reads.
            models.Index(
                fields=["partner", "category", "activity", "date_incurred", "status", "amount_eur"],
                name="expenditure_sums_idx",
            ),
            # The same for the submitted and verified expenses alone, the only ones the sums count: PostgreSQL reads
            # half as much for them (SQLite does not use it, since it cannot match the statuses sent as parameters).
            models.Index(
                fields=["partner", "category", "activity", "date_incurred", "status", "amount_eur"],
                condition=Q(status__in=["submitted", "verified"]),
                name="expenditure_declared_sums_idx",
            ),
            # The expense list, newest first, a page at a time: of every partner, and of the partners a user sees
            # (SQLite then reads a page's worth of each partner's newest instead of sorting all its expenses).
            models.Index(fields=["-date_incurred", "-id"], name="expenditure_newest_idx"),
            models.Index(fields=["partner", "-date_incurred", "-id"], name="expenditure_partner_newest_idx"),
        ]

    def __str__(self):
        return f"{self.date_incurred} {self.description} – {self.amount} {self.currency}"

    @property
    def rate_months(self) -> tuple[datetime.date, datetime.date]:
        """The first and last months whose rates the stored rate is, or averages."""
        if self.rate_method == Budget.RateMethod.PERIOD_AVERAGE:
            return self.rate_first_month, self.rate_last_month
        month = self.date_incurred.replace(day=1)
        return month, month

    @property
    def rate_months_text(self) -> str:
        return months_text(*self.rate_months)

    def clean(self):
        errors = {}
        # A code not even of three capital letters is refused by the field's own validator already.
        if self.currency and currency_validator.regex.search(self.currency):
            try:
                validate_iso_4217(self.currency)
            except ValidationError as error:
                errors["currency"] = error
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
        # An expense put on the indirect heading before indirect costs became a flat rate can still be
        # rejected or returned, never verified.
        if (
            self.category_id
            and self.category.kind == CostCategory.Kind.INDIRECT
            and self.status not in (self.Status.REJECTED, self.Status.RETURNED)
        ):
            errors["category"] = INDIRECT_NOT_DECLARED
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


class ContingencyAuthorisationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_to_user(self, user, project_field="partner__project", partner_field="partner")


class ContingencyAuthorisation(models.Model):
    """The Contracting Authority's prior written authorisation for a partner to spend on the contingency reserve.

    It holds for the project whatever the budget version: an amendment does not withdraw an authorisation given.
    """

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="contingency_authorisations", verbose_name=_("partner")
    )
    amount = money_field(_("amount (EUR)"), validators=[MinValueValidator(Decimal("0.01"))])
    reference = models.CharField(_("reference"), max_length=100, help_text=_("The authorisation letter's number."))
    authorised_on = models.DateField(_("authorised on"), validators=[validate_not_in_future])
    authorised_by = models.CharField(
        _("authorised by"), max_length=200, help_text=_("Who authorised it at the Contracting Authority.")
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    objects = ContingencyAuthorisationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contingency authorisation")
        verbose_name_plural = _("contingency authorisations")
        ordering = ["partner__organisation__name", "authorised_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="contingency_authorisation_amount_positive",
                violation_error_message=_("The amount must be positive."),
            ),
            models.UniqueConstraint(
                fields=["partner", "reference"],
                name="contingency_authorisation_unique_reference",
                violation_error_message=_("This partner already has an authorisation with that reference."),
            ),
        ]

    def __str__(self):
        return f"{self.partner} – {self.reference}: {self.amount} EUR"

    def clean(self):
        if not (self.partner_id and self.amount):
            return
        project = self.partner.project
        if self.authorised_on and not project.contains(self.authorised_on):
            raise ValidationError(
                {
                    "authorised_on": _("The date must fall inside the project period (%(start)s – %(end)s).")
                    % {"start": project.start_date.isoformat(), "end": project.end_date.isoformat()}
                }
            )
        reserve = BudgetLine.objects.filter(
            budget__project=project, budget__is_current=True, category__kind=CostCategory.Kind.CONTINGENCY
        ).aggregate(total=models.Sum("amount"))["total"] or Decimal("0.00")
        others = ContingencyAuthorisation.objects.filter(partner__project=project).exclude(pk=self.pk)
        authorised = others.aggregate(total=models.Sum("amount"))["total"] or Decimal("0.00")
        if authorised + self.amount > reserve:
            raise ValidationError(
                {
                    "amount": _(
                        "Authorisations would reach %(total)s, more than the contingency reserve of the current "
                        "budget (%(reserve)s)."
                    )
                    % {"total": money_text(authorised + self.amount), "reserve": money_text(reserve)}
                }
            )


# Quarter hours: the finest a timesheet records.
QUARTER_HOUR = Decimal("0.25")


def validate_quarter_hours(value: Decimal):
    if value is not None and value % QUARTER_HOUR:
        raise ValidationError(
            _("%(hours)s is not in quarter hours: write it as .00, .25, .50 or .75.") % {"hours": value},
            code="quarter_hours",
        )


class StaffMemberQuerySet(models.QuerySet):
    def visible_to(self, user):
        return scope_to_user(self, user, project_field="partner__project", partner_field="partner")


class StaffMember(models.Model):
    """A person a partner pays from heading 1, at an hourly rate in the partner's currency, for an agreed time.

    A new rate or working time is a new record from the day it applies, with `valid_to` closing the old one,
    so that the timesheets already made keep the terms they were made under.
    """

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="staff_members", verbose_name=_("partner")
    )
    name = models.CharField(_("name"), max_length=200)
    function = models.CharField(_("role or function"), max_length=200)
    hourly_rate = models.DecimalField(
        _("hourly rate"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("In the partner's currency, as agreed in the person's contract."),
    )
    monthly_hours = models.DecimalField(
        _("agreed hours a month"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(QUARTER_HOUR), validate_quarter_hours],
        help_text=_("The working time agreed: at most these hours are charged in a month."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = StaffMemberQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["partner__organisation__name", "name", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hourly_rate__gt=0),
                name="staff_member_rate_positive",
                violation_error_message=_("The hourly rate must be positive."),
            ),
            models.CheckConstraint(
                # 31 days of 24 hours: no month holds more.
                condition=Q(monthly_hours__gt=0) & Q(monthly_hours__lte=744),
                name="staff_member_monthly_hours_range",
                violation_error_message=_("The agreed hours a month must be more than 0 and at most 744."),
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="staff_member_valid_dates_in_order",
                violation_error_message=_("The end of validity cannot come before its start."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.function})"

    def covers(self, month: datetime.date) -> bool:
        """Tell whether these terms apply in some day of `month` (its first day)."""
        month_end = last_day_of_month(month)
        return self.valid_from <= month_end and (self.valid_to is None or self.valid_to >= month)


def last_day_of_month(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


class TimesheetQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Timesheets of projects the user directs or observes, and those of the user's own partner."""
        return scope_to_user(
            self, user, project_field="staff_member__partner__project", partner_field="staff_member__partner"
        )


class Timesheet(models.Model):
    """A person's hours of a month by action, charged at the agreed rate and declared as one heading-1 expense.

    The rate and the cap are copied from the staff member's terms at each save, so the amount stays explained
    by what the timesheet shows. Declared, it is read-only until its expense is returned.
    """

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("timesheet status", "Draft")
        DECLARED = "declared", pgettext_lazy("timesheet status", "Declared")
        RETURNED = "returned", pgettext_lazy("timesheet status", "Returned")
        VERIFIED = "verified", pgettext_lazy("timesheet status", "Verified")
        REJECTED = "rejected", pgettext_lazy("timesheet status", "Rejected")

    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="timesheets", verbose_name=_("staff member")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    hourly_rate = models.DecimalField(_("hourly rate"), max_digits=10, decimal_places=2)
    hours_cap = models.DecimalField(_("agreed hours a month"), max_digits=5, decimal_places=2)
    total_hours = models.DecimalField(_("total hours"), max_digits=5, decimal_places=2, default=Decimal("0"))
    amount = money_field(_("amount"), default=Decimal("0"))
    signed = models.BooleanField(_("signed"), default=False, help_text=_("Signed by the person and by the supervisor."))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signature recorded by"),
    )
    signed_at = models.DateTimeField(_("signature recorded at"), null=True, blank=True)
    expenditure = models.OneToOneField(
        Expenditure,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="timesheet",
        verbose_name=_("expenditure"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="timesheets", verbose_name=_("author")
    )
    # Counts saves, so that an edit made on a stale copy is refused instead of overwriting another.
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TimesheetQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("timesheet")
        verbose_name_plural = _("timesheets")
        ordering = ["-month", "staff_member__name", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff_member", "month"],
                name="timesheet_one_per_person_month",
                violation_error_message=_("This person already has a timesheet for this month."),
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="timesheet_first_of_month",
                violation_error_message=_("A timesheet's month is given by its first day."),
            ),
            models.CheckConstraint(
                condition=Q(total_hours__gte=0) & Q(total_hours__lte=F("hours_cap")),
                name="timesheet_hours_within_cap",
                violation_error_message=_("The hours exceed the working time agreed for the month."),
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate__gt=0) & Q(amount__gte=0),
                name="timesheet_rate_and_amount_positive",
                violation_error_message=_("The rate must be positive and the amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(signed=False) | (Q(signed_by__isnull=False) & Q(signed_at__isnull=False)),
                name="timesheet_signed_says_by_whom",
                violation_error_message=_("A signed timesheet records who ticked the signature and when."),
            ),
        ]

    def __str__(self):
        return f"{self.staff_member.name} {self.month:%Y-%m}"

    @property
    def state(self) -> str:
        """Draft until declared; then its expense's review decides."""
        if self.expenditure is None:
            return self.State.DRAFT
        return {
            Expenditure.Status.RETURNED: self.State.RETURNED,
            Expenditure.Status.VERIFIED: self.State.VERIFIED,
            Expenditure.Status.REJECTED: self.State.REJECTED,
        }.get(self.expenditure.status, self.State.DECLARED)

    def get_state_display(self) -> str:
        return self.State(self.state).label

    @property
    def is_editable(self) -> bool:
        return self.state in (self.State.DRAFT, self.State.RETURNED)

    @property
    def last_day(self) -> datetime.date:
        return last_day_of_month(self.month)


class TimesheetRow(models.Model):
    """The hours a person worked on one action in the timesheet's month."""

    timesheet = models.ForeignKey(Timesheet, on_delete=models.CASCADE, related_name="rows", verbose_name=_("timesheet"))
    action = models.ForeignKey(
        Action, on_delete=models.PROTECT, related_name="timesheet_rows", verbose_name=_("action")
    )
    hours = models.DecimalField(
        _("hours"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), validate_quarter_hours],
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("timesheet row")
        verbose_name_plural = _("timesheet rows")
        ordering = ["timesheet", "action__activity__number", "action__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["timesheet", "action"],
                name="timesheet_row_one_per_action",
                violation_error_message=_("The timesheet already has a row for this action."),
            ),
            models.CheckConstraint(
                # The exact bound, the hours of the month's days, is checked by the service that knows the month.
                condition=Q(hours__gte=0) & Q(hours__lte=744),
                name="timesheet_row_hours_range",
                violation_error_message=_("An action's hours must be from 0 to 744 (a month of 31 days)."),
            ),
        ]

    def __str__(self):
        return f"{self.timesheet} – {self.action.code}: {self.hours}"


class ProcurementContractQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Contracts of projects the user directs or observes, and those of the user's own partner."""
        return scope_to_user(self, user, project_field="partner__project", partner_field="partner")


class ProcurementContract(models.Model):
    """A contract a partner awarded, with the procedure it followed: the register the EU financial report lists."""

    class Procedure(models.TextChoices):
        SINGLE_TENDER = "single_tender", _("Single tender (direct award)")
        NEGOTIATED = "negotiated", _("Competitive negotiated procedure")
        SIMPLIFIED = "simplified", _("Simplified procedure")
        LOCAL_OPEN = "local_open", _("Local open tender")
        RESTRICTED = "restricted", _("International restricted tender")
        OPEN = "open", _("International open tender")
        FRAMEWORK = "framework", _("Framework contract")

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="procurement_contracts", verbose_name=_("partner")
    )
    reference = models.CharField(_("contract reference"), max_length=60)
    supplier = models.CharField(_("supplier"), max_length=200)
    subject = models.CharField(_("subject"), max_length=500)
    amount = money_field(
        _("amount (EUR)"), validators=[MinValueValidator(Decimal("0.01"))], help_text=_("The contract's value.")
    )
    procedure = models.CharField(_("procurement procedure"), max_length=16, choices=Procedure.choices)
    signed_on = models.DateField(_("signed on"), validators=[validate_not_in_future])
    expenses = models.ManyToManyField(
        "Expenditure", blank=True, related_name="procurement_contracts", verbose_name=_("linked expenses")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    objects = ProcurementContractQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("procurement contract")
        verbose_name_plural = _("procurement contracts")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="procurement_contract_amount_positive",
                violation_error_message=_("The amount must be positive."),
            ),
            models.UniqueConstraint(
                fields=["partner", "reference"],
                name="procurement_contract_unique_reference",
                violation_error_message=_("This partner already has a contract with this reference."),
            ),
        ]

    def __str__(self):
        return f"{self.reference} – {self.supplier}"

    def clean(self):
        if self.partner_id and self.signed_on and not self.partner.project.contains(self.signed_on):
            raise ValidationError({"signed_on": _("The date must fall within the project period.")})
