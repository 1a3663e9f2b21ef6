"""Writes on money: declaring and reviewing expenses, converting them to EUR."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from activities.models import Activity
from cocap.services import review_transition, save_audited
from partners.models import Partner
from partners.permissions import user_can_act_for_partner, user_can_direct

from .models import CostCategory, ExchangeRate, Expenditure

CENT = Decimal("0.01")
EDITABLE_STATUSES = (Expenditure.Status.DRAFT, Expenditure.Status.RETURNED)
REVIEWED_STATUSES = (Expenditure.Status.VERIFIED, Expenditure.Status.REJECTED, Expenditure.Status.RETURNED)


def exchange_rate_get(*, currency: str, day: datetime.date) -> Decimal:
    """Return the units of `currency` per EUR for the month of `day`; EUR is 1."""
    if currency == "EUR":
        return Decimal("1")
    rate = ExchangeRate.objects.filter(currency=currency, month=day.replace(day=1)).values_list("rate", flat=True)
    if not rate:
        raise ValidationError(
            _("There is no %(currency)s exchange rate for %(month)s yet: ask an administrator to import it.")
            % {"currency": currency, "month": day.strftime("%Y-%m")},
            code="missing_rate",
        )
    return rate[0]


def convert_to_eur(amount: Decimal, rate: Decimal) -> Decimal:
    """Convert `amount` at `rate` units per EUR, rounded half-up to the cent."""
    return (amount / rate).quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def expenditure_create(
    *,
    actor,
    partner: Partner,
    category: CostCategory,
    date_incurred: datetime.date,
    description: str,
    amount: Decimal,
    activity: Activity | None = None,
    supplier: str = "",
    document_ref: str = "",
) -> Expenditure:
    """Declare a draft expense in the partner's currency, fixing its EUR amount at the month's rate."""
    if not user_can_act_for_partner(actor, partner):
        raise PermissionDenied(_("You can declare expenses only for your own organisation."))
    if amount is None or amount <= 0:
        raise ValidationError({"amount": _("The amount must be positive.")}, code="not_positive")
    rate = exchange_rate_get(currency=partner.currency, day=date_incurred)
    expenditure = Expenditure(
        partner=partner,
        category=category,
        activity=activity,
        date_incurred=date_incurred,
        description=description,
        supplier=supplier,
        document_ref=document_ref,
        amount=amount,
        currency=partner.currency,
        exchange_rate=rate,
        amount_eur=convert_to_eur(amount, rate),
        author=actor,
    )
    save_audited(expenditure, actor)
    return expenditure


def _review(expenditure: Expenditure, *, actor, to, allowed_from, note=""):
    return review_transition(
        expenditure, allowed_from=allowed_from, to=to, actor=actor, note=note, reviewed_statuses=REVIEWED_STATUSES
    )


@transaction.atomic
def expenditure_submit(*, actor, expenditure: Expenditure) -> Expenditure:
    """Send a draft or returned expense to the directors for verification."""
    if not user_can_act_for_partner(actor, expenditure.partner):
        raise PermissionDenied(_("You can submit only your own organisation's expenses."))
    return _review(expenditure, actor=actor, to=Expenditure.Status.SUBMITTED, allowed_from=EDITABLE_STATUSES)


def _require_director(actor, expenditure: Expenditure):
    if not user_can_direct(actor, expenditure.partner.project):
        raise PermissionDenied(_("Only directors review expenses."))


@transaction.atomic
def expenditure_verify(*, actor, expenditure: Expenditure, note: str = "") -> Expenditure:
    """Accept a submitted expense as eligible; it counts towards the EU share."""
    _require_director(actor, expenditure)
    return _review(
        expenditure,
        actor=actor,
        to=Expenditure.Status.VERIFIED,
        allowed_from=(Expenditure.Status.SUBMITTED,),
        note=note,
    )


@transaction.atomic
def expenditure_reject(*, actor, expenditure: Expenditure, note: str) -> Expenditure:
    """Refuse a submitted expense as ineligible, with the reason."""
    _require_director(actor, expenditure)
    if not note.strip():
        raise ValidationError({"review_note": _("Say why the expense is not eligible.")}, code="required")
    return _review(
        expenditure,
        actor=actor,
        to=Expenditure.Status.REJECTED,
        allowed_from=(Expenditure.Status.SUBMITTED,),
        note=note,
    )


@transaction.atomic
def expenditure_return(*, actor, expenditure: Expenditure, note: str) -> Expenditure:
    """Send a submitted expense back to its partner to fix, with the reason."""
    _require_director(actor, expenditure)
    if not note.strip():
        raise ValidationError({"review_note": _("Say what needs fixing when you return an expense.")}, code="required")
    return _review(
        expenditure,
        actor=actor,
        to=Expenditure.Status.RETURNED,
        allowed_from=(Expenditure.Status.SUBMITTED,),
        note=note,
    )
