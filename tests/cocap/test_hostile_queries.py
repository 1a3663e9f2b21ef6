"""Hostile addresses never give a 5xx: every URL pattern of the project, for every role, with hostile query strings,
with path parameters naming real objects and missing ones."""

import re

import pytest
from django.test import Client

from tests.addresses import url_patterns, urls

pytestmark = pytest.mark.django_db

# What a tamperer, a scanner or a broken link sends, a kind per query string: numbers that are not numbers (a
# superscript digit passes str.isdigit), negative and out-of-range pages and ids, markup and paths, NUL characters,
# values longer than any field (and than Python's 4300-digit int()), repeated keys with unknown languages, redirects
# elsewhere and bytes that are not UTF-8, and the admin's own parameters (ordering, popups, a field to leak).
HOSTILE_QUERIES = {
    "not numbers": "version=%C2%B2&revision=%C2%B2&number=%C2%B2&page=abc&p=abc",
    "negative": "page=-1&p=-1&version=-1&partner=-1&category=-1",
    "out of range": "page=999999&p=999999&version=99999999999999999999999&partner=99999999999999999999999",
    "markup and paths": "status=%3Cscript%3Ealert(1)%3C/script%3E&q=%3Cscript%3E&partner=../../etc/passwd"
    "&category=..%2F..%2Fetc&activity=../..",
    "NUL": "q=%00&next=%00&sha256=%00&partner=%00&status=%00&version=%00&page=%00",
    "long": f"q={'x' * 5000}&status={'x' * 5000}&version={'9' * 5000}&page={'9' * 5000}",
    "repeated": "status=draft&status=submitted&partner=1&partner=2&page=1&page=2&lang=xx&language=xx"
    "&next=https://evil.example/&next=//evil.example/&%FF%FE=%FF&category=%C0%AF",
    "admin": "o=1.-2.abc&all=&e=1&_popup=1&_to_field=password&_changelist_filters=%00",
}
EVERY_PARAMETER_AT_ONCE = "&".join(HOSTILE_QUERIES.values())
ROLES = ["admin", "director", "observer", "staff", None]


def _addresses(portal, role):
    """What to request as `role`: each page with each hostile query string, each missing object once.

    Two shortcuts keep this to seconds. The admin answers anyone who is not staff with its login page before it
    reads anything: one request with every hostile parameter at once tries each of its pages. And the admin's
    pages of one record (add, change, delete, history) read only the admin's own parameters from the query.
    """
    found, missing = urls(portal)
    admin = role == "admin"
    for url in found:
        if not url.startswith("/admin/"):
            queries = HOSTILE_QUERIES.values()
        elif not admin:
            queries = [EVERY_PARAMETER_AT_ONCE]
        elif re.search(r"/(\d+/|add/)", url):
            queries = [HOSTILE_QUERIES["admin"], EVERY_PARAMETER_AT_ONCE.replace("_to_field=password&", "")]
        else:
            queries = HOSTILE_QUERIES.values()
        yield from (f"{url}?{query}" for query in queries)
    yield from (url for url in missing if admin or not url.startswith("/admin/"))


def test_the_addresses_cover_every_url_pattern(portal):
    found, missing = urls(portal)
    assert len(found) == len(list(url_patterns())) > 200
    assert "/finance/budget/" in found and "/admin/finance/expenditure/" in found
    assert f"/expenses/{portal.expense.pk}/" in found and "/expenses/999999/" in missing
    assert f"/admin/finance/expenditure/{portal.expense.pk}/change/" in found
    assert "/admin/finance/expenditure/abc/change/" in missing


@pytest.mark.parametrize("role", ROLES)
def test_no_address_gives_a_server_error(portal, role):
    client = Client(raise_request_exception=False)
    if role:
        client.force_login(getattr(portal, role))
    failures = []
    for address in _addresses(portal, role):
        response = client.get(address)
        if response.streaming:
            response.getvalue()  # Read to the end, a download closes its file.
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {address[:160]}")
    assert not failures, "\n".join(failures)
