from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom layer every app builds on: service, upload, mail and form helpers."""

    name = "core"
    verbose_name = "Core"
