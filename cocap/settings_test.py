"""Settings for the test suite: the production settings with fast hashing and in-memory mail."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("DJANGO_DEBUG", "0")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
# Serve static files from the finders: tests run without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Django's live server mounts MEDIA_ROOT under MEDIA_URL and cannot take None; nothing links to this path,
# uploads are still reached only through the permission-checked views.
MEDIA_URL = "/_media-not-linked/"
# PDF renders run inline in tests; tests/reports/test_tasks.py runs them through django-tasks-db's worker.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# Most tests log users in with force_login and no second factor; tests/cocap/test_two_factor.py turns it on.
COCAP_TWO_FACTOR = False
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
