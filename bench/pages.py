"""The portal's pages: time and queries with the demo data, then with 10x and 100x the records."""

import json

from bench.harness import load_cocap_demo, measure, setup_django, time_request

PAGES = [
    ("demo-director", "/"),
    ("demo-director", "/overview/"),
    ("demo-director", "/activities/"),
    ("demo-director", "/activities/4/"),
    ("demo-director", "/progress/"),
    ("demo-director", "/progress/review/"),
    ("demo-sanjuan", "/"),
    ("demo-sanjuan", "/progress/"),
]


def grow(project, factor):
    """Multiply the project's progress entries and expenses by `factor`, copying them in bulk."""
    from activities.models import ProgressEntry
    from finance.models import Expenditure

    entries = list(ProgressEntry.objects.filter(action__activity__project=project))
    expenses = list(Expenditure.objects.filter(partner__project=project))
    for _ in range(factor - 1):
        for record in entries + expenses:
            record.pk = None
        ProgressEntry.objects.bulk_create(entries)
        Expenditure.objects.bulk_create(expenses)


def main():
    setup_django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from activities.models import ProgressEntry
    from finance.models import Expenditure

    results = {}
    with measure("load_cocap --demo", results):
        project = load_cocap_demo()
    users = get_user_model().objects
    clients = {}
    for username in ("demo-director", "demo-sanjuan"):
        clients[username] = Client()
        clients[username].force_login(users.get(username=username))
    for step in range(3):
        if step:
            grow(project, 10)
        rows = f"{ProgressEntry.objects.count()} entries, {Expenditure.objects.count()} expenses"
        for username, url in PAGES:
            results[f"{url} as {username}, {rows}"] = time_request(clients[username], url)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
