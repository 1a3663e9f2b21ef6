"""Writes on money: expenses and their review, EUR conversion, rates, the budget, EU payments, timesheets."""

import calendar
import csv
import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Action, Activity
from core.formatters import CENT, ZERO, cents, money_text, rate_text
from core.mail import notify
from core.models import Notification
from core.services import (
    attachment_delete,
    attachments_store,
    delete_audited,
    lock_for_change,
    review_transition,
    save_audited,
    save_audited_once,
)
from core.uploads import CheckedUpload
from core.validators import validate_iso_4217
from partners.models import Partner, Project, add_months, currency_validator
from partners.permissions import user_can_act_for_partner, user_can_direct
from partners.selectors import director_list

from .annex_xlsx import annex_read_xlsx
from .models import (
    INDIRECT_NOT_DECLARED,
    QUARTER_HOUR,
    Budget,
    BudgetLine,
    ContingencyAuthorisation,
    CostCategory,
    EUPayment,
    ExchangeRate,
    Expenditure,
    ProcurementContract,
    Receipt,
    StaffMember,
    Timesheet,
    TimesheetRow,
    last_day_of_month,
)
from .pdf import timesheet_pdf
from .permissions import (
    DELETABLE_STATUSES,
    EDITABLE_STATUSES,
    user_can_change_expenditure,
    user_can_change_procurement,
    user_can_delete_expenditure,
    user_can_import_budget,
    user_can_record_procurement,
)
from .rules import PRE_FINANCING_CAP
from .selectors import timesheet_rows_priced

REVIEWED_STATUSES = (Expenditure.Status.VERIFIED, Expenditure.Status.REJECTED, Expenditure.Status.RETURNED)


def exchange_rate_get(*, currency: str, day: datetime.date) -> Decimal:
    """Return the units of `currency` per EUR for the month of `day`; EUR is 1."""
    if currency == "EUR":
        return Decimal("1")
    rate = ExchangeRate.objects.filter(currency=currency, month=day.replace(day=1)).values_list("rate", flat=True)
    if not rate:
        raise ValidationError(
            {
                "date_incurred": _(
                    "There is no %(currency)s exchange rate for %(month)s yet: ask an administrator to import it."
                )
                % {"currency": currency, "month": day.strftime("%Y-%m")}
            },
            code="missing_rate",
        )
    return rate[0]


def convert_to_eur(amount: Decimal, rate: Decimal) -> Decimal:
    """Convert `amount` at `rate` units per EUR, rounded half-up to the cent."""
    return cents(amount / rate)


# A rate is stored with six decimals (as the Commission publishes them); an average is rounded half-up to them.
RATE_PLACES = Decimal("0.000001")


def _months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The first days of the months from `first`'s to `last`'s, both included."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def exchange_rate_average(*, currency: str, first_day: datetime.date, last_day: datetime.date) -> Decimal:
    """Return the arithmetic mean of the monthly rates of every month from `first_day` to `last_day`.

    Each month the period touches counts once, whatever its number of days; the mean is rounded half-up to six
    decimals, as rates are stored. EUR is 1.
    """
    if currency == "EUR":
        return Decimal("1")
    months = _months(first_day, last_day)
    rates = dict(ExchangeRate.objects.filter(currency=currency, month__in=months).values_list("month", "rate"))
    missing = [month for month in months if month not in rates]
    if missing:
        raise ValidationError(
            _(
                "The average %(currency)s rate of %(first)s – %(last)s needs the monthly rates of %(months)s, "
                "which are missing: ask an administrator to import them."
            )
            % {
                "currency": currency,
                "first": f"{months[0]:%Y-%m}",
                "last": f"{months[-1]:%Y-%m}",
                "months": ", ".join(f"{month:%Y-%m}" for month in missing),
            },
            code="missing_rate",
        )
    return (sum(rates.values()) / len(months)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _check_currency(currency: str):
    """Refuse a code that is not an ISO 4217 currency, before any rate is looked up for it."""
    try:
        currency_validator(currency)
        validate_iso_4217(currency)
    except ValidationError as error:
        raise ValidationError({"currency": error.messages[0]}, code="bad_currency") from error


def _convert(expenditure: Expenditure, when: str):
    """Compute the EUR amount at the stored rate; refuse an amount worth less than a cent, naming the rate's `when`."""
    expenditure.amount_eur = convert_to_eur(expenditure.amount, expenditure.exchange_rate)
    if expenditure.amount_eur <= 0:
        # The smallest amount that converts to a cent: half a cent's worth, rounded up.
        minimum = (expenditure.exchange_rate * CENT / 2).quantize(CENT, rounding=ROUND_UP)
        raise ValidationError(
            {
                "amount": _(
                    "At the rate of %(month)s this is less than one euro cent, which cannot be reported: "
                    "the smallest amount is %(minimum)s %(currency)s."
                )
                % {"month": when, "minimum": minimum, "currency": expenditure.currency}
            },
            code="below_a_cent",
        )


def _fix_eur_amount(expenditure: Expenditure):
    """Take the rate of the month incurred from the table and compute the EUR amount from it.

    Under a period-average budget this rate is provisional: the SAL that reports the expense replaces it.
    """
    if expenditure.amount is None or expenditure.amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")}, code="not_positive")
    _check_currency(expenditure.currency)
    # The date and links first: a rate is looked up only for a date the project can have.
    expenditure.clean()
    expenditure.exchange_rate = exchange_rate_get(currency=expenditure.currency, day=expenditure.date_incurred)
    expenditure.rate_method = Budget.RateMethod.MONTH_INCURRED
    expenditure.rate_first_month = expenditure.rate_last_month = None
    _convert(expenditure, expenditure.date_incurred.strftime("%Y-%m"))


@transaction.atomic
def expenditures_fix_period_rates(
    *, actor, project: Project, expenses: QuerySet[Expenditure], periods: Sequence[tuple[datetime.date, datetime.date]]
) -> int:
    """Under the current budget's period-average method, convert each of `expenses` at its period's average rate.

    `periods` are the reporting periods' first and last days (finance does not know the periods: reports hands
    them over when a SAL is approved); an expense takes the average of the period it was incurred in, and records
    the method and the months averaged. All of them or none: a missing monthly rate refuses the whole, naming the
    currency and the months. Return how many expenses changed.
    """
    if not user_can_direct(actor, project):
        raise PermissionDenied(_("Only directors fix the exchange rates of reported expenses."))
    budget = Budget.objects.filter(project=project, is_current=True).first()
    if budget is None or budget.rate_method != Budget.RateMethod.PERIOD_AVERAGE:
        return 0
    foreign = expenses.exclude(currency="EUR").order_by("pk")
    changed, errors = 0, []
    for first_day, last_day in periods:
        in_period = list(foreign.filter(date_incurred__range=(first_day, last_day)))
        averages = {}
        for currency in sorted({expense.currency for expense in in_period}):
            try:
                averages[currency] = exchange_rate_average(currency=currency, first_day=first_day, last_day=last_day)
            except ValidationError as error:
                errors.extend(error.messages)
        first_month, last_month = first_day.replace(day=1), last_day.replace(day=1)
        for expense in in_period:
            rate = averages.get(expense.currency)
            if rate is None or (
                expense.rate_method == Budget.RateMethod.PERIOD_AVERAGE
                and (expense.exchange_rate, expense.rate_first_month, expense.rate_last_month)
                == (rate, first_month, last_month)
            ):
                continue
            expense.rate_method = Budget.RateMethod.PERIOD_AVERAGE
            expense.exchange_rate, expense.rate_first_month, expense.rate_last_month = rate, first_month, last_month
            try:
                _convert(expense, f"{first_month:%Y-%m} – {last_month:%Y-%m}")
            except ValidationError as error:
                errors.extend(f"{expense}: {message}" for message in error.messages)
                continue
            save_audited(expense, actor)
            changed += 1
    if errors:
        raise ValidationError(errors, code="missing_rate")
    return changed


def _check_heading(expenditure: Expenditure, *, counted: Sequence[str]):
    """Refuse an expense on the indirect heading, and one on the contingency reserve beyond its authorisation.

    The partner's row is locked, so that two expenses declared or verified at once cannot both take the last of
    an authorisation. `counted` are the statuses of the partner's other contingency expenses that take their part.
    """
    kind = expenditure.category.kind
    if kind == CostCategory.Kind.INDIRECT:
        raise ValidationError({"category": INDIRECT_NOT_DECLARED}, code="indirect_flat_rate")
    if kind != CostCategory.Kind.CONTINGENCY:
        return
    partner = Partner.objects.select_for_update().select_related("organisation").get(pk=expenditure.partner_id)
    authorised = ContingencyAuthorisation.objects.filter(partner=partner).aggregate(total=Sum("amount"))["total"]
    if not authorised:
        raise ValidationError(
            {
                "category": _(
                    "The contingency reserve is spent only with a prior authorisation of the Contracting "
                    "Authority, and none is recorded for %(partner)s: ask the directors to record it first."
                )
                % {"partner": partner}
            },
            code="contingency_not_authorised",
        )
    taken = (
        Expenditure.objects.filter(partner=partner, category__kind=CostCategory.Kind.CONTINGENCY, status__in=counted)
        .exclude(pk=expenditure.pk)
        .aggregate(total=Sum("amount_eur"))["total"]
        or ZERO
    )
    if taken + expenditure.amount_eur > authorised:
        raise ValidationError(
            {
                "amount": _(
                    "The contingency reserve authorised for %(partner)s is %(authorised)s, of which other "
                    "expenses take %(taken)s: this one, %(amount)s, would go %(over)s beyond it."
                )
                % {
                    "partner": partner,
                    "authorised": money_text(authorised),
                    "taken": money_text(taken),
                    "amount": money_text(expenditure.amount_eur),
                    "over": money_text(taken + expenditure.amount_eur - authorised),
                }
            },
            code="contingency_over_authorised",
        )


# A declared expense counts against an authorisation from its draft on, until it is rejected.
COMMITTED_STATUSES = tuple(status for status in Expenditure.Status.values if status != Expenditure.Status.REJECTED)


def _fix_and_check(expenditure: Expenditure):
    """Fix the EUR amount at the month's rate, then check the heading may take it."""
    _fix_eur_amount(expenditure)
    _check_heading(expenditure, counted=COMMITTED_STATUSES)


def _check_verifiable(expenditure: Expenditure):
    """A verified expense on the contingency reserve stays within what is authorised with the others verified."""
    _check_heading(expenditure, counted=(Expenditure.Status.VERIFIED,))


def _attach_receipts(expenditure: Expenditure, uploads: Sequence[CheckedUpload], actor):
    attachments_store(uploads, build=lambda upload: Receipt(expenditure=expenditure), actor=actor)


@transaction.atomic
def expenditure_create(
    *,
    actor,
    partner: Partner,
    category: CostCategory,
    date_incurred: datetime.date,
    description: str,
    amount: Decimal,
    currency: str | None = None,
    activity: Activity | None = None,
    supplier: str = "",
    document_ref: str = "",
    receipts: Sequence[CheckedUpload] = (),
    form_token: uuid.UUID | None = None,
) -> Expenditure:
    """Declare a draft expense in `currency` (the partner's by default), fixing its EUR amount at the month's rate.

    With `form_token`, raise AlreadySaved if the actor's form with that token declared an expense already.
    """
    if not user_can_act_for_partner(actor, partner):
        raise PermissionDenied(_("You can declare expenses only for your own organisation."))
    expenditure = Expenditure(
        partner=partner,
        category=category,
        activity=activity,
        date_incurred=date_incurred,
        description=description,
        supplier=supplier,
        document_ref=document_ref,
        amount=amount,
        currency=currency or partner.currency,
        author=actor,
    )
    _fix_and_check(expenditure)
    save_audited_once(expenditure, actor, form_token=form_token)
    _attach_receipts(expenditure, receipts, actor)
    return expenditure


@transaction.atomic
def expenditure_update(
    *,
    actor,
    expenditure: Expenditure,
    revision: int,
    category: CostCategory,
    date_incurred: datetime.date,
    description: str,
    amount: Decimal,
    currency: str | None = None,
    activity: Activity | None = None,
    supplier: str = "",
    document_ref: str = "",
    receipts: Sequence[CheckedUpload] = (),
) -> Expenditure:
    """Change a draft or returned expense, refusing if someone saved it since `revision` was read.

    Without `currency` the expense keeps its own.
    """
    locked = lock_for_change(
        expenditure,
        editable=EDITABLE_STATUSES,
        refused=_("This expense is %(status)s and can no longer be changed."),
        permitted=lambda row: user_can_change_expenditure(actor, row),
        denied=_("You can change only your own organisation's expenses."),
        revision=revision,
        stale=_(
            "Someone else saved this expense while you were editing it. Your changes were not saved: "
            "copy them, reload the page to see the current version, and apply them again."
        ),
        select_related=("partner__project",),
    )
    locked.category, locked.activity, locked.date_incurred = category, activity, date_incurred
    locked.description, locked.supplier, locked.document_ref = description, supplier, document_ref
    locked.amount, locked.currency = amount, currency or locked.currency
    _fix_and_check(locked)
    locked.revision += 1
    save_audited(locked, actor)
    _attach_receipts(locked, receipts, actor)
    return locked


@transaction.atomic
def expenditure_delete(*, actor, expenditure: Expenditure) -> None:
    """Delete a draft or returned expense with its receipts; its history keeps what it was and who deleted it.

    The director who returned the expense is told that it was withdrawn.
    """
    locked = lock_for_change(
        expenditure,
        editable=DELETABLE_STATUSES,
        refused=_("This expense is %(status)s and can no longer be deleted."),
        permitted=lambda row: user_can_delete_expenditure(actor, row),
        denied=_("You can delete only your own organisation's draft and returned expenses."),
        gone=_("This expense was deleted already."),
        select_related=("partner__project",),
        # The record's own row only: its partner and project stay free for everyone else's work.
        of=("self",),
    )
    for receipt in locked.receipts.all():
        attachment_delete(receipt, actor)
    if locked.status == Expenditure.Status.RETURNED and locked.reviewer is not None:
        notify(
            recipients=[locked.reviewer],
            actor=actor,
            verb=Notification.Verb.WITHDRAWN,
            target=locked,
            summary=_expense_summary(locked),
            link="",
            subject=_("COCAP: the returned expense was withdrawn: %(description)s")
            % {"description": locked.description[:60]},
            template="finance/email/expenditure_deleted.txt",
            context={"expenditure": locked, "actor": actor},
        )
    delete_audited(locked, actor)


@transaction.atomic
def receipt_delete(*, actor, receipt: Receipt) -> None:
    """Remove a receipt from a draft or returned expense."""
    if not user_can_change_expenditure(actor, receipt.expenditure):
        raise PermissionDenied(_("Receipts can be removed only from your own organisation's drafts."))
    attachment_delete(receipt, actor)


def _review(expenditure: Expenditure, *, actor, to, allowed_from, note="", prepare=None):
    return review_transition(
        expenditure,
        allowed_from=allowed_from,
        to=to,
        actor=actor,
        note=note,
        reviewed_statuses=REVIEWED_STATUSES,
        prepare=prepare,
    )


def _prepare_submission(expenditure: Expenditure):
    """Refuse an expense without what a verification needs; start the director's checklist afresh."""
    missing = []
    if not expenditure.supplier.strip():
        missing.append(_("the supplier"))
    if not expenditure.document_ref.strip():
        missing.append(_("the document number"))
    if not expenditure.receipts.exists():
        missing.append(_("a receipt (a scan or photo of the invoice)"))
    if missing:
        raise ValidationError(
            _("Before submitting, add %(missing)s: edit the expense, then submit it again.")
            % {"missing": ", ".join(missing)},
            code="incomplete",
        )
    for item in Expenditure.CHECKLIST:
        setattr(expenditure, item, False)
    _fix_and_check(expenditure)


@transaction.atomic
def expenditure_submit(*, actor, expenditure: Expenditure) -> Expenditure:
    """Send a draft or returned expense for verification, at the rate the table holds now."""
    if not user_can_act_for_partner(actor, expenditure.partner):
        raise PermissionDenied(_("You can submit only your own organisation's expenses."))
    # A rate corrected since the draft was saved applies; once submitted, the amount is fixed.
    expenditure = _review(
        expenditure,
        actor=actor,
        to=Expenditure.Status.SUBMITTED,
        allowed_from=EDITABLE_STATUSES,
        prepare=_prepare_submission,
    )
    notify(
        recipients=director_list(project=expenditure.partner.project),
        actor=actor,
        verb=Notification.Verb.SUBMITTED,
        target=expenditure,
        summary=_expense_summary(expenditure),
        link=_expense_link(expenditure),
        subject=_("COCAP: an expense of %(partner)s submitted for verification") % {"partner": expenditure.partner},
        template="finance/email/expenditure_submitted.txt",
        context={"expenditure": expenditure, "actor": actor},
    )
    return expenditure


def _expense_summary(expenditure: Expenditure) -> str:
    return f"{expenditure.description[:120]} ({expenditure.amount} {expenditure.currency})"


def _expense_link(expenditure: Expenditure) -> str:
    return reverse("finance:expense-detail", args=[expenditure.pk])


def _require_director(actor, expenditure: Expenditure):
    if not user_can_direct(actor, expenditure.partner.project):
        raise PermissionDenied(_("Only directors review expenses."))


def _decide(expenditure, *, actor, to, note, subject, checklist=(), missing_note=None, prepare=None):
    """Record a director's decision with the checklist items ticked, and tell the author.

    `missing_note` is the refusal when a reason is required.
    """
    _require_director(actor, expenditure)
    if missing_note is not None and not note.strip():
        raise ValidationError({"review_note": missing_note}, code="required")
    unknown = set(checklist) - set(Expenditure.CHECKLIST)
    if unknown:
        raise ValueError(f"Not checklist items: {sorted(unknown)}")

    def record_checklist(locked):
        for item in Expenditure.CHECKLIST:
            setattr(locked, item, item in checklist)
        if prepare is not None:
            prepare(locked)

    expenditure = _review(
        expenditure,
        actor=actor,
        to=to,
        allowed_from=(Expenditure.Status.SUBMITTED,),
        note=note,
        prepare=record_checklist,
    )
    notify(
        recipients=[expenditure.author],
        actor=actor,
        verb=Notification.Verb(to),
        target=expenditure,
        summary=_expense_summary(expenditure),
        link=_expense_link(expenditure),
        subject=subject % {"description": expenditure.description[:60]},
        template="finance/email/expenditure_reviewed.txt",
        context={"expenditure": expenditure},
    )
    return expenditure


@transaction.atomic
def expenditure_verify(*, actor, expenditure: Expenditure, checklist=(), note: str = "") -> Expenditure:
    """Accept a submitted expense as eligible, every checklist item ticked; it counts towards the EU share."""
    _require_director(actor, expenditure)
    unchecked = [
        str(Expenditure._meta.get_field(item).verbose_name) for item in Expenditure.CHECKLIST if item not in checklist
    ]
    if unchecked:
        raise ValidationError(
            {
                "checklist": _(
                    "Tick every check before verifying; still open: %(unchecked)s. If one fails, return or reject "
                    "the expense with a note."
                )
                % {"unchecked": ", ".join(unchecked)}
            },
            code="checklist",
        )
    return _decide(
        expenditure,
        actor=actor,
        to=Expenditure.Status.VERIFIED,
        note=note,
        checklist=checklist,
        subject=_("COCAP: expense verified: %(description)s"),
        prepare=_check_verifiable,
    )


@transaction.atomic
def expenditure_reject(*, actor, expenditure: Expenditure, note: str, checklist=()) -> Expenditure:
    """Refuse a submitted expense as ineligible, with the reason."""
    return _decide(
        expenditure,
        actor=actor,
        to=Expenditure.Status.REJECTED,
        note=note,
        checklist=checklist,
        subject=_("COCAP: expense rejected: %(description)s"),
        missing_note=_("Say why the expense is not eligible."),
    )


@transaction.atomic
def expenditure_return(*, actor, expenditure: Expenditure, note: str, checklist=()) -> Expenditure:
    """Send a submitted expense back to its partner to fix, with the reason."""
    return _decide(
        expenditure,
        actor=actor,
        to=Expenditure.Status.RETURNED,
        note=note,
        checklist=checklist,
        subject=_("COCAP: expense returned for changes: %(description)s"),
        missing_note=_("Say what needs fixing when you return an expense."),
    )


@dataclass
class RateImportReport:
    created: list[ExchangeRate] = field(default_factory=list)
    updated: list[tuple[ExchangeRate, Decimal]] = field(default_factory=list)
    unchanged: int = 0


def _parse_rate_row(row: dict) -> tuple[str, datetime.date, Decimal]:
    try:
        currency = (row.get("currency") or "").strip().upper()
        month_text = (row.get("month") or "").strip()
        month = datetime.date.fromisoformat(month_text + "-01" if len(month_text) == 7 else month_text)
        rate = Decimal((row.get("rate") or "").strip())
    except (ValueError, InvalidOperation) as error:
        raise ValidationError(
            _("expected currency, month (YYYY-MM) and rate, got %(row)s.")
            % {"row": ", ".join(str(v) for v in row.values())},
            code="bad_row",
        ) from error
    return currency, month.replace(day=1), rate


@transaction.atomic
def exchange_rates_import(*, actor, rows: Iterable[dict]) -> RateImportReport:
    """Create or update monthly rates from rows of currency, month, rate; all of them or none.

    Expenses keep the rate stored on them: a changed rate applies to drafts when they are next saved.
    """
    report = RateImportReport()
    errors = []
    for number, row in enumerate(rows, start=2):
        try:
            currency, month, rate = _parse_rate_row(row)
            existing = ExchangeRate.objects.filter(currency=currency, month=month).first()
            if existing and existing.rate == rate:
                report.unchanged += 1
                continue
            record = existing or ExchangeRate(currency=currency, month=month)
            previous = existing.rate if existing else None
            record.rate = rate
            save_audited(record, actor)
            if previous is None:
                report.created.append(record)
            else:
                report.updated.append((record, previous))
        except ValidationError as error:
            line = _("Line %(line)d") % {"line": number}
            errors.extend(f"{line}: {message}" for message in error.messages)
    if errors:
        raise ValidationError(errors, code="bad_rows")
    return report


def exchange_rates_read_csv(path) -> list[dict]:
    """Read a rate file with a header row naming currency, month and rate (comma or semicolon separated)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(2048)
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;")
        return [
            {(k or "").strip().lower(): v for k, v in row.items()} for row in csv.DictReader(handle, dialect=dialect)
        ]


@transaction.atomic
def budget_make_current(*, actor, budget: Budget) -> Budget:
    """Make `budget` the current version of its project's budget, in place of the one that was."""
    if not actor.has_perm("finance.change_budget"):
        raise PermissionDenied(_("Only administrators choose the current budget."))
    # Lock every version of the project, so that two switches at once leave exactly one current.
    versions = list(Budget.objects.select_for_update().filter(project_id=budget.project_id).order_by("pk"))
    for version in versions:
        if version.is_current and version.pk != budget.pk:
            version.is_current = False
            save_audited(version, actor)
    chosen = next(version for version in versions if version.pk == budget.pk)
    if not chosen.is_current:
        chosen.is_current = True
        save_audited(chosen, actor)
    return chosen


@transaction.atomic
def budget_new_version(*, actor, budget: Budget) -> Budget:
    """Start the next version of the project's budget as a copy of `budget` and its lines, to amend.

    The copy is neither approved nor current: an approved version never changes, so an amendment starts here.
    """
    if not (actor.has_perm("finance.add_budget") and actor.has_perm("finance.add_budgetline")):
        raise PermissionDenied(_("Only administrators start a new budget version."))
    # Locking the project's versions numbers two copies made at once one after the other.
    versions = Budget.objects.select_for_update().filter(project_id=budget.project_id)
    last = max(version.version for version in versions)
    copy = Budget(
        project_id=budget.project_id,
        version=last + 1,
        total_eligible_cost=budget.total_eligible_cost,
        eu_contribution=budget.eu_contribution,
        eu_max_rate=budget.eu_max_rate,
        indirect_cap=budget.indirect_cap,
        flexibility_threshold=budget.flexibility_threshold,
        contingency_cap=budget.contingency_cap,
        rate_method=budget.rate_method,
    )
    save_audited(copy, actor)
    for line in budget.lines.all():
        save_audited(
            BudgetLine(
                budget=copy,
                partner_id=line.partner_id,
                category_id=line.category_id,
                activity_id=line.activity_id,
                amount=line.amount,
            ),
            actor,
        )
    return copy


@transaction.atomic
def budget_import_xlsx(*, actor, project: Project, file, label: str = "") -> Budget:
    """Create the project's next budget version from a workbook in the Annex III layout; all of it or nothing.

    The version is a draft, neither current nor approved. Its total eligible cost is the workbook's; the EU
    contribution and the rules (rates, caps, exchange-rate method) are those of the current version.
    """
    if not user_can_import_budget(actor, project):
        raise PermissionDenied(_("Only directors import a budget."))
    current = Budget.objects.filter(project=project, is_current=True).first()
    if current is None:
        raise ValidationError(_("The project has no current budget to take the EU contribution and rules from."))
    imported = annex_read_xlsx(
        file,
        categories=list(CostCategory.objects.all()),
        partners=list(Partner.objects.for_project(project).select_related("organisation")),
        activities=list(Activity.objects.filter(project=project)),
    )
    if current.eu_contribution > imported.total * current.eu_max_rate:
        raise ValidationError(
            _(
                "The workbook's total eligible costs, %(total)s, are too little for the EU contribution of "
                "%(contribution)s at the EU rate of %(rate)s %%."
            )
            % {
                "total": money_text(imported.total),
                "contribution": money_text(current.eu_contribution),
                "rate": rate_text(current.eu_max_rate),
            },
            code="total_below_contribution",
        )
    # Locking the project's versions numbers two imports made at once one after the other.
    last = max(Budget.objects.select_for_update().filter(project=project).values_list("version", flat=True))
    budget = Budget(
        project=project,
        version=last + 1,
        label=(label or _("Imported from %(name)s") % {"name": getattr(file, "name", "")})[:200],
        total_eligible_cost=imported.total,
        eu_contribution=current.eu_contribution,
        eu_max_rate=current.eu_max_rate,
        indirect_cap=current.indirect_cap,
        flexibility_threshold=current.flexibility_threshold,
        contingency_cap=current.contingency_cap,
        rate_method=current.rate_method,
    )
    save_audited(budget, actor)
    for (partner_id, category_id, activity_id), amount in sorted(
        imported.amounts.items(), key=lambda item: (item[0][1], item[0][0], item[0][2] or 0)
    ):
        line = BudgetLine(
            budget=budget, partner_id=partner_id, category_id=category_id, activity_id=activity_id, amount=amount
        )
        save_audited(line, actor)
    return budget


@transaction.atomic
def eu_payment_record(
    *, actor, project: Project, kind: str, received_on: datetime.date, amount: Decimal, note: str = ""
) -> EUPayment:
    """Record a payment received from the Commission; pre-financing never exceeds 90 % of the EU contribution."""
    if not user_can_direct(actor, project):
        raise PermissionDenied(_("Only directors record EU payments."))
    budget = Budget.objects.select_for_update().filter(project=project, is_current=True).first()
    if budget is None:
        raise ValidationError(_("The project has no current budget."), code="no_budget")
    payments = EUPayment.objects.filter(project=project)
    if kind == EUPayment.Kind.PRE_FINANCING and amount:
        received = payments.filter(kind=EUPayment.Kind.PRE_FINANCING).aggregate(total=Sum("amount"))["total"] or 0
        cap = cents(budget.eu_contribution * PRE_FINANCING_CAP)
        if received + amount > cap:
            raise ValidationError(
                {
                    "amount": _(
                        "Pre-financing would reach EUR %(total)s, over 90 %% of the EU contribution (EUR %(cap)s)."
                    )
                    % {"total": received + amount, "cap": cap}
                },
                code="pre_financing_cap",
            )
    payment = EUPayment(
        project=project,
        number=(payments.order_by("-number").values_list("number", flat=True).first() or 0) + 1,
        kind=kind,
        received_on=received_on,
        amount=amount,
        note=note,
    )
    save_audited(payment, actor)
    return payment


def procurement_expenses_check(contract: ProcurementContract, expenses: Iterable[Expenditure]) -> None:
    """Refuse expenses of another partner, or more invoiced than the contract is worth."""
    expenses = list(expenses)
    errors = []
    if any(expense.partner_id != contract.partner_id for expense in expenses):
        errors.append(_("Link only expenses of the partner that signed the contract."))
    invoiced = sum((expense.amount_eur for expense in expenses), Decimal(0))
    if contract.amount is not None and invoiced > contract.amount:
        errors.append(
            _("The linked expenses come to EUR %(invoiced)s, more than the contract's EUR %(amount)s.")
            % {"invoiced": invoiced, "amount": contract.amount}
        )
    if errors:
        raise ValidationError({"expenses": errors})


def _procurement_save(contract: ProcurementContract, *, actor, expenses: Iterable[Expenditure], **fields):
    for name, value in fields.items():
        setattr(contract, name, value)
    expenses = list(expenses)
    procurement_expenses_check(contract, expenses)
    save_audited(contract, actor)
    contract.expenses.set(expenses)
    return contract


@transaction.atomic
def procurement_contract_create(*, actor, partner: Partner, expenses: Iterable[Expenditure] = (), **fields):
    """Record a contract the partner awarded, with its procedure and the expenses it was paid by."""
    if not user_can_record_procurement(actor, partner):
        raise PermissionDenied(_("Only the partner's staff and the directors record its contracts."))
    return _procurement_save(
        ProcurementContract(partner=partner, author=actor), actor=actor, expenses=expenses, **fields
    )


@transaction.atomic
def procurement_contract_update(
    *, actor, contract: ProcurementContract, expenses: Iterable[Expenditure] = (), **fields
) -> ProcurementContract:
    """Correct a recorded contract; the partner that signed it stays the same."""
    locked = lock_for_change(
        contract,
        editable=None,
        permitted=lambda row: user_can_change_procurement(actor, row),
        denied=_("Only the partner's staff and the directors correct its contracts."),
        gone=_("This contract was deleted meanwhile."),
        select_related=("partner__project",),
        of=("self",),
    )
    return _procurement_save(locked, actor=actor, expenses=expenses, **fields)


@transaction.atomic
def procurement_contract_delete(*, actor, contract: ProcurementContract) -> None:
    """Remove a contract recorded by mistake; its history keeps what it was."""
    locked = lock_for_change(
        contract,
        editable=None,
        permitted=lambda row: user_can_change_procurement(actor, row),
        denied=_("Only the partner's staff and the directors remove its contracts."),
        gone=_("This contract was deleted already."),
        select_related=("partner__project",),
        of=("self",),
    )
    delete_audited(locked, actor)


def _timesheet_rows(timesheet: Timesheet, hours_by_action: dict[Action, Decimal]) -> list[TimesheetRow]:
    """Check the hours of each action and of the month, and set the timesheet's rate, cap, total and amount.

    Raise a ValidationError naming what is wrong: hours below zero or not in quarter hours, more hours on an action
    than the month has, an action of another project, a total over the working time agreed.
    """
    member, month = timesheet.staff_member, timesheet.month
    project = member.partner.project
    errors = []
    if month > timezone.localdate():
        errors.append(
            _("%(month)s has not started yet: fill the timesheet during the month or after it.")
            % {"month": month.strftime("%Y-%m")}
        )
    if not project.contains(month) and not project.contains(last_day_of_month(month)):
        errors.append(
            _("%(month)s is outside the project period (%(start)s – %(end)s).")
            % {"month": month.strftime("%Y-%m"), "start": project.start_date, "end": project.end_date}
        )
    if not member.covers(month):
        errors.append(
            _("The terms agreed with %(name)s do not cover %(month)s: ask an administrator to record them.")
            % {"name": member.name, "month": month.strftime("%Y-%m")}
        )
    month_hours = Decimal(calendar.monthrange(month.year, month.month)[1] * 24)
    rows = []
    for action, hours in hours_by_action.items():
        hours = hours or Decimal("0")
        label = _("Action %(code)s") % {"code": action.code}
        if action.activity.project_id != project.pk:
            errors.append(_("%(action)s is not an action of the project.") % {"action": label})
        elif hours < 0:
            errors.append(_("%(action)s: hours cannot be negative.") % {"action": label})
        elif hours % QUARTER_HOUR:
            errors.append(
                _("%(action)s: %(hours)s is not in quarter hours (.00, .25, .50 or .75).")
                % {"action": label, "hours": hours}
            )
        elif hours > month_hours:
            errors.append(
                _("%(action)s: %(hours)s hours is more than %(month)s has (%(limit)s).")
                % {"action": label, "hours": hours, "month": month.strftime("%Y-%m"), "limit": month_hours}
            )
        elif hours:
            rows.append(TimesheetRow(timesheet=timesheet, action=action, hours=hours))
    total = sum((row.hours for row in rows), Decimal("0"))
    if total > member.monthly_hours:
        errors.append(
            _("The hours add up to %(total)s, over the %(cap)s hours a month agreed with %(name)s: nothing was saved.")
            % {"total": total, "cap": member.monthly_hours, "name": member.name}
        )
    if errors:
        raise ValidationError(errors, code="timesheet_hours")
    timesheet.hourly_rate, timesheet.hours_cap = member.hourly_rate, member.monthly_hours
    timesheet.total_hours, timesheet.amount = total, cents(total * member.hourly_rate)
    return rows


def _timesheet_save(timesheet: Timesheet, rows: list[TimesheetRow], actor):
    save_audited(timesheet, actor)
    for old in timesheet.rows.all():
        delete_audited(old, actor)
    for row in rows:
        row.timesheet = timesheet
        save_audited(row, actor)


@transaction.atomic
def timesheet_create(
    *, actor, staff_member: StaffMember, month: datetime.date, hours_by_action: dict[Action, Decimal]
) -> Timesheet:
    """Start a person's timesheet of a month with the hours by action, as a draft of the person's partner."""
    if not user_can_act_for_partner(actor, staff_member.partner):
        raise PermissionDenied(_("You can fill timesheets only for your own organisation's staff."))
    timesheet = Timesheet(staff_member=staff_member, month=month.replace(day=1), author=actor)
    rows = _timesheet_rows(timesheet, hours_by_action)
    _timesheet_save(timesheet, rows, actor)
    return timesheet


def _timesheet_lock(timesheet: Timesheet, actor) -> Timesheet:
    """Lock the timesheet's row and return it fresh, once the actor may change it and it is open to change."""
    locked = (
        Timesheet.objects.select_for_update(of=("self",))
        .select_related("staff_member__partner__project", "expenditure")
        .get(pk=timesheet.pk)
    )
    if not user_can_act_for_partner(actor, locked.staff_member.partner):
        raise PermissionDenied(_("You can change only your own organisation's timesheets."))
    if not locked.is_editable:
        raise ValidationError(
            _("This timesheet is %(state)s and can no longer be changed.") % {"state": locked.get_state_display()},
            code="invalid_transition",
        )
    return locked


@transaction.atomic
def timesheet_update(
    *, actor, timesheet: Timesheet, revision: int, hours_by_action: dict[Action, Decimal]
) -> Timesheet:
    """Change the hours of a draft or returned timesheet; the signature no longer covers them and is cleared."""
    locked = _timesheet_lock(timesheet, actor)
    if locked.revision != revision:
        raise ValidationError(
            _(
                "Someone else saved this timesheet while you were editing it. Your changes were not saved: "
                "reload the page to see the current version, and apply them again."
            ),
            code="stale",
        )
    rows = _timesheet_rows(locked, hours_by_action)
    locked.signed, locked.signed_by, locked.signed_at = False, None, None
    locked.revision += 1
    _timesheet_save(locked, rows, actor)
    return locked


@transaction.atomic
def timesheet_sign(*, actor, timesheet: Timesheet) -> Timesheet:
    """Record that the person and the supervisor signed the timesheet as it stands, with who ticked it and when."""
    locked = _timesheet_lock(timesheet, actor)
    if not locked.total_hours:
        raise ValidationError(_("The timesheet has no hours to sign."), code="empty")
    locked.signed, locked.signed_by, locked.signed_at = True, actor, timezone.now()
    locked.revision += 1
    save_audited(locked, actor)
    return locked


def _timesheet_receipt(timesheet: Timesheet) -> CheckedUpload:
    """The timesheet as a PDF, ready to be stored as its expense's receipt."""
    content = timesheet_pdf(timesheet, timesheet_rows_priced(timesheet))
    name = f"timesheet-{timesheet.staff_member.pk}-{timesheet.month:%Y-%m}.pdf"
    return CheckedUpload(
        file=ContentFile(content, name=name),
        original_name=name,
        stored_name=f"{uuid.uuid4().hex}.pdf",
        content_type="application/pdf",
        size=len(content),
    )


@transaction.atomic
def timesheet_declare(*, actor, timesheet: Timesheet) -> Timesheet:
    """Declare a signed timesheet as its partner's heading-1 expense and submit it for verification.

    The expense is dated the month's last day, amounts to the timesheet's total and has the timesheet's PDF as
    its receipt. A returned timesheet updates its own expense, with a new PDF in place of the old one.
    """
    locked = _timesheet_lock(timesheet, actor)
    if not locked.signed:
        raise ValidationError(
            _("Tick that the person and the supervisor signed the timesheet before declaring it."), code="unsigned"
        )
    if locked.last_day > timezone.localdate():
        raise ValidationError(
            _("%(month)s has not ended yet: declare it from %(day)s.")
            % {"month": locked.month.strftime("%Y-%m"), "day": locked.last_day.isoformat()},
            code="future",
        )
    category = CostCategory.objects.filter(code=1).first()
    if category is None:
        raise ValidationError(_("Budget heading 1 (human resources) is missing: ask an administrator."))
    member = locked.staff_member
    activities = {row.action.activity for row in timesheet_rows_priced(locked)}
    fields = {
        "category": category,
        # One activity when the hours are all on its actions; else the expense spans the work plan.
        "activity": activities.pop() if len(activities) == 1 else None,
        "date_incurred": locked.last_day,
        "description": _("Staff costs: %(name)s, %(month)s")
        % {"name": member.name, "month": locked.month.strftime("%Y-%m")},
        "supplier": member.name,
        "document_ref": _("Timesheet %(number)d") % {"number": locked.pk},
        "amount": locked.amount,
    }
    if locked.expenditure is None:
        expenditure = Expenditure(partner=member.partner, currency=member.partner.currency, author=actor, **fields)
        _fix_eur_amount(expenditure)
        save_audited(expenditure, actor)
        locked.expenditure = expenditure
    else:
        expenditure = Expenditure.objects.select_for_update(of=("self",)).get(pk=locked.expenditure_id)
        if expenditure.status != Expenditure.Status.RETURNED:
            raise ValidationError(_("The timesheet's expense is no longer returned."), code="invalid_transition")
        for name, value in fields.items():
            setattr(expenditure, name, value)
        _fix_eur_amount(expenditure)
        expenditure.revision += 1
        save_audited(expenditure, actor)
        for receipt in expenditure.receipts.all():
            attachment_delete(receipt, actor)
    _attach_receipts(expenditure, [_timesheet_receipt(locked)], actor)
    locked.revision += 1
    save_audited(locked, actor)
    expenditure_submit(actor=actor, expenditure=expenditure)
    locked.expenditure.refresh_from_db()
    return locked
