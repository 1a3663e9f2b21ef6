"""Login throttling (django-axes): a lock holds the attacker's address and username only, and no one can shed it."""

import importlib.util

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password"
PROXY = "10.0.0.2"


@pytest.fixture
def deployed_with(monkeypatch, settings):
    """Apply the client-address settings cocap/settings.py derives from AXES_IPWARE_PROXY_COUNT in the environment."""

    def apply(proxies: int):
        monkeypatch.setenv("AXES_IPWARE_PROXY_COUNT", str(proxies))
        spec = importlib.util.find_spec("cocap.settings")
        production = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(production)
        for name in ("AXES_IPWARE_PROXY_COUNT", "AXES_IPWARE_META_PRECEDENCE_ORDER", "IPWARE_STRICT"):
            setattr(settings, name, getattr(production, name))

    return apply


def _log_in(password, *, forwarded_for=None, address=PROXY):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    client = Client(REMOTE_ADDR=address, headers=headers)
    return client.post(reverse("login"), {"username": "maria", "password": password})


def _lock(**where):
    """Fail five times, as AXES_FAILURE_LIMIT allows: the fifth failure is answered with the lock."""
    statuses = [_log_in("wrong-password", **where).status_code for _attempt in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert _log_in(PASSWORD, **where).status_code == 429


def test_behind_the_proxy_a_lock_holds_only_the_attackers_address(deployed_with):
    deployed_with(proxies=1)
    UserFactory(username="maria")
    # The proxy appends the address it got each request from; the attacker writes a new address before it each time.
    statuses = [
        _log_in("wrong-password", forwarded_for=f"203.0.113.{attempt}, 198.51.100.7").status_code
        for attempt in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    assert _log_in(PASSWORD, forwarded_for="203.0.113.99, 198.51.100.7").status_code == 429
    # A colleague behind the same proxy, from another address, still logs in as that user.
    assert _log_in(PASSWORD, forwarded_for="198.51.100.20").status_code == 302
    assert _log_in(PASSWORD, forwarded_for="198.51.100.7").status_code == 429


def test_connected_directly_a_forged_forwarded_for_does_not_lift_a_lock(deployed_with):
    deployed_with(proxies=0)
    UserFactory(username="maria")
    _lock(address="198.51.100.7", forwarded_for="203.0.113.1")
    for forged in ("203.0.113.99", "198.51.100.20", "203.0.113.99, 198.51.100.20"):
        assert _log_in(PASSWORD, address="198.51.100.7", forwarded_for=forged).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    assert _log_in(PASSWORD, address="198.51.100.20").status_code == 302


def test_the_deployment_default_is_a_direct_connection(settings):
    assert settings.AXES_IPWARE_META_PRECEDENCE_ORDER == ["REMOTE_ADDR"]


def test_a_negative_proxy_count_stops_the_portal_at_start(deployed_with):
    with pytest.raises(ImproperlyConfigured, match="number of proxies"):
        deployed_with(proxies=-1)


def test_a_username_longer_than_any_is_refused_as_a_wrong_login_and_mails_no_one(settings):
    """On PostgreSQL axes' record of the attempt would not fit its column: the login failed with a 500, mailed."""
    settings.ADMINS = ["ops@example.org"]
    client = Client(raise_request_exception=False)
    for url in (reverse("login"), reverse("admin:login")):
        response = client.post(url, {"username": "m" * 300, "password": "wrong-password"})
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()
    assert mail.outbox == []
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "m" * 255 and attempt.failures_since_start == 2
