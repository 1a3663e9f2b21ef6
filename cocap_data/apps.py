from django.apps import AppConfig


class CocapDataConfig(AppConfig):
    """The COCAP project as its description gives it, the demo data, and `load_cocap`."""

    name = "cocap_data"
    verbose_name = "COCAP data"
