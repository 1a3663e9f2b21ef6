import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse

from cocap import settings as production
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_hashers(settings):
    """The production hashers: the test settings hash with MD5 for speed."""
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def _argon2_parameters(encoded):
    algorithm, variety, _version, parameters, _salt, _hash = encoded.split("$")
    assert (algorithm, variety) == ("argon2", "argon2id")
    return dict(item.split("=") for item in parameters.split(","))


def test_new_passwords_are_stored_with_argon2id_at_least_at_owasps_minimum(production_hashers):
    user = UserFactory()
    parameters = _argon2_parameters(user.password)
    # OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1 at the least.
    assert int(parameters["m"]) >= 19 * 1024 and int(parameters["t"]) >= 2 and int(parameters["p"]) >= 1
    assert user.check_password("a-long-test-password")
    assert not user.check_password("another-password")


def test_a_password_stored_with_pbkdf2_still_logs_in_and_is_rehashed_with_argon2id(client, production_hashers):
    user = UserFactory(username="maria")
    # As stored before Argon2id (a low iteration count only keeps the test fast).
    user.password = PBKDF2PasswordHasher().encode("a-long-test-password", PBKDF2PasswordHasher().salt(), 1000)
    user.save(update_fields=["password"])
    response = client.post(reverse("login"), {"username": "maria", "password": "a-long-test-password"})
    assert response.status_code == 302 and response.url == reverse("home")
    user.refresh_from_db()
    _argon2_parameters(user.password)
    client.post(reverse("logout"))
    response = client.post(reverse("login"), {"username": "maria", "password": "a-long-test-password"})
    assert response.status_code == 302 and response.url == reverse("home")
