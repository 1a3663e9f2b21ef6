from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = "Create the PostgreSQL database named in DATABASE_URL when it does not exist yet (SQLite needs nothing)."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            return
        import psycopg2
        from psycopg2 import sql

        settings = connection.settings_dict
        server = psycopg2.connect(
            dbname="postgres",
            user=settings["USER"] or None,
            password=settings["PASSWORD"] or None,
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
        )
        server.autocommit = True
        try:
            with server.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]])
                if cursor.fetchone():
                    return
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"])))
                self.stdout.write(f"Created the database {settings['NAME']}.")
        finally:
            server.close()
