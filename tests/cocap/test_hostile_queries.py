"""Hostile addresses never give a 5xx: every URL pattern of the project, for every role, with hostile query strings,
with path parameters naming real objects and missing ones."""

import re

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

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
PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
# Path parameters filled with no object: past the last one, beyond any database integer, and for the admin's
# free-form object ids, text, a path and a NUL character.
MISSING = {"int": ["999999", "9" * 30], "path": ["999999", "abc", "..%2F..%2Fetc", "%00"], "str": ["abc", "%00"]}


def _url_patterns(patterns=None, prefix="", namespace=""):
    """Yield (route, name, pattern) for every URL pattern of the project, the admin's and Django's included."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}" if pattern.name else None, pattern


def _real_arguments(portal):
    """Path parameters that name an object of the portal fixture, by URL name."""
    partner_type = ContentType.objects.get_for_model(portal.lead)
    by_names = {
        ("activities:activity-detail",): {"number": portal.activity.number},
        ("activities:entry-create",): {"action_pk": portal.action.pk},
        ("activities:entry-detail", "activities:entry-edit", "activities:entry-submit", "activities:entry-delete"): {
            "pk": portal.entry.pk
        },
        ("activities:entry-approve", "activities:entry-return"): {"pk": portal.submitted_entry.pk},
        ("activities:evidence-download", "activities:evidence-delete"): {"pk": portal.evidence.pk},
        ("finance:expense-detail", "finance:expense-edit", "finance:expense-submit", "finance:expense-delete"): {
            "pk": portal.expense.pk
        },
        ("finance:expense-verify", "finance:expense-reject", "finance:expense-return"): {
            "pk": portal.submitted_expense.pk
        },
        ("finance:receipt-download", "finance:receipt-delete"): {"pk": portal.receipt.pk},
        ("reports:report-create",): {"number": portal.period.number},
        tuple(f"reports:report-{view}" for view in ("detail", "approve", "render-retry", "pdf", "xlsx")): {
            "pk": portal.report.pk
        },
        ("admin:auth_user_password_change",): {"id": portal.admin.pk},
        ("admin:view_on_site",): {"content_type_id": partner_type.pk, "object_id": portal.lead.pk},
        ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"): {"pk": portal.device.pk},
        ("admin:app_list",): {"app_label": "finance"},
        ("password_reset_confirm",): {
            "uidb64": urlsafe_base64_encode(force_bytes(portal.staff.pk)),
            "token": default_token_generator.make_token(portal.staff),
        },
    }
    return {name: arguments for names, arguments in by_names.items() for name in names}


def _admin_row(route):
    """The first row of the model whose admin page `route` is, or None for a route of no model."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    models = {(model._meta.app_label, model._meta.model_name) for model in apps.get_models()}
    if match is None or (match[1], match[2]) not in models:
        return None
    row = apps.get_model(match[1], match[2]).objects.order_by("pk").first()
    assert row is not None, f"The portal fixture has no {match[1]}.{match[2]} for {route}"
    return row


def _regex_urls(route, name, real):
    """The admin's regular expressions, as (real, missing): an app's index, a past version, the catch-all."""
    if name == "admin:app_list":
        return [reverse(name, kwargs=real[name])], []
    if name and name.endswith("_simple_history"):
        row = _admin_row(route)
        version = row.history.order_by("history_id").first().history_id
        missing = ([row.pk, "999999"], [row.pk, "abc"], ["999999", version], ["%00", version])
        return [reverse(name, args=[row.pk, version])], [reverse(name, args=args) for args in missing]
    assert route == "admin/(?P<url>.*)$", f"Say how to fill {route} ({name}) in _regex_urls"
    return ["/admin/no-such-page/"], ["/admin/%00/"]


def _fill(route, arguments):
    return "/" + PLACEHOLDER.sub(lambda match: str(arguments[match["name"]]), route)


def _urls(portal):
    """Every URL of the project, as (those naming real objects, those naming missing ones)."""
    real, found, missing = _real_arguments(portal), [], []
    for route, name, pattern in _url_patterns():
        if isinstance(pattern.pattern, RegexPattern):
            more_found, more_missing = _regex_urls(route, name, real)
            found += more_found
            missing += more_missing
            continue
        placeholders = list(PLACEHOLDER.finditer(route))
        if not placeholders:
            found.append("/" + route)
            continue
        row = None if name in real else _admin_row(route)
        arguments = real.get(name) or (row and {"object_id": row.pk})
        assert arguments, f"Say which object {route} ({name}) shows, in _real_arguments"
        found.append(_fill(route, arguments))
        for placeholder in placeholders:
            for value in MISSING[placeholder["converter"] or "str"]:
                missing.append(_fill(route, {**arguments, placeholder["name"]: value}))
    return found, missing


def _addresses(portal, role):
    """What to request as `role`: each page with each hostile query string, each missing object once.

    Two shortcuts keep this to seconds. The admin answers anyone who is not staff with its login page before it
    reads anything: one request with every hostile parameter at once tries each of its pages. And the admin's
    pages of one record (add, change, delete, history) read only the admin's own parameters from the query.
    """
    found, missing = _urls(portal)
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
    found, missing = _urls(portal)
    assert len(found) == len(list(_url_patterns())) > 200
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
