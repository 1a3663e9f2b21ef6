"""Money and percentages, rounded and written one way for pages, the SAL PDF, its snapshot and the exports."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Round an amount to the cent, halves away from zero as accountants do."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(part: Decimal, whole: Decimal, places: str = "0.1") -> Decimal | None:
    """Return `part` as a percentage of `whole`, rounded to `places`; None when `whole` is zero."""
    if not whole:
        return None
    return (100 * Decimal(part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def plain_number(value: Decimal) -> str:
    """Write a quantity without trailing zeros or exponent: 20, not 20.00 or 2E+1; 2.5, not 2.50."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_json(amount: Decimal) -> str:
    """Write an amount to the cent as plain digits, for the frozen SAL snapshot: 1234.56."""
    return str(cents(amount))


def money_text(amount: Decimal, currency: str = "EUR") -> str:
    """Write an amount as the active language writes numbers: EUR 1,234.56 in English, EUR 1.234,56 in Italian."""
    return f"{currency} " + number_format(cents(amount), decimal_pos=2, use_l10n=True, force_grouping=True)


def percent_text(part: Decimal, whole: Decimal) -> str:
    """Write `part` as a percentage of `whole` with two decimals in the active language; a dash when undefined."""
    share = percent_of(part, whole, "0.01")
    if share is None:
        return "–"
    return f"{number_format(share, decimal_pos=2, use_l10n=True)} %"


def rate_text(rate: Decimal) -> str:
    """Write a rate such as 0.0700 as a plain percentage number: 7."""
    return f"{(rate * 100).normalize():f}"


def months_text(first: datetime.date, last: datetime.date) -> str:
    """Write a month as 2026-03, and a range of months as the first and the last joined by an en dash."""
    return f"{first:%Y-%m}" if first == last else f"{first:%Y-%m} – {last:%Y-%m}"


def number_text(value: Decimal | None) -> str:
    """Write a quantity as the active language writes numbers, without trailing zeros: 20, 2,5 in Italian."""
    if value is None:
        return "–"
    # normalize() alone writes 20 as 2E+1; quantizing to the exponent it keeps brings the plain digits back.
    plain = value.normalize()
    if plain.as_tuple().exponent > 0:
        plain = plain.quantize(Decimal(1))
    return number_format(plain, use_l10n=True, force_grouping=True)
