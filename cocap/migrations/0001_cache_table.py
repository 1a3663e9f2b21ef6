"""Create the database cache table of settings.CACHES (the rate limits), as `manage.py createcachetable` does."""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_tables(apps, schema_editor):
    existing = set(schema_editor.connection.introspection.table_names())
    for cache in settings.CACHES.values():
        if cache["BACKEND"].endswith("DatabaseCache") and cache["LOCATION"] in existing:
            schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(cache['LOCATION'])}")


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_tables, drop_cache_tables)]
