import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import UniqueConstraint
from django.urls import reverse

from finance.models import CostCategory

pytestmark = pytest.mark.django_db


def test_every_constraint_of_the_portal_says_in_words_what_it_requires():
    """A violated constraint reaches a form, the admin's included, as its message: without one, as its own name."""
    unworded = []
    for label in ("partners", "activities", "finance", "reports"):
        for model in apps.get_app_config(label).get_models():
            for constraint in model._meta.constraints:
                # Django words a unique constraint on plain fields itself: "… with this … already exists."
                if isinstance(constraint, UniqueConstraint) and constraint.fields and not constraint.condition:
                    continue
                if constraint.violation_error_message == constraint.default_violation_error_message:
                    unworded.append(f"{model._meta.label}: {constraint.name}")
    assert not unworded, unworded


def test_the_admin_shows_a_violated_constraint_in_words(client):
    client.force_login(get_user_model().objects.create_superuser("root", password="a-long-test-password"))
    heading = {"code": "0", "name": "Nothing", "kind": "direct"}
    response = client.post(reverse("admin:finance_costcategory_add"), heading)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Numbers start at 1." in content and "cost_category_code_positive" not in content
    assert not CostCategory.objects.exists()


@pytest.mark.parametrize(("code", "kind"), [("7", "direct"), ("9", "contingency"), ("8", "indirect"), ("11", "taxes")])
def test_a_heading_code_is_its_annex_iii_line(client, code, kind):
    """Lines 7, 9 and 11 are computed sums: no heading holds them, and each kind has its own line."""
    client.force_login(get_user_model().objects.create_superuser("root", password="a-long-test-password"))
    response = client.post(reverse("admin:finance_costcategory_add"), {"code": code, "name": "Sum", "kind": kind})
    assert "The code is the heading&#x27;s line in Annex III" in response.content.decode()
    assert not CostCategory.objects.exists()
