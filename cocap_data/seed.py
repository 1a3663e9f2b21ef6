"""The COCAP project as its original description (a short Italian web page) gives it.

Only facts from that text are loaded as real data: the project, its lead partner, the ten
activities and their actions, the numbers it states, the direction structure and the budget.
"""

import datetime
from decimal import Decimal

from django.db import transaction

from activities.models import Action, Activity, Indicator, Objective, TargetGroup
from finance.annex import HEADINGS
from finance.models import Budget, CostCategory
from partners.models import GoverningBody, Organisation, Partner, Project, add_months
from reports.models import ReportingPeriod

PROJECT = {
    "code": "cocap",
    "title": (
        # The description's transcription lost the Spanish accents (as it garbled "è" and "ù"); restored here.
        "Cohesión social a través del fortalecimiento de las Cadenas Productivas: desarrollo de métodos "
        "permanentes de acción colectiva en los sistemas regionales de Países del Mercosur"
    ),
    "programme": "URB-AL III",
    "duration_months": 36,
    # The description names the Mercosur countries' regional systems and the Veneto; no contract number.
    "region": "Paesi del Mercosur (America Latina) e Regione del Veneto (Italia)",
    # It gives neither the start date nor the months of each activity: both stay assumptions until confirmed.
    "start_date_confirmed": False,
    "schedule_confirmed": False,
    "description": (
        "Il progetto si propone di rafforzare, nei territori dell'America Latina interessati, la coesione "
        "sociale attraverso il miglioramento delle catene produttive delle piccole e medie imprese, mediante: "
        "il rafforzamento del vincolo fra le istituzioni ed il territorio; lo sviluppo del capitale sociale "
        "attraverso le politiche di sviluppo locale delle PMI, tenendo conto del modello innovativo realizzato "
        "nel Veneto."
    ),
}

LEAD_PARTNER = {
    "name": "Regione del Veneto",
    "short_name": "Veneto",
    "country": "IT",
    "kind": Organisation.Kind.REGION,
    "city": "Venezia",
}

TOTAL_ELIGIBLE_COST = Decimal("3087005.13")
EU_CONTRIBUTION = Decimal("2469604.10")

OPERATIVE, TRANSVERSAL = Activity.Kind.OPERATIVE, Activity.Kind.TRANSVERSAL

# (number, kind, title, description, actions)
ACTIVITIES = [
    (
        1,
        OPERATIVE,
        "Aggiornamento informativo sul sistema locale",
        "Raccolta di informazioni riguardanti la politica di sviluppo locale, con particolare riguardo a quelle "
        "orientate alla creazione di capitale sociale, alle politiche dell'impiego (compresa la formazione) e al "
        "miglioramento delle filiere produttive e delle micro e piccole imprese che vi partecipano.",
        [
            "analisi territoriale - analisi di contesto",
            "valutazione del materiale disponibile",
            "comparazione delle realtà delle diverse aree attraverso differenti forme",
            "istituzione di un osservatorio comune di distretto",
        ],
    ),
    (
        2,
        OPERATIVE,
        "Creazione di una rete permanente tra i partners",
        "Creazione di una comunità di lavoro in rete permanente, con l'identificazione precisa sia degli attori "
        "coinvolti che delle modalità di gestione delle informazioni generate dalla rete, utilizzando le "
        "opportunità offerte dalla tecnologia per attivare forme innovative di raccolta e condivisione dei dati.",
        [
            "Identificazione dei focus group",
            "Disegno di un portale condiviso e modalità comune di gestione",
            "Scambio permanente di buone pratiche",
            "Programma formativo nella gestione delle conoscenze",
        ],
    ),
    (
        3,
        OPERATIVE,
        "Elaborazione di un modello condiviso di politiche di sviluppo territoriale",
        "Elaborazione di un modello condiviso di governance delle politiche di sviluppo territoriale, partendo "
        "dall'analisi del modello di sviluppo del Veneto, basato sui distretti produttivi.",
        [
            "Seminari di presentazione del modello Veneto",
            "Seminari per la elaborazione di una metodologia di autopromozione dei distretti",
            "Creazione di un cantiere permanente per lo sviluppo di azioni collettive",
            "Programma formativo sulle buone pratiche di partecipazione sociale nel disegno dei distretti",
            "Disegno di politiche nazionali per lo sviluppo del capitale sociale sull'esperienza veneta",
            "Creazione di un sistema di scambi informativi tra i partners",
        ],
    ),
    (
        4,
        OPERATIVE,
        "Formazione di agenti locali per lo sviluppo dei distretti",
        "Formazione di agenti locali di sviluppo locale nei distretti, coinvolgendo imprenditori, esperti, centri "
        "di ricerca e scuole tecniche. La formazione avverrà attraverso corsi di formazione teorico-pratici e "
        'azioni di "tutoraggio" in Italia e si rivolgerà a 20 allievi.',
        [
            "corso di formazione per lo sviluppo dei management dei distretti",
            "project work",
            "stage applicativo in Veneto",
        ],
    ),
    (
        5,
        OPERATIVE,
        "Realizzazione di un laboratorio comune per lo sviluppo dei progetti",
        "Partendo dalla considerazione per cui il sistema produttivo delle regioni latinoamericane partner si "
        "caratterizza principalmente per PMI scarsamente aggregate tra loro, questa attività intende dare vita a "
        "un \"laboratorio\" comune per l'elaborazione di progetti che permettano l'innovazione del sistema "
        "industriale e aumentino la competitività a livello internazionale.",
        [
            "disegno del laboratorio",
            "realizzazione con attività di coaching e formazione continua",
        ],
    ),
    (
        6,
        OPERATIVE,
        "Sviluppo di un modello di logistica di distretto",
        "Un sistema logistico efficiente è presupposto necessario per la competitività del sistema produttivo. "
        "L'attività riguarderà quindi la progettazione di un modello di logistica di distretto (da applicare a uno "
        "o più casi pilota), la sua divulgazione e la realizzazione di seminari di formazione.",
        [
            "identificazione di uno o più casi pilota",
            "project work e seminari sulla diffusione della tematica con particolare riferimento "
            "all'intermodalità, al riutilizzo dei beni di consumo e all'uso dell'ICT",
            "formazione",
        ],
    ),
    (
        7,
        OPERATIVE,
        "Rafforzamento della collaborazione e dell'integrazione tra le imprese delle filiere produttive",
        "Attivazione di laboratori e gruppi di lavoro su progetti pilota di cooperazione indicativamente nelle "
        "filiere produttive agroalimentare e vitivinicola, nella protezione dell'ambiente e nel turismo.",
        [
            "identificazione di catene produttive comuni",
            "sviluppo di progetti pilota di collaborazione",
            "attività di interscambio di esperienze e formazione",
        ],
    ),
    (
        8,
        OPERATIVE,
        "sviluppo di un modello condiviso di finanza solidale di distretto",
        "I modelli di finanzia solidale/etica (microcredito, credito alle PMI, ecc.) saranno elaborati sulla base "
        "delle numerose esperienze presenti nel Veneto (CONFIDI). L'intento non è solo quello di formulare dei "
        "modelli teorici, ma anche di elaborare dei progetti pilota che accrescano l'accessibilità ai servizi "
        "finanziari e promuovano meccanismi di coesione locale.",
        [
            "presentazione degli strumenti finanziari del Veneto (Confidi) Fondi rotativi e Fondi di Investimento",
            "verifica dell'applicabilità degli strumenti nei Paesi coinvolti",
            "disegno di strumenti condivisi",
            "formazione di operatori presso strutture venete (confidi)",
        ],
    ),
    # The seed lists one horizontal item, "Direzione e monitoraggio del progetto", and counts it as two
    # transversal activities; its five tasks split into direction (9) and monitoring (10).
    (
        9,
        TRANSVERSAL,
        "Direzione del progetto",
        "La struttura di direzione comprende: un direttore istituzionale, un direttore operativo e backstopping locale",
        [
            "predisporre il piano operativo e finanziario con i partners del progetto",
            "individuare i profili professionali necessari",
            "coordinare le attività operative",
        ],
    ),
    (
        10,
        TRANSVERSAL,
        "Monitoraggio del progetto",
        "E' prevista la creazione di un comitato tecnico-scientifico per il supporto alle attività di direzione",
        [
            "monitorare l'avanzamento dei lavori predisponendo appositi stati di avanzamento lavori rispetto agli "
            "obiettivi",
            "garantire il monitoraggio finanziario (rendicontazione)",
        ],
    ),
]

# The logframe's objectives, word for word from the description's first paragraph ("Il progetto si propone
# di ..., mediante: ...; ..."): the overall objective is what the project sets out to do, and each of the two
# means it lists is a specific objective. Only the description's double space ("tenendo  conto") is single.
OVERALL_OBJECTIVE = (
    "rafforzare, nei territori dell'America Latina interessati, la coesione sociale attraverso il miglioramento "
    "delle catene produttive delle piccole e medie imprese"
)
SPECIFIC_OBJECTIVES = [
    "il rafforzamento del vincolo fra le istituzioni ed il territorio",
    "lo sviluppo del capitale sociale attraverso le politiche di sviluppo locale delle PMI, tenendo conto del "
    "modello innovativo realizzato nel Veneto",
]

# The description has no list of target groups; these are the groups it names as those the work is for,
# word for word: the SMEs of the overall objective, the firms of activity 1, the people activity 4 involves.
TARGET_GROUPS = [
    "piccole e medie imprese",
    "micro e piccole imprese",
    "imprenditori, esperti, centri di ricerca e scuole tecniche",
]

# (activity number, name, unit, target, cumulative): only where the seed states a number. Both count what
# was reached so far (agents trained, pilot cases started), so their latest value is what is achieved.
INDICATORS = [
    (4, "Allievi formati (agenti locali di sviluppo)", "allievi", Decimal("20"), True),
    (6, "Casi pilota di logistica di distretto", "casi pilota", Decimal("1"), True),
]

GOVERNING_BODIES = [
    ("Direttore istituzionale", GoverningBody.Kind.DIRECTION, ""),
    ("Direttore operativo", GoverningBody.Kind.DIRECTION, ""),
    ("Backstopping locale", GoverningBody.Kind.SUPPORT, ""),
    (
        "Comitato tecnico-scientifico",
        GoverningBody.Kind.COMMITTEE,
        "Per il supporto alle attività di direzione.",
    ),
]

REPORTING_PERIOD_MONTHS = 6
REPORT_DUE_DAYS = 60


@transaction.atomic
def cocap_load(*, start_date: datetime.date) -> Project:
    """Create the COCAP project and its plan; records already there are left as they are."""
    project, _ = Project.objects.get_or_create(code=PROJECT["code"], defaults={**PROJECT, "start_date": start_date})
    lead_org, _ = Organisation.objects.get_or_create(name=LEAD_PARTNER["name"], defaults=LEAD_PARTNER)
    lead, _ = Partner.objects.get_or_create(
        project=project, organisation=lead_org, defaults={"role": Partner.Role.LEAD, "currency": "EUR"}
    )
    for number, kind, title, description, actions in ACTIVITIES:
        activity, _ = Activity.objects.get_or_create(
            project=project,
            number=number,
            defaults={
                "kind": kind,
                "title": title,
                "description": description,
                "start_month": 1,
                "end_month": project.duration_months,
                "leader": lead if kind == TRANSVERSAL else None,
            },
        )
        for action_number, action_title in enumerate(actions, start=1):
            Action.objects.get_or_create(
                activity=activity,
                number=action_number,
                defaults={
                    "title": action_title,
                    "start_month": activity.start_month,
                    "end_month": activity.end_month,
                    "responsible": lead if kind == TRANSVERSAL else None,
                },
            )
    for activity_number, name, unit, target, cumulative in INDICATORS:
        Indicator.objects.get_or_create(
            activity=Activity.objects.get(project=project, number=activity_number),
            name=name,
            defaults={"unit": unit, "target": target, "cumulative": cumulative},
        )
    _load_logframe(project)
    for order, (name, kind, description) in enumerate(GOVERNING_BODIES, start=1):
        GoverningBody.objects.get_or_create(
            project=project, name=name, defaults={"kind": kind, "description": description, "order": order}
        )
    # The Annex III headings; the description says nothing of taxes, so line 12 is not added.
    for code, name, kind in HEADINGS:
        CostCategory.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
    if not project.budgets.exists():
        Budget.objects.create(
            project=project,
            version=1,
            label="Budget del contratto di sovvenzione",
            is_current=True,
            total_eligible_cost=TOTAL_ELIGIBLE_COST,
            eu_contribution=EU_CONTRIBUTION,
        )
    _load_reporting_periods(project)
    return project


def _load_logframe(project: Project):
    """Load the objectives and target groups, each a separate item; the description gives no expected results."""
    Objective.objects.get_or_create(
        project=project, kind=Objective.Kind.OVERALL, number=1, defaults={"text": OVERALL_OBJECTIVE}
    )
    for number, text in enumerate(SPECIFIC_OBJECTIVES, start=1):
        Objective.objects.get_or_create(
            project=project, kind=Objective.Kind.SPECIFIC, number=number, defaults={"text": text}
        )
    for number, name in enumerate(TARGET_GROUPS, start=1):
        TargetGroup.objects.get_or_create(project=project, number=number, defaults={"name": name})


def _load_reporting_periods(project: Project):
    count = -(-project.duration_months // REPORTING_PERIOD_MONTHS)
    for number in range(1, count + 1):
        start = add_months(project.start_date, (number - 1) * REPORTING_PERIOD_MONTHS)
        end = min(add_months(start, REPORTING_PERIOD_MONTHS) - datetime.timedelta(days=1), project.end_date)
        ReportingPeriod.objects.get_or_create(
            project=project,
            number=number,
            defaults={"start": start, "end": end, "due_date": end + datetime.timedelta(days=REPORT_DUE_DAYS)},
        )
