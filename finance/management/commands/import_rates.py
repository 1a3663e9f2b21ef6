import csv

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from finance.services import exchange_rates_import, exchange_rates_read_csv


class Command(BaseCommand):
    help = (
        "Import the Commission's monthly accounting rates from a CSV file with the columns currency, month "
        "(YYYY-MM) and rate (units per EUR). Re-runnable: unchanged rates are left alone, and all rows load or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file with a header row: currency,month,rate")

    def handle(self, *args, path, **options):
        try:
            rows = exchange_rates_read_csv(path)
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        except csv.Error as error:
            raise CommandError(f"{path} is not a CSV file of currency, month, rate: {error}") from error
        try:
            report = exchange_rates_import(actor=None, rows=rows)
        except ValidationError as error:
            raise CommandError("Nothing imported:\n" + "\n".join(error.messages)) from error
        for rate in report.created:
            self.stdout.write(f"  new      {rate.currency} {rate.month:%Y-%m} {rate.rate}")
        for rate, previous in report.updated:
            self.stdout.write(f"  changed  {rate.currency} {rate.month:%Y-%m} {previous} -> {rate.rate}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.created)} new, {len(report.updated)} changed, {report.unchanged} unchanged. "
                "Expenses already submitted or verified keep the rate stored on them."
            )
        )
