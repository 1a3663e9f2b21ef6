import re
import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import ProjectFactory, UserFactory, director_of

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"
NEW_PASSWORD = "another-long-pass-2026"


def _can_log_in(username, password) -> bool:
    """Try the login form in a browser of its own."""
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302 and response.url == reverse("home")


def test_the_account_menu_leads_to_the_password_change(client):
    client.force_login(UserFactory(first_name="Maria", last_name="Rossi"))
    content = client.get(reverse("home")).content.decode()
    menu = content[content.index('id="account-menu"') :]
    assert "Maria Rossi" in menu[: menu.index("</button>")]
    assert f'href="{reverse("password_change")}"' in menu


def test_a_user_changes_the_password_and_the_old_one_stops_working(client):
    user = UserFactory(username="maria")
    client.force_login(user)
    page = client.get(reverse("password_change"))
    assert page.status_code == 200 and "Change your password" in page.content.decode()
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    assert "Password changed" in client.get(response.url).content.decode()
    assert client.get(reverse("home")).status_code == 200, "still logged in here"
    assert not _can_log_in("maria", PASSWORD)
    assert _can_log_in("maria", NEW_PASSWORD)


def test_a_wrong_old_password_is_refused_and_counts_as_a_failed_login(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(username="maria")
    client.force_login(user)
    wrong = {"old_password": "not-the-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post(reverse("password_change"), wrong, **{"HTTP_ACCEPT_LANGUAGE": "it"})
    assert response.status_code == 200
    assert "La password attuale non è stata inserita correttamente" in response.content.decode()
    client.post(reverse("password_change"), wrong)
    response = client.post(reverse("password_change"), wrong)
    assert response.status_code == 429
    assert "Too many failed logins for this account" in response.content.decode()
    # Even the right password is no help now: guessing through this form stops where the login stops.
    right = {**wrong, "old_password": PASSWORD}
    assert client.post(reverse("password_change"), right).status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_password_change_is_behind_login_and_the_second_factor(client, settings):
    settings.COCAP_TWO_FACTOR = True
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    director = director_of(ProjectFactory(), user__username="direttrice")
    TOTPDevice.objects.create(user=director, name="phone", confirmed=True)
    client.post(reverse("login"), {"username": "direttrice", "password": PASSWORD})
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-verify"))
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-verify"))
    director.refresh_from_db()
    assert director.check_password(PASSWORD)


def _ask_reset(client, email, **extra):
    return client.post(reverse("password_reset"), {"email": email}, **extra)


def test_a_reset_mails_a_link_that_sets_a_new_password(client, settings):
    settings.COCAP_SITE_URL = "https://cocap.example.org"
    UserFactory(username="maria", email="maria@example.org")
    login_page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in login_page
    response = _ask_reset(client, "Maria@Example.org")
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert "Check your e-mail" in client.get(response.url).content.decode()

    [message] = mail.outbox
    assert message.to == ["maria@example.org"]
    assert message.subject == "COCAP portal: set a new password"
    assert "account maria" in message.body and "within 24 hours" in message.body
    link = re.search(r"https://cocap\.example\.org(/account/password/reset/\S+/)", message.body).group(1)
    response = client.get(link)
    assert response.status_code == 302
    form_url = response.url
    assert "Enter your new password twice." in client.get(form_url).content.decode()
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("password_reset_complete")
    assert not _can_log_in("maria", PASSWORD)
    assert _can_log_in("maria", NEW_PASSWORD)
    # The link worked once.
    assert "This link no longer works" in client.get(link).content.decode()


def test_unknown_addresses_get_the_same_page_and_no_mail(client):
    UserFactory(username="maria", email="maria@example.org")
    known = _ask_reset(client, "maria@example.org")
    unknown = _ask_reset(client, "nobody@example.org")
    assert (unknown.status_code, unknown.url) == (known.status_code, known.url)
    assert [message.to for message in mail.outbox] == [["maria@example.org"]]


def test_reset_requests_beyond_the_hourly_limit_are_refused_without_mail(client, settings, monkeypatch):
    settings.COCAP_PASSWORD_RESETS_PER_ADDRESS = 3
    UserFactory(username="maria", email="maria@example.org")
    for _request in range(3):
        assert _ask_reset(client, "maria@example.org").status_code == 302
    assert len(mail.outbox) == 3
    response = _ask_reset(client, "MARIA@example.org")
    assert response.status_code == 429
    assert "asked for too often" in response.content.decode() and "No mail was sent" in response.content.decode()
    assert len(mail.outbox) == 3
    # An unknown address is refused the same way: the limit tells nothing about who has an account.
    for _request in range(3):
        _ask_reset(client, "nobody@example.org")
    assert _ask_reset(client, "nobody@example.org").status_code == 429
    # An hour later the address may ask again.
    now = time.time()
    monkeypatch.setattr("cocap.ratelimit.time.time", lambda: now + 3601)
    assert _ask_reset(client, "maria@example.org").status_code == 302
    assert len(mail.outbox) == 4


def test_one_client_cannot_spray_reset_requests_over_many_addresses(client, settings):
    settings.COCAP_PASSWORD_RESETS_PER_CLIENT = 5
    for n in range(7):
        UserFactory(username=f"user{n}", email=f"user{n}@example.org")
    for n in range(5):
        assert _ask_reset(client, f"user{n}@example.org").status_code == 302
    assert _ask_reset(client, "user5@example.org").status_code == 429
    elsewhere = client.__class__(REMOTE_ADDR="10.0.0.9")
    assert _ask_reset(elsewhere, "user6@example.org").status_code == 302
    assert [message.to for message in mail.outbox] == [[f"user{n}@example.org"] for n in (0, 1, 2, 3, 4, 6)]


def test_the_admins_change_password_link_leads_to_the_portals_page(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert f'href="{reverse("admin:password_change")}"' in client.get(reverse("admin:index")).content.decode()
    response = client.get(reverse("admin:password_change"))
    assert response.status_code == 302 and response.url == reverse("password_change")
