from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from cocap.backup import backup_create


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into one .tar.gz (see cocap/backup.py)."

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", help="archive path; default backups/cocap-YYYYmmdd-HHMMSS.tar.gz")

    def handle(self, *args, target=None, **options):
        path = Path(target or f"backups/cocap-{timezone.now():%Y%m%d-%H%M%S}.tar.gz")
        manifest = backup_create(path)
        rows = sum(manifest["counts"].values())
        self.stdout.write(f"Backed up {rows} rows and {len(manifest['files'])} files to {path}.")
