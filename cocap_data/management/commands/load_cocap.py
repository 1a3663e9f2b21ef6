import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cocap_data.demo import DEMO_PASSWORD, cocap_load_demo
from cocap_data.seed import cocap_load


class Command(BaseCommand):
    help = "Load the COCAP project from its description; with --demo, add demo partners, users and records."

    def add_arguments(self, parser):
        parser.add_argument(
            "--start-date",
            type=datetime.date.fromisoformat,
            default=settings.COCAP_START_DATE,
            help="Project start date, YYYY-MM-DD (default: the COCAP_START_DATE setting). Used on first load only.",
        )
        parser.add_argument("--demo", action="store_true", help="Also create demo data (refused unless DEBUG is on).")

    def handle(self, *args, start_date, demo, **options):
        if demo and not settings.DEBUG:
            raise CommandError("Demo data is only loaded with DEBUG on: never on a production database.")
        project = cocap_load(start_date=start_date)
        self.stdout.write(
            self.style.SUCCESS(
                f"{project}: {project.activities.count()} activities, "
                f"{project.activities.values('actions').count()} actions, "
                f"{project.start_date} – {project.end_date}."
            )
        )
        if demo:
            logins = cocap_load_demo(project=project)
            self.stdout.write(self.style.WARNING("Demo data loaded. Demo logins (password: %s):" % DEMO_PASSWORD))
            for username, role in logins.items():
                self.stdout.write(f"  {username:<18} {role}")
