"""Every URL of the project, filled with real objects of the `portal` fixture (tests/cocap/conftest.py) and with
missing ones: for the tests that walk every page."""

import re

from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
# Path parameters filled with no object: past the last one, beyond any database integer, and for the admin's
# free-form object ids, text, a path and a NUL character.
MISSING = {"int": ["999999", "9" * 30], "path": ["999999", "abc", "..%2F..%2Fetc", "%00"], "str": ["abc", "%00"]}


def url_patterns(patterns=None, prefix="", namespace=""):
    """Yield (route, name, pattern) for every URL pattern of the project, the admin's and Django's included."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
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
        ("activities:logframe-create",): {"kind": "indicator"},
        ("activities:logframe-edit", "activities:measurement-create"): {
            "kind": "indicator",
            "pk": portal.logframe_indicator.pk,
        },
        ("reports:contribution-create",): {"number": portal.period.number},
        tuple(f"reports:contribution-{view}" for view in ("detail", "edit", "submit")): {"pk": portal.contribution.pk},
        ("reports:contribution-approve", "reports:contribution-return"): {"pk": portal.submitted_contribution.pk},
        ("finance:expense-detail", "finance:expense-edit", "finance:expense-submit", "finance:expense-delete"): {
            "pk": portal.expense.pk
        },
        ("finance:expense-verify", "finance:expense-reject", "finance:expense-return"): {
            "pk": portal.submitted_expense.pk
        },
        ("finance:receipt-download", "finance:receipt-delete"): {"pk": portal.receipt.pk},
        ("finance:procurement-edit", "finance:procurement-delete"): {"pk": portal.contract.pk},
        ("finance:budget-xlsx",): {"pk": portal.budget.pk},
        tuple(f"finance:timesheet-{view}" for view in ("detail", "edit", "pdf", "sign", "declare")): {
            "pk": portal.timesheet.pk
        },
        ("reports:report-create",): {"number": portal.period.number},
        tuple(
            f"reports:report-{view}"
            for view in (
                "detail",
                "approve",
                "render-retry",
                "pdf",
                "xlsx",
                "sections",
                "sections-compile",
                "financial",
            )
        ): {"pk": portal.report.pk},
        ("notification-open",): {"pk": portal.notification.pk},
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


def urls(portal):
    """Every URL of the project, as (those naming real objects, those naming missing ones)."""
    real, found, missing = _real_arguments(portal), [], []
    for route, name, pattern in url_patterns():
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
