"""Locust users of the load test (bench/load.py): partner staff browsing and declaring, a director reviewing.

Every record a user creates carries a unique tag in its text; bench/load.py checks afterwards that each tag
the portal confirmed is in the database exactly once.
"""

import json
import os
import re
import uuid

from django_otp.oath import totp
from locust import HttpUser, between, events, task

with open(os.environ["COCAP_LOAD_SETUP"]) as setup_file:
    SETUP = json.load(setup_file)
CREATED = {"entries": [], "expenses": []}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TODAY = SETUP["today"]


def _post(client, url, data, *, name, then):
    """Post as a browser does, timing the post and the page it redirects to each under its own name."""
    response = client.post(url, data, name=name, allow_redirects=False)
    if response.is_redirect:
        return client.get(response.headers["Location"], name=then)
    return response


def _csrf(response):
    match = CSRF.search(response.text)
    return match.group(1) if match else ""


class PartnerStaff(HttpUser):
    weight = 50
    wait_time = between(1, 3)
    users = iter(SETUP["partner_users"])

    def on_start(self):
        self.username = next(PartnerStaff.users)
        page = self.client.get("/login/", name="/login/")
        home = _post(
            self.client,
            "/login/",
            {"username": self.username, "password": SETUP["password"], "csrfmiddlewaretoken": _csrf(page)},
            name="/login/ POST",
            then="/ (partner)",
        )
        self.actions = re.findall(r"/actions/(\d+)/progress/new/", home.text) or [None]

    @task(4)
    def dashboard(self):
        self.client.get("/", name="/ (partner)")

    @task(3)
    def activities(self):
        self.client.get("/activities/", name="/activities/")
        self.client.get("/activities/4/", name="/activities/[n]/")

    @task(3)
    def lists(self):
        self.client.get("/progress/", name="/progress/")
        self.client.get("/expenses/", name="/expenses/")
        self.client.get("/finance/", name="/finance/")

    def create_and_submit(self, kind, form_url, name, fields, detail):
        """Post a new record tagged uniquely, remember the tag once the portal confirms it, then submit it."""
        form = self.client.get(form_url, name=name)
        tag = f"load-{uuid.uuid4().hex}"
        data = {key: value.replace("{tag}", tag) for key, value in fields.items()}
        response = _post(
            self.client,
            form_url,
            {**data, "csrfmiddlewaretoken": _csrf(form)},
            name=f"{name} POST",
            then=f"/{detail}/[pk]/",
        )
        match = re.search(rf"/{detail}/(\d+)/$", response.url or "")
        if not match:
            return
        CREATED[kind].append(tag)
        _post(
            self.client,
            f"/{detail}/{match.group(1)}/submit/",
            {"csrfmiddlewaretoken": _csrf(response)},
            name=f"/{detail}/[pk]/submit/",
            then=f"/{detail}/[pk]/",
        )

    @task(2)
    def record_progress(self):
        action = self.actions[hash(self.username) % len(self.actions)]
        if action is None:
            return
        fields = {"date": TODAY, "percent_complete": "50", "narrative": "Seminario con i partner locali ({tag})."}
        self.create_and_submit(
            "entries", f"/actions/{action}/progress/new/", "/actions/[pk]/progress/new/", fields, "progress"
        )

    @task(2)
    def declare_expense(self):
        fields = {
            "date_incurred": TODAY,
            "category": str(SETUP["category"]),
            "description": "Trasporto per il seminario ({tag})",
            "supplier": "Trasporti locali",
            "amount": "125.50",
        }
        self.create_and_submit("expenses", "/expenses/new/", "/expenses/new/", fields, "expenses")


class Director(HttpUser):
    weight = 1
    fixed_count = 1
    wait_time = between(1, 2)

    def on_start(self):
        page = self.client.get("/login/", name="/login/")
        response = _post(
            self.client,
            "/login/",
            {"username": SETUP["director"], "password": SETUP["password"], "csrfmiddlewaretoken": _csrf(page)},
            name="/login/ POST",
            then="/account/two-factor/verify/",
        )
        key = bytes.fromhex(SETUP["director_totp_key"])
        _post(
            self.client,
            "/account/two-factor/verify/",
            {"token": f"{totp(key):06d}", "csrfmiddlewaretoken": _csrf(response)},
            name="/account/two-factor/verify/ POST",
            then="/ (director)",
        )

    @task
    def review(self):
        queue = self.client.get("/progress/review/", name="/progress/review/")
        for pk in re.findall(r'href="/progress/(\d+)/"', queue.text)[:3]:
            entry = self.client.get(f"/progress/{pk}/", name="/progress/[pk]/")
            _post(
                self.client,
                f"/progress/{pk}/approve/",
                {"note": "", "csrfmiddlewaretoken": _csrf(entry)},
                name="/progress/[pk]/approve/",
                then="/progress/[pk]/",
            )
        expenses = self.client.get("/expenses/?status=submitted", name="/expenses/?status=submitted")
        for pk in re.findall(r'href="/expenses/(\d+)/"', expenses.text)[:3]:
            expense = self.client.get(f"/expenses/{pk}/", name="/expenses/[pk]/")
            _post(
                self.client,
                f"/expenses/{pk}/verify/",
                {"note": "", "csrfmiddlewaretoken": _csrf(expense)},
                name="/expenses/[pk]/verify/",
                then="/expenses/[pk]/",
            )
        self.client.get("/finance/", name="/finance/")


@events.quitting.add_listener
def _write_created(environment, **kwargs):
    with open(os.environ["COCAP_LOAD_CREATED"], "w") as out:
        json.dump(CREATED, out)
