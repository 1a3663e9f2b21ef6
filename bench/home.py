"""Home page of the COCAP portal: time and queries with the demo data, then with 10x and 100x the records."""

import json

from bench.harness import load_cocap_demo, measure, setup_django, time_request


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
    client = Client()
    client.force_login(get_user_model().objects.get(username="demo-director"))
    for step in range(3):
        if step:
            grow(project, 10)
        rows = ProgressEntry.objects.count(), Expenditure.objects.count()
        results[f"home, {rows[0]} entries, {rows[1]} expenses"] = time_request(client, "/")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
