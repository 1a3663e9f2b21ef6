import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PartnerFactory, ProjectFactory, UserFactory, director_of, staff_of

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    settings.COCAP_TWO_FACTOR = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _log_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client.get(response.url)


def _code(device, offset=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def test_a_director_must_set_up_an_authenticator_before_anything_else(client):
    director = director_of(ProjectFactory(), user__username="direttrice")
    response = _log_in(client, director)
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-setup"))
    assert client.get(reverse("finance:overview")).url.startswith(reverse("two-factor-setup"))

    page = client.get(reverse("two-factor-setup"))
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    device = TOTPDevice.objects.get(user=director, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/COCAP")

    response = client.post(reverse("two-factor-setup"), {"token": "000000", "next": "/finance/"})
    assert "This code does not match" in response.content.decode()
    response = client.post(reverse("two-factor-setup"), {"token": _code(device), "next": "/finance/"})
    assert response.status_code == 302 and response.url == "/finance/"
    assert client.get(reverse("finance:overview")).status_code == 200
    assert TOTPDevice.objects.get(user=director).confirmed


def test_a_director_with_an_authenticator_gives_a_code_at_each_login(client):
    director = director_of(ProjectFactory())
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    response = _log_in(client, director)
    assert response.url.startswith(reverse("two-factor-verify"))
    for token in ("12345a", "²²²²²²"):
        response = client.post(reverse("two-factor-verify"), {"token": token})
        assert "The code is six digits." in response.content.decode()
    response = client.post(reverse("two-factor-verify"), {"token": _code(device, offset=-10)})
    assert "This code is not valid" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302
    response = client.post(reverse("two-factor-verify"), {"token": _code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_the_admin_is_behind_the_second_factor(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    _log_in(client, admin)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-verify"))


def test_partner_staff_log_in_without_a_code_unless_they_chose_one(client):
    staff = staff_of(PartnerFactory())
    assert _log_in(client, staff).status_code == 200
    client.get(reverse("two-factor-setup"))
    device = TOTPDevice.objects.get(user=staff)
    client.post(reverse("two-factor-setup"), {"token": _code(device)})
    client.post(reverse("logout"))
    response = _log_in(client, staff)
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-verify"))


def test_repeated_failed_logins_lock_the_account_with_a_clear_message(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(username="maria")
    for _attempt in range(3):
        client.post(reverse("login"), {"username": "maria", "password": "wrong-password"})
    response = client.post(reverse("login"), {"username": "maria", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins for this account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    other = client.__class__(REMOTE_ADDR="10.0.0.9")
    response = other.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_codes_slow_down_the_next_tries(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    director = director_of(ProjectFactory())
    device = TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    _log_in(client, director)
    client.post(reverse("two-factor-verify"), {"token": _code(device, offset=-10)})
    response = client.post(reverse("two-factor-verify"), {"token": _code(device)})
    assert "Too many wrong codes: wait a few seconds" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_a_stolen_password_cannot_pair_another_authenticator(client):
    director = director_of(ProjectFactory())
    TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    _log_in(client, director)
    response = client.get(reverse("two-factor-setup"))
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-verify"))
    response = client.post(reverse("two-factor-setup"), {"token": "123456"})
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-verify"))
    assert TOTPDevice.objects.filter(user=director).count() == 1
