from django.apps import AppConfig
from django.utils import dates
from django.utils.functional import lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# Italian, Spanish and Portuguese write month names in lower case ("25 ottobre 2026"); Django's Italian
# catalogue (and, depending on the catalogues installed, the Portuguese one) capitalises them, and a date
# format cannot change the case of a name.
LOWER_CASE_MONTH_LANGUAGES = {"it", "es", "pt"}


def _month_name(name) -> str:
    text = str(name)
    language = (get_language() or "").split("-")[0]
    return text.lower() if language in LOWER_CASE_MONTH_LANGUAGES else text


month_name = lazy(_month_name, str)


class CoreConfig(AppConfig):
    """The bottom layer every app builds on: service, upload, mail and form helpers."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        # The date filter's F and E read these tables when a date is written, in the language then active.
        # Wrapped once: the test runner may set the apps up again.
        if not getattr(dates, "cocap_month_case", False):
            for table in (dates.MONTHS, dates.MONTHS_ALT):
                for number, name in list(table.items()):
                    table[number] = month_name(name)
            dates.cocap_month_case = True
        # Django's empty choice of a select, in the project's catalogue so that every language translates it.
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = _("- Select an option -")
