import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation


def _catalogue(language: str) -> list[dict]:
    """Parse the language's django.po into entries: flags, msgid, msgstr (or msgstr[n]), obsolete ones left out."""
    text = Path(settings.BASE_DIR, "locale", language, "LC_MESSAGES", "django.po").read_text()
    entries = []
    for block in text.split("\n\n")[1:]:
        if "msgid" not in block or block.lstrip().startswith("#~"):
            continue
        entry, key = {"fuzzy": "#, fuzzy" in block or ", fuzzy" in block}, None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgctxt|msgstr(?:\[\d\])?) (".*")$', line)
            if match:
                key = match.group(1)
                entry[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                entry[key] += ast.literal_eval(line)
        entries.append(entry)
    return entries


@pytest.mark.parametrize("language", ["it", "es", "pt"])
def test_every_message_is_translated(language):
    problems = [
        e["msgid"]
        for e in _catalogue(language)
        if e["fuzzy"] or not all(v for k, v in e.items() if k.startswith("msgstr"))
    ]
    assert problems == []


@pytest.mark.parametrize("language", ["it", "es", "pt"])
def test_compiled_catalogue_serves_the_source_translations(language):
    singular = [e for e in _catalogue(language) if "msgid_plural" not in e and "msgctxt" not in e and e["msgid"]]
    with translation.override(language):
        served = {e["msgid"]: translation.gettext(e["msgid"]) for e in singular}
    assert served == {e["msgid"]: e["msgstr"] for e in singular}


def test_every_template_message_is_in_the_catalogue():
    """makemessages reads every kind of template the portal has: an SVG chart's labels are translated too."""
    msgids = {e["msgid"] for e in _catalogue("it")}
    translate = re.compile(r"""\{% translate (["'])(.+?)\1""")
    missing = []
    for path in Path(settings.BASE_DIR).rglob("templates/**/*"):
        if ".venv" in path.parts or not path.is_file() or path.suffix not in (".html", ".txt", ".svg"):
            continue
        for _quote, text in translate.findall(path.read_text()):
            # makemessages writes a template's "%" as "%%".
            if text not in msgids and text.replace("%", "%%") not in msgids:
                missing.append(f"{path.name}: {text}")
    assert missing == []


# An expense is "spesa" and "despesa", a SAL "SAL" and "relatório", a contribution "contributo" and "contribuição":
# each status agrees with its record's noun.
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "it",
            {
                "expense": ["Bozza", "Inviata", "Verificata", "Respinta", "Restituita"],
                "entry": ["Bozza", "Inviata", "Approvata", "Restituita"],
                "report": ["Bozza", "Approvato"],
                "contribution": ["Bozza", "Inviato", "Accettato", "Restituito"],
                "timesheet": ["Bozza", "Dichiarato", "Restituito", "Verificato", "Respinto"],
            },
        ),
        (
            "pt",
            {
                "expense": ["Rascunho", "Enviada", "Verificada", "Rejeitada", "Devolvida"],
                "entry": ["Rascunho", "Enviado", "Aprovado", "Devolvido"],
                "report": ["Rascunho", "Aprovado"],
                "contribution": ["Rascunho", "Enviada", "Aceita", "Devolvida"],
                "timesheet": ["Rascunho", "Declarada", "Devolvida", "Verificada", "Rejeitada"],
            },
        ),
        (
            "es",
            {
                "expense": ["Borrador", "Enviado", "Verificado", "Rechazado", "Devuelto"],
                "entry": ["Borrador", "Enviado", "Aprobado", "Devuelto"],
                "report": ["Borrador", "Aprobado"],
                "contribution": ["Borrador", "Enviado", "Aceptado", "Devuelto"],
                "timesheet": ["Borrador", "Declarada", "Devuelta", "Verificada", "Rechazada"],
            },
        ),
    ],
)
def test_each_status_agrees_with_the_noun_of_its_record(language, expected):
    from activities.models import ProgressEntry
    from finance.models import Expenditure, Timesheet
    from reports.models import PartnerContribution, ProgressReport

    choices = {
        "expense": Expenditure.Status,
        "entry": ProgressEntry.Status,
        "report": ProgressReport.Status,
        "contribution": PartnerContribution.Status,
        "timesheet": Timesheet.State,
    }
    with translation.override(language):
        assert {name: [str(label) for label in status.labels] for name, status in choices.items()} == expected
