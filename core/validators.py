"""Limits on what people type, shared by the forms, the models and their database constraints."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

# Free texts are bounded so that one record cannot bury the SAL in pages: 300 KB of narrative made 60 more.
# A progress narrative: about four printed pages; longer documents go in as evidence files.
NARRATIVE_MAX_CHARS = 10_000
# A director's note to a partner on what to fix or why.
REVIEW_NOTE_MAX_CHARS = 5_000
# A logframe text (an objective, a result, a source of verification, assumptions): a paragraph or two.
LOGFRAME_TEXT_MAX_CHARS = 2_000
# One part of a partner's contribution to a period's report, on one activity: about two printed pages.
CONTRIBUTION_TEXT_MAX_CHARS = 5_000
# The directors' summary of a SAL: the assessment of the period, about eight printed pages.
SAL_SUMMARY_MAX_CHARS = 20_000


@deconstructible
class MaxCharsValidator(MaxLengthValidator):
    """Refuse a text longer than the limit, saying how long it is and what to do."""

    message = _(
        "This text has %(show_value)s characters; at most %(limit_value)s are allowed. "
        "Shorten it: longer documents can be attached as files."
    )

    def __call__(self, value):
        length = self.clean(value)
        if self.compare(length, self.limit_value):
            # The numbers grouped as the page's language writes them, like the counter under the field.
            params = {
                "limit_value": number_format(self.limit_value, force_grouping=True),
                "show_value": number_format(length, force_grouping=True),
                "value": value,
            }
            raise ValidationError(self.message, code=self.code, params=params)


def validate_not_in_future(day):
    """Refuse a date after today.

    Today is the portal's (Europe/Rome), the first of the partners' time zones to reach a new day, so a
    partner in Mercosur is never refused their own today. The database cannot check this: a constraint
    cannot depend on the current date.
    """
    today = timezone.localdate()
    if day > today:
        raise ValidationError(
            _("The date cannot be in the future (today is %(today)s)."),
            code="future",
            params={"today": today.isoformat()},
        )


# The ISO 4217 codes of the currencies in circulation (funds, metals and testing codes left out): what an invoice
# can be written in. The list changes rarely (the last additions: ZWG in 2024, XCG in 2025).
ISO_4217_CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
    CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
    HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
    TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a list literal of 158 quoted codes reads worse
)


def validate_iso_4217(code: str):
    """Refuse a code that is not an ISO 4217 currency in circulation, such as USD, EUR or BRL."""
    if code not in ISO_4217_CURRENCIES:
        raise ValidationError(
            _("%(code)s is not an ISO 4217 currency code: write three capital letters such as USD, EUR or BRL."),
            code="not_iso_4217",
            params={"code": code},
        )
