from django.apps import AppConfig


class CocapConfig(AppConfig):
    name = "cocap"
    verbose_name = "COCAP"

    def ready(self):
        # Connects the login signal that decides who owes a second factor.
        from . import two_factor  # noqa: F401
