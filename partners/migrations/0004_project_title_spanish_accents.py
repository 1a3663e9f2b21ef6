"""Restore the accents of COCAP's Spanish title in databases loaded before the seed had them back.

The project description's transcription lost them; the first loader copied it as it was. Only that exact
text is replaced, so a title someone edited is left alone.
"""

from django.db import migrations

WITHOUT_ACCENTS = (
    "Cohesion social a traves del fortalecimiento de las Cadenas Productivas: desarrollo de metodos "
    "permanentes de accion colectiva en los sistemas regionales de Paises del Mercosur"
)
WITH_ACCENTS = (
    "Cohesión social a través del fortalecimiento de las Cadenas Productivas: desarrollo de métodos "
    "permanentes de acción colectiva en los sistemas regionales de Países del Mercosur"
)


def restore_accents(apps, schema_editor):
    Project = apps.get_model("partners", "Project")
    Project.objects.filter(code="cocap", title=WITHOUT_ACCENTS).update(title=WITH_ACCENTS)


class Migration(migrations.Migration):
    dependencies = [("partners", "0003_project_contract_and_assumptions")]

    operations = [migrations.RunPython(restore_accents, migrations.RunPython.noop)]
