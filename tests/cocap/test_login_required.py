"""Every page asks an anonymous visitor to log in, except the few that must work before a login."""

import pytest
from django.test import Client
from django.urls import resolve

from tests.addresses import urls

pytestmark = pytest.mark.django_db

# Marked @login_not_required, each for a reason: logging in (the portal's and the admin's form), getting a
# forgotten password back, choosing the language on the login page, and the proxy's health check.
PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "health",
    "admin:login",
}


def _name(url):
    match = resolve(url)
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name


def test_every_other_page_sends_an_anonymous_visitor_to_the_login(portal):
    found, _missing = urls(portal)
    client = Client()
    not_redirected = []
    for url in found:
        if _name(url) in PUBLIC:
            continue
        response = client.get(url)
        # The admin's pages send to the admin's own login form, which accepts the same accounts.
        logins = ("/login/?next=", "/admin/login/?next=") if url.startswith("/admin/") else ("/login/?next=",)
        if response.status_code != 302 or not response["Location"].startswith(logins):
            not_redirected.append(f"{response.status_code} {url}")
    assert not_redirected == []


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_public_pages_open_without_a_login(portal, name):
    url = next(url for url in urls(portal)[0] if _name(url) == name)
    response = Client().get(url)
    assert not (response.status_code == 302 and response["Location"].startswith("/login/?next="))
    assert response.status_code < 500
