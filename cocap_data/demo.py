"""Demo data for trying the portal: invented partners, users, budget split, progress and expenses.

Everything here is made up and marked as such (organisations carry `is_demo`, users are `demo-*`).
The four organisations are those publicly reported for COCAP, unverified; their roles, budgets and
records are invented.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from activities import services as activity_services
from activities.models import Action, Activity, Objective, Result
from core.uploads import upload_check
from finance import services as finance_services
from finance.models import BudgetLine, ContingencyAuthorisation, CostCategory, EUPayment, ExchangeRate, Expenditure
from partners.models import Membership, Organisation, Partner, Project, add_months

DEMO_PASSWORD = "cocap-demo-2026"

# (username key, organisation fields, currency, share of the budget)
DEMO_PARTNERS = [
    (
        "sanjuan",
        {
            "name": "Provincia de San Juan",
            "short_name": "San Juan",
            "country": "AR",
            "kind": "state",
            "city": "San Juan",
        },
        "ARS",
        Decimal("0.17"),
    ),
    (
        "riogrande",
        {
            "name": "Estado do Rio Grande do Sul",
            "short_name": "Rio Grande do Sul",
            "country": "BR",
            "kind": "state",
            "city": "Porto Alegre",
        },
        "BRL",
        Decimal("0.17"),
    ),
    (
        "misiones",
        {
            "name": "Departamento de Misiones",
            "short_name": "Misiones",
            "country": "PY",
            "kind": "department",
            "city": "San Juan Bautista",
        },
        "PYG",
        Decimal("0.16"),
    ),
    (
        "fondazione",
        {
            "name": "Fondazione di Venezia",
            "short_name": "Fond. Venezia",
            "country": "IT",
            "kind": "foundation",
            "city": "Venezia",
        },
        "EUR",
        Decimal("0.10"),
    ),
]
LEAD_SHARE = Decimal("0.40")

# Share of each partner's budget by Annex III line: direct headings 1-6, a contingency reserve (8) within 5 % of
# them, and indirect costs (10) within 7 % of both.
HEADING_SHARES = {
    1: Decimal("0.40"),
    2: Decimal("0.18"),
    3: Decimal("0.12"),
    4: Decimal("0.08"),
    5: Decimal("0.12"),
    6: Decimal("0.03"),
    8: Decimal("0.01"),
    10: Decimal("0.06"),
}

# Planned months of each activity (invented: the seed gives none) and its leader's key.
SCHEDULE = {
    1: (1, 9, "sanjuan"),
    2: (3, 30, "lead"),
    3: (4, 24, "lead"),
    4: (7, 24, "lead"),
    5: (10, 30, "riogrande"),
    6: (12, 30, "misiones"),
    7: (13, 33, "riogrande"),
    8: (13, 33, "fondazione"),
    9: (1, 36, "lead"),
    10: (1, 36, "lead"),
}

# Units per EUR in the project's first month, and the monthly drift (invented).
RATES = {
    "ARS": (Decimal("1450.00"), Decimal("1.020")),
    "BRL": (Decimal("6.3000"), Decimal("1.002")),
    "PYG": (Decimal("8200.00"), Decimal("1.003")),
    "UYU": (Decimal("46.500"), Decimal("1.004")),
}

# Typical expense by heading, in EUR; converted to each partner's currency.
EXPENSES = [
    (1, "Compenso coordinatore locale", "Staff", Decimal("2400.00")),
    (2, "Missione a Venezia per il seminario", "Aerolíneas", Decimal("1380.50")),
    (3, "Computer portatile per l'osservatorio", "Tecno SRL", Decimal("845.99")),
    (4, "Affitto ufficio di progetto", "Inmobiliaria Centro", Decimal("600.00")),
    (5, "Traduzione materiali del corso", "Traducciones SA", Decimal("420.00")),
    (2, "Trasferimento per stage applicativo", "Viajes Sur", Decimal("310.25")),
]


@transaction.atomic
def cocap_load_demo(*, project: Project, today: datetime.date | None = None) -> dict[str, str]:
    """Add the demo partnership to `project`; return the demo logins (username -> role)."""
    today = today or timezone.localdate()
    lead = project.partners.get(role=Partner.Role.LEAD)
    partners = {"lead": lead}
    for key, org_fields, currency, _share in DEMO_PARTNERS:
        organisation, _ = Organisation.objects.get_or_create(
            name=org_fields["name"], defaults={**org_fields, "is_demo": True}
        )
        partners[key], _ = Partner.objects.get_or_create(
            project=project, organisation=organisation, defaults={"currency": currency}
        )
    _plan_activities(project, partners)
    _plan_results(project)
    _split_budget(project, partners)
    _load_rates(project, today)
    logins = _create_users(project, partners)
    users = {username: get_user_model().objects.get(username=username) for username in logins}
    _record_progress(project, partners, users, today)
    _declare_expenses(project, partners, users, today)
    _spend_contingency(project, lead, users, today)
    _record_pre_financing(project, users)
    return logins


def _plan_activities(project, partners):
    for activity in project.activities.prefetch_related("actions"):
        start, end, leader_key = SCHEDULE[activity.number]
        activity.start_month, activity.end_month = start, end
        activity.leader = partners[leader_key]
        activity.full_clean()
        activity.save()
        activity.participants.set(partners.values())
        actions = list(activity.actions.all())
        keys = list(partners)
        span = end - start + 1
        for index, action in enumerate(actions):
            action.start_month = start + index * span // (len(actions) + 1)
            action.end_month = min(end, start + (index + 2) * span // (len(actions) + 1) - 1)
            action.responsible = partners[keys[(keys.index(leader_key) + index) % len(keys)]]
            action.full_clean()
            action.save()


# (specific objective number, result number, text, activity numbers): the description gives no expected result.
DEMO_RESULTS = [
    (1, 1, "(demo) Rete permanente di istituzioni e territori attiva", [1, 2, 3]),
    (2, 1, "(demo) Agenti locali formati e progetti pilota avviati nei distretti", [4, 5, 6, 7, 8]),
]


def _plan_results(project):
    for objective_number, number, text, activity_numbers in DEMO_RESULTS:
        objective = project.objectives.get(kind=Objective.Kind.SPECIFIC, number=objective_number)
        result, _ = Result.objects.get_or_create(objective=objective, number=number, defaults={"text": text})
        project.activities.filter(number__in=activity_numbers, result=None).update(result=result)


def _split_budget(project, partners):
    budget = project.budgets.get(is_current=True)
    if budget.lines.exists():
        return
    categories = {category.code: category for category in CostCategory.objects.all()}
    shares = {"lead": LEAD_SHARE} | {key: share for key, _org, _cur, share in DEMO_PARTNERS}
    lines = []
    for key, share in shares.items():
        for code, heading_share in HEADING_SHARES.items():
            amount = (budget.total_eligible_cost * share * heading_share).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            lines.append(BudgetLine(budget=budget, partner=partners[key], category=categories[code], amount=amount))
    # Rounding leaves a few cents; the lead partner's staff line absorbs them so the split is exact.
    lines[0].amount += budget.total_eligible_cost - sum(line.amount for line in lines)
    for line in lines:
        line.full_clean()
    BudgetLine.objects.bulk_create(lines)


def _months(project, today):
    month = project.start_date.replace(day=1)
    last = min(today, project.end_date)
    while month <= last:
        yield month
        month = add_months(month, 1)


def _load_rates(project, today):
    for currency, (first, drift) in RATES.items():
        for index, month in enumerate(_months(project, today)):
            rate = (first * drift**index).quantize(Decimal("0.000001"))
            ExchangeRate.objects.get_or_create(currency=currency, month=month, defaults={"rate": rate})


def _create_users(project, partners):
    User = get_user_model()
    logins = {}

    def user(username, first_name, role=None, partner=None, **flags):
        # A reserved domain: the demo's console mail backend shows the mail, nobody receives it.
        email = f"{username}@example.invalid"
        account, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "last_name": "(demo)", "email": email, **flags}
        )
        if created:
            account.set_password(DEMO_PASSWORD)
            account.save()
        elif not account.email:
            # A demo loaded before its users had addresses gets them now, so that its mail flows too.
            account.email = email
            account.save(update_fields=["email"])
        if role:
            Membership.objects.get_or_create(user=account, project=project, defaults={"role": role, "partner": partner})
        logins[username] = str(partner) if partner else (role or "administrator")

    user("demo-admin", "Amministratore", is_staff=True, is_superuser=True)
    user("demo-director", "Direttore operativo", Membership.Role.DIRECTOR)
    user("demo-observer", "Comitato tecnico-scientifico", Membership.Role.OBSERVER)
    for key, partner in partners.items():
        name = "veneto" if key == "lead" else key
        user(f"demo-{name}", str(partner), Membership.Role.PARTNER_STAFF, partner)
    return logins


def _staff_of(users, partner):
    return next(
        u for u in users.values() if u.memberships.filter(partner=partner, role=Membership.Role.PARTNER_STAFF).exists()
    )


def _record_progress(project, partners, users, today):
    if project.partners.filter(progress_entries__isnull=False).exists():
        return
    director = users["demo-director"]
    elapsed = project.elapsed_months(today)
    actions = Action.objects.filter(activity__project=project, start_month__lte=elapsed).select_related(
        "activity", "responsible"
    )
    for index, action in enumerate(actions):
        staff = _staff_of(users, action.responsible)
        months_in = min(elapsed, action.end_month) - action.start_month + 1
        span = action.end_month - action.start_month + 1
        percent = min(100, round(100 * months_in / span * (0.6 + 0.1 * (index % 5))))
        # Dated within the action's planned months, so that the Gantt chart shows reports where work was planned.
        month = min(elapsed, action.end_month)
        day = min(today, add_months(project.start_date, month - 1) + datetime.timedelta(days=index % 20))
        values = {}
        if action.activity.number == 4:
            values = {indicator: Decimal(min(20, 2 * months_in)) for indicator in action.activity.indicators.all()}
        entry = activity_services.progress_entry_create(
            actor=staff,
            action=action,
            date=day,
            percent_complete=percent,
            narrative=f"[demo] Stato dell'azione {action.code} al {day:%d/%m/%Y}: lavori in corso.",
            indicator_values=values,
        )
        outcome = index % 6
        if outcome == 5:
            continue  # left as a draft
        activity_services.progress_entry_submit(actor=staff, entry=entry)
        if outcome == 4:
            activity_services.progress_entry_return(
                actor=director, entry=entry, note="[demo] Allegare il foglio presenze del seminario."
            )
        elif outcome != 3:
            activity_services.progress_entry_approve(actor=director, entry=entry)


# A one-page PDF that says it is a demo receipt: every submitted expense needs one.
DEMO_RECEIPT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 150]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 45>>stream\nBT /F1 18 Tf 40 70 Td (Ricevuta [demo]) Tj ET\nendstream endobj\n"
    b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _demo_receipt(index: int):
    name = f"ricevuta-demo-{index + 1:03d}.pdf"
    return upload_check(SimpleUploadedFile(name, DEMO_RECEIPT, content_type="application/pdf"))


def _declare_expenses(project, partners, users, today):
    if project.partners.filter(expenditures__isnull=False).exists():
        return
    director = users["demo-director"]
    categories = {category.code: category for category in CostCategory.objects.all()}
    elapsed = project.elapsed_months(today)
    activities = list(Activity.objects.filter(project=project, start_month__lte=max(elapsed, 1)))
    for p_index, partner in enumerate(partners.values()):
        staff = _staff_of(users, partner)
        for index, (code, description, supplier, amount_eur) in enumerate(EXPENSES):
            month = (index * 2 + p_index) % max(elapsed, 1)
            day = min(today, add_months(project.start_date, month) + datetime.timedelta(days=3 + index))
            rate = finance_services.exchange_rate_get(currency=partner.currency, day=day)
            expenditure = finance_services.expenditure_create(
                actor=staff,
                partner=partner,
                category=categories[code],
                activity=activities[(index + p_index) % len(activities)],
                date_incurred=day,
                description=f"[demo] {description}",
                supplier=supplier,
                document_ref=f"DEMO-{p_index + 1}-{index + 1:03d}",
                amount=(amount_eur * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                receipts=[_demo_receipt(index)],
            )
            outcome = (index + p_index) % 5
            if outcome == 4:
                continue
            finance_services.expenditure_submit(actor=staff, expenditure=expenditure)
            if outcome in (0, 1):
                finance_services.expenditure_verify(
                    actor=director, expenditure=expenditure, checklist=Expenditure.CHECKLIST
                )
            elif outcome == 2:
                finance_services.expenditure_return(
                    actor=director, expenditure=expenditure, note="[demo] Manca la fattura quietanzata."
                )


def _spend_contingency(project, lead, users, today):
    """An authorisation to use the contingency reserve (invented) and an expense the lead partner makes on it."""
    day = min(today, project.start_date + datetime.timedelta(days=60))
    if ContingencyAuthorisation.objects.filter(partner=lead, reference="DEMO-AUT-001").exists():
        return
    authorisation = ContingencyAuthorisation(
        partner=lead,
        reference="DEMO-AUT-001",
        amount=Decimal("5000.00"),
        authorised_on=day,
        authorised_by="[demo] Delegazione dell'Unione europea",
        note="[demo] Riparazione urgente delle attrezzature dell'osservatorio",
        recorded_by=users["demo-admin"],
    )
    authorisation.full_clean()
    authorisation.save()
    staff = _staff_of(users, lead)
    expenditure = finance_services.expenditure_create(
        actor=staff,
        partner=lead,
        category=CostCategory.objects.get(kind=CostCategory.Kind.CONTINGENCY),
        date_incurred=day,
        description="[demo] Riparazione urgente delle attrezzature",
        supplier="Tecno SRL",
        document_ref="DEMO-1-CNT",
        amount=Decimal("1200.00"),
        receipts=[_demo_receipt(0)],
    )
    finance_services.expenditure_submit(actor=staff, expenditure=expenditure)
    finance_services.expenditure_verify(
        actor=users["demo-director"], expenditure=expenditure, checklist=Expenditure.CHECKLIST
    )


def _record_pre_financing(project, users):
    """The first pre-financing tranche, paid on signature (invented amount: 30 % of the EU contribution)."""
    if project.eu_payments.exists():
        return
    budget = project.budgets.get(is_current=True)
    finance_services.eu_payment_record(
        actor=users["demo-director"],
        project=project,
        kind=EUPayment.Kind.PRE_FINANCING,
        received_on=project.start_date,
        amount=(budget.eu_contribution * Decimal("0.30")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        note="[demo] Prefinanziamento alla firma del contratto",
    )
