from importlib import import_module

import pytest
from django.apps import apps

from cocap_data.seed import PROJECT
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

restore = import_module("partners.migrations.0004_project_title_spanish_accents")


def test_the_spanish_title_gets_its_accents_back_and_an_edited_title_stays():
    cocap = ProjectFactory(code="cocap", title=restore.WITHOUT_ACCENTS)
    other = ProjectFactory(title=restore.WITHOUT_ACCENTS)

    restore.restore_accents(apps, None)

    cocap.refresh_from_db()
    other.refresh_from_db()
    assert cocap.title.startswith("Cohesión social a través") and "métodos" in cocap.title
    assert "acción colectiva" in cocap.title and cocap.title.endswith("Países del Mercosur")
    assert cocap.title == PROJECT["title"]
    assert other.title == restore.WITHOUT_ACCENTS
