#!/usr/bin/env python
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocap.settings")
    import environ

    environ.Env.read_env(Path(__file__).resolve().parent / ".env", overwrite=False)
    # A checkout with neither a secret key nor DJANGO_DEBUG is a developer's: run the development settings
    # there, so that `manage.py check` or `makemigrations` just work. Production always has its secret key,
    # and so stays with DEBUG off (the web server goes through wsgi.py, not here).
    if "DJANGO_SECRET_KEY" not in os.environ and "DJANGO_DEBUG" not in os.environ:
        os.environ["DJANGO_DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
