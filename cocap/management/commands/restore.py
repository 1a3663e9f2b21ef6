from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cocap.backup import RestoreError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup made by `backup` into an empty, migrated database and its media folder."

    def add_arguments(self, parser):
        parser.add_argument("source", help="the .tar.gz written by `manage.py backup`")

    def handle(self, *args, source, **options):
        try:
            manifest = backup_restore(Path(source))
        except RestoreError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["counts"].values())
        self.stdout.write(f"Restored {rows} rows and {len(manifest['files'])} files, every one checked.")
