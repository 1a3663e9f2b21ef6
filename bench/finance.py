"""Finance with 100,000 expenses: the overview page (time, queries), the XLSX statement and the CSV (time, peak memory).

Run: .venv/bin/python -m bench.finance [COUNT]

Measured on the 2-core shared machine, 100,000 expenses, two runs each (issue 12 item 7), before -> after:

| | SQLite | PostgreSQL 15, straight after the bulk insert (not analysed) |
|---|---|---|
| overview, median | 766, 1018 ms -> 126, 189 ms; 23 -> 18 queries | 893, 591 ms -> 309, 369 ms; 22 -> 17 queries |
| expense list, median | 127, 140 ms -> 45, 49 ms; 9 queries | 480, 463 ms -> 322, 296 ms; 8 queries |
| XLSX statement | 8.4, 10.4 s -> 2.0, 3.8 s | 13.7, 7.2 s -> 2.0, 2.0 s |
| XLSX peak Python memory | 3.5 -> 2.9 MiB | 3.5 -> 3.5 MiB |

The SQLite run of 189 ms and 3.8 s ran while other work loaded the machine (the CSV took 4.0 s instead
of 2.2 s). PostgreSQL, without statistics on the new rows, sorts the overview's 100,000 rows on disk to group them and
joins every row before picking the list's page; once the table is analysed (autovacuum soon does it) the overview
took about 240 ms and the list about 200 ms.
"""

import datetime
import json
import sys
from decimal import Decimal

from bench.harness import load_cocap_demo, peak_mib, setup_django, time_request, timed


def add_expenses(project, count):
    """Bulk-create `count` expenses spread over partners, headings, months and statuses."""
    from django.contrib.auth import get_user_model

    from finance.models import CostCategory, Expenditure
    from partners.models import add_months

    partners = list(project.partners.all())
    categories = list(CostCategory.objects.all())
    activities = list(project.activities.all())
    author = get_user_model().objects.get(username="demo-veneto")
    reviewer = get_user_model().objects.get(username="demo-director")
    statuses = ["verified", "verified", "submitted", "draft", "returned", "rejected"]
    batch = []
    for index in range(count):
        status = statuses[index % len(statuses)]
        amount = Decimal(10 + index % 990) + Decimal(index % 100) / 100
        batch.append(
            Expenditure(
                partner=partners[index % len(partners)],
                category=categories[index % len(categories)],
                activity=activities[index % len(activities)],
                date_incurred=add_months(project.start_date, index % 10) + datetime.timedelta(days=index % 27),
                description=f"Bench expense {index}",
                supplier="Bench supplier",
                document_ref=f"B-{index}",
                amount=amount,
                currency="EUR",
                exchange_rate=Decimal("1"),
                amount_eur=amount,
                status=status,
                author=author,
                reviewer=reviewer if status not in ("draft", "submitted") else None,
            )
        )
        if len(batch) == 5000:
            Expenditure.objects.bulk_create(batch)
            batch = []
    Expenditure.objects.bulk_create(batch)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from finance.models import Expenditure

    project = load_cocap_demo()
    _, seconds = timed(lambda: add_expenses(project, count))
    results = {"expenses": Expenditure.objects.count(), "insert_seconds": seconds}
    client = Client()
    client.force_login(get_user_model().objects.get(username="demo-director"))
    results["overview"] = time_request(client, "/finance/", repeat=15)
    results["expense list"] = time_request(client, "/expenses/", repeat=15)
    if connection.vendor == "postgresql":
        # Autovacuum processes a table that grew this much within a minute or two (PostgreSQL 13 and later vacuum
        # tables that are only inserted into as well): measure what users get from then on too.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        results["after VACUUM ANALYZE"] = {
            "overview": time_request(client, "/finance/", repeat=15),
            "expense list": time_request(client, "/expenses/", repeat=15),
        }

    def statement():
        return client.get("/finance/statement.xlsx").content

    content, seconds = timed(statement)
    results["statement.xlsx"] = {"seconds": seconds, "bytes": len(content), "peak_mib": peak_mib(statement)}

    def expense_csv():
        return b"".join(client.get("/expenses/export.csv").streaming_content)

    content, seconds = timed(expense_csv)
    results["expenses.csv"] = {"seconds": seconds, "bytes": len(content), "peak_mib": peak_mib(expense_csv)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
