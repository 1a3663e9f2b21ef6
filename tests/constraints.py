import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction


def assert_db_refuses(create):
    """Assert the database itself refuses the row `create()` writes, bypassing model validation."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def assert_invalid(instance, field=None, message=None):
    """Assert full_clean() rejects `instance`, on `field` when given, with `message` when given."""
    with pytest.raises(ValidationError) as excinfo:
        instance.full_clean()
    errors = excinfo.value.message_dict
    if field:
        assert field in errors, errors
    if message:
        assert any(message in text for texts in errors.values() for text in texts), errors
