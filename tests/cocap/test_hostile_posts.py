"""Hostile form values never give a 5xx, and the user is always told what happened."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from finance.models import EUPayment, Expenditure

pytestmark = pytest.mark.django_db

# The values of a tampered form or a fuzzer: a digit that is not one to int(), text where a number goes, numbers
# beyond any field, not a number, a negative zero, a date that does not exist, a NUL character, a value longer
# than any field, nothing.
HOSTILE_VALUES = ["²", "abc", "1e400", "NaN", "-0", "2026-13-45", "\x00", "x" * 5000, ""]
# What the page shows when it tells the user something: a message, a field's error, the form's error.
FEEDBACK = ('role="alert"', "invalid-feedback", "alert-danger")


def _forms(portal):
    """The main write views: (role, URL, a valid submission) each."""
    expense = {
        "date_incurred": "2026-03-10",
        "category": portal.category.pk,
        "activity": portal.activity.pk,
        "description": "Taxi to the seminar",
        "supplier": "Radio Taxi",
        "document_ref": "F-12",
        "amount": "12.50",
    }
    entry = {"date": "2026-03-01", "percent_complete": "20", "narrative": "Done."}
    entry[f"indicator_{portal.indicator.pk}"] = "2"
    report = portal.report
    return [
        ("staff", reverse("finance:expense-create"), expense),
        ("staff", reverse("finance:expense-edit", args=[portal.expense.pk]), {**expense, "revision": 1}),
        ("staff", reverse("activities:entry-create", args=[portal.action.pk]), entry),
        ("staff", reverse("activities:entry-edit", args=[portal.entry.pk]), {**entry, "revision": 1}),
        ("director", reverse("finance:expense-return", args=[portal.submitted_expense.pk]), {"note": "Add it."}),
        (
            "director",
            reverse("activities:entry-approve", args=[portal.submitted_entry.pk]),
            {"note": "Fine.", "confirmed": "on"},
        ),
        (
            "director",
            reverse("finance:payment-create"),
            {"kind": "pre_financing", "received_on": "2026-02-10", "amount": "1000.00", "note": "First tranche"},
        ),
        ("director", reverse("reports:report-create", args=[2]), {"language": "en", "before_period_end": "on"}),
        (
            "director",
            reverse("reports:report-detail", args=[report.pk]),
            {"summary": "On time.", "language": "en", "revision": 1},
        ),
        (
            "director",
            reverse("reports:report-approve", args=[report.pk]),
            {"revision": report.revision, "confirmed": "on"},
        ),
        ("observer", reverse("reports:report-verify"), {"sha256": "a" * 64}),
        ("director", reverse("two-factor-verify"), {"token": "123456"}),
        (None, reverse("login"), {"username": "maria", "password": "not-her-password"}),
    ]


def _post(client, url, data):
    """POST `data` and follow the redirects, then undo whatever it saved: every try starts from the same data."""
    with transaction.atomic():
        response = client.post(url, data, follow=True)
        transaction.set_rollback(True)
    return response


def test_every_hostile_value_in_every_field_gets_an_answer_and_no_server_error(portal):
    clients = {}
    failures = []
    for role, url, valid in _forms(portal):
        if role not in clients:
            clients[role] = Client(raise_request_exception=False)
            if role:
                clients[role].force_login(getattr(portal, role))
        for field in valid:
            for value in HOSTILE_VALUES:
                response = _post(clients[role], url, {**valid, field: value})
                statuses = [status for _url, status in response.redirect_chain] + [response.status_code]
                content = response.content.decode()
                if max(statuses) >= 500 or not any(marker in content for marker in FEEDBACK):
                    failures.append(f"{statuses} {url} {field}={value[:20]!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("revision", ["²", "abc", "-1", ""])
def test_a_tampered_revision_is_refused_with_a_message_and_saves_nothing(portal, revision):
    refusal = "The page sent a version of the record that does not exist: reload it and try again."
    if revision == "":
        refusal = "The page did not send which version of the record it shows: reload it and try again."
    staff, director = Client(), Client()
    staff.force_login(portal.staff)
    director.force_login(portal.director)
    expense = {
        "date_incurred": "2026-03-10",
        "category": portal.category.pk,
        "description": "Changed",
        "amount": "99.00",
        "revision": revision,
    }
    response = staff.post(reverse("finance:expense-edit", args=[portal.expense.pk]), expense)
    assert response.status_code == 200 and refusal in response.content.decode()
    entry = {"date": "2026-03-01", "percent_complete": "90", "narrative": "Changed", "revision": revision}
    response = staff.post(reverse("activities:entry-edit", args=[portal.entry.pk]), entry)
    assert response.status_code == 200 and refusal in response.content.decode()
    summary = {"summary": "Changed", "language": "en", "revision": revision}
    response = director.post(reverse("reports:report-detail", args=[portal.report.pk]), summary)
    assert response.status_code == 200 and refusal in response.content.decode()
    approve = reverse("reports:report-approve", args=[portal.report.pk])
    response = director.post(approve, {"revision": revision, "confirmed": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("reports:report-detail", args=[portal.report.pk])
    assert refusal in response.content.decode()

    for record in (portal.expense, portal.entry, portal.report):
        saved = type(record).objects.get(pk=record.pk)
        assert (saved.revision, saved.status) == (record.revision, record.status)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("amount", "1e400", "Ensure that there are no more than 14 digits in total."),
        ("amount", "NaN", "Enter a number."),
        ("amount", "-0", "Ensure this value is greater than or equal to 0.01."),
        ("date_incurred", "2026-13-45", "Enter a valid date."),
    ],
)
def test_an_impossible_amount_or_date_is_refused_on_its_field(portal, field, value, error):
    client = Client()
    client.force_login(portal.staff)
    before = Expenditure.objects.count()
    expense = {"date_incurred": "2026-03-10", "category": portal.category.pk, "description": "Taxi", "amount": "12.50"}
    response = client.post(reverse("finance:expense-create"), {**expense, field: value})
    assert response.status_code == 200
    assert error in response.context["form"].errors[field]
    assert Expenditure.objects.count() == before

    client.force_login(portal.director)
    payment = {"kind": "pre_financing", "received_on": "2026-02-10", "amount": "10.00"}
    payment_field = "received_on" if field == "date_incurred" else field
    response = client.post(reverse("finance:payment-create"), {**payment, payment_field: value}, follow=True)
    assert error in [str(message) for message in response.context["messages"]]
    assert EUPayment.objects.count() == 1


def test_an_amount_below_one_euro_cent_is_refused_in_words(portal):
    client = Client()
    client.force_login(portal.staff_sanjuan)
    expense = {"date_incurred": "2026-03-10", "category": portal.category.pk, "description": "Bus", "amount": "1"}
    response = client.post(reverse("finance:expense-create"), expense)
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [
        "At the rate of 2026-03 this is less than one euro cent, which cannot be reported: "
        "the smallest amount is 5.00 ARS."
    ]
    assert "expenditure_amount_eur_positive" not in response.content.decode()
    assert client.post(reverse("finance:expense-create"), {**expense, "amount": "5.00"}).status_code == 302
    assert Expenditure.objects.get(partner=portal.sanjuan).amount_eur == Decimal("0.01")
