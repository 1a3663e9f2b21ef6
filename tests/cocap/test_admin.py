import datetime
import hashlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from activities.models import Evidence
from cocap_data.seed import cocap_load
from core.models import Notification
from finance import services as finance_services
from finance.models import (
    Budget,
    ContingencyAuthorisation,
    EUPayment,
    Expenditure,
    ProcurementContract,
    Receipt,
    StaffMember,
)
from partners.models import GoverningBody, Membership
from reports import tasks
from reports.models import (
    ContributionActivity,
    HeadingVariance,
    PartnerContribution,
    ProgressReport,
    ReportedExpenditure,
    ReportSection,
)
from tests.factories import ExchangeRateFactory, UserFactory, logframe_of
from tests.files import PDF
from tests.reports.conftest import sal_world  # noqa: F401  (the SAL's test project, as a fixture here too)

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name) for model in admin.site._registry if model._meta.app_label
)
# Records the admin may not add, each for a reason: the portal checks uploads by content, converts an expense at
# its month's rate, numbers and freezes SAL versions, and records on approval the expenses a SAL reports;
# django-axes and the task queue write their own logs.
NOT_ADDED_IN_ADMIN = {
    "activities.evidence",
    "finance.receipt",
    "finance.expenditure",
    "finance.timesheet",
    "reports.progressreport",
    "reports.reportedexpenditure",
    "reports.reportsection",
    "reports.headingvariance",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "django_tasks_database.dbtaskresult",
    "core.notification",
}


@pytest.fixture(autouse=True)
def _no_media_url(settings):
    """Serve no upload by URL, as in production: the test settings give one only to the browser tests' server."""
    settings.MEDIA_URL = None


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def cocap():
    return cocap_load(start_date=datetime.date(2026, 1, 1))


def test_every_domain_model_is_in_the_admin():
    labels = {app for app, _ in REGISTERED}
    assert {"partners", "activities", "finance", "reports"} <= labels


def test_change_pages_of_the_loaded_project_load(superuser_client, cocap):
    activity = cocap.activities.get(number=4)
    page = superuser_client.get(reverse("admin:activities_activity_change", args=[activity.pk]))
    assert page.status_code == 200
    assert "stage applicativo in Veneto" in page.content.decode()  # an action inline of activity 4
    budget = Budget.objects.get(project=cocap, is_current=True)
    assert superuser_client.get(reverse("admin:finance_budget_change", args=[budget.pk])).status_code == 200


def _budget_form(project, **fields):
    return {
        "project": project.pk,
        "version": 2,
        "total_eligible_cost": "100.00",
        "eu_max_rate": "0.8",
        "indirect_cap": "0.07",
        "flexibility_threshold": "0.15",
        "contingency_cap": "0.05",
        "rate_method": "month",
        "lines-TOTAL_FORMS": 0,
        "lines-INITIAL_FORMS": 0,
        **fields,
    }


def test_admin_shows_the_rule_and_saves_nothing_on_a_second_current_budget(superuser_client, cocap):
    response = superuser_client.post(
        reverse("admin:finance_budget_add"),
        _budget_form(cocap, is_current="on", eu_contribution="80.00"),
    )
    assert response.status_code == 200
    assert "The project already has a current budget." in response.content.decode()
    assert Budget.objects.filter(project=cocap).count() == 1


def test_admin_refuses_an_eu_contribution_over_the_rate(superuser_client, cocap):
    budget = Budget.objects.get(project=cocap)
    response = superuser_client.post(
        reverse("admin:finance_budget_add"),
        _budget_form(cocap, eu_contribution="80.01"),
    )
    assert "The EU contribution exceeds the EU maximum rate of the total." in response.content.decode()
    assert list(Budget.objects.filter(project=cocap)) == [budget]
    assert budget.eu_contribution == Decimal("2469604.10")


def test_admin_refuses_partner_staff_without_a_partner(superuser_client, cocap):
    user = UserFactory()
    response = superuser_client.post(
        reverse("admin:partners_membership_add"),
        {"user": user.pk, "project": cocap.pk, "role": Membership.Role.PARTNER_STAFF, "partner": ""},
    )
    assert "Partner staff need a partner; directors and observers have none." in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()


def test_admin_corrects_a_draft_sal_summary_and_cannot_touch_an_approved_one(superuser_client, cocap):
    from django.utils import timezone

    from reports.models import ProgressReport

    period1, period2 = cocap.reporting_periods.order_by("number")[:2]
    user = UserFactory()
    draft = ProgressReport.objects.create(period=period1, created_by=user, summary="Bozza")
    approved = ProgressReport.objects.create(
        period=period2,
        created_by=user,
        status="approved",
        snapshot={"schema": 1},
        approved_by=user,
        approved_at=timezone.now(),
        summary="Approvato",
    )
    url = reverse("admin:reports_progressreport_change", args=[draft.pk])
    response = superuser_client.post(url, {"summary": "Bozza corretta", "language": "it"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.summary, draft.revision) == ("Bozza corretta", 2)
    url = reverse("admin:reports_progressreport_change", args=[approved.pk])
    assert superuser_client.post(url, {"summary": "Riscritto", "language": "it"}).status_code == 403
    assert ProgressReport.objects.get(pk=approved.pk).summary == "Approvato"
    assert superuser_client.get(reverse("admin:reports_progressreport_add")).status_code == 403


def _stored(record, field, name):
    """Give `record` a stored PDF in `field` and save it: one history entry, as the portal makes."""
    getattr(record, field).save(name, ContentFile(PDF), save=False)
    record.save()
    return record


@pytest.fixture
def every_model(sal_world, superuser, settings):  # noqa: F811
    """The SAL test project, with files on an entry, an expense and an approved SAL, and a record of every model."""
    world = SimpleNamespace(**vars(sal_world))
    staff = world.staff
    world.evidence = _stored(
        Evidence(
            entry=world.highlight,
            original_name="presenze.pdf",
            content_type="application/pdf",
            size=len(PDF),
            uploaded_by=staff,
        ),
        "file",
        "a1b2.pdf",
    )
    world.expense = Expenditure.objects.filter(partner=world.sanjuan).first()
    world.receipt = _stored(
        Receipt(
            expenditure=world.expense,
            original_name="fattura.pdf",
            content_type="application/pdf",
            size=len(PDF),
            uploaded_by=staff,
        ),
        "file",
        "c3d4.pdf",
    )
    world.sal = _stored(
        ProgressReport(
            period=world.period1,
            created_by=world.director,
            status=ProgressReport.Status.APPROVED,
            snapshot={"schema": 1},
            approved_by=world.director,
            approved_at=timezone.now(),
            pdf_status=ProgressReport.PdfStatus.READY,
            pdf_sha256=hashlib.sha256(PDF).hexdigest(),
            pdf_pages=1,
        ),
        "pdf",
        "sal-cocap-1-v1.pdf",
    )
    world.draft_sal = ProgressReport.objects.create(period=world.period2, created_by=world.director)
    ReportSection.objects.create(report=world.draft_sal, kind=ReportSection.Kind.LESSONS, text="Lezioni apprese")
    HeadingVariance.objects.create(report=world.draft_sal, category=world.expense.category, explanation="Ritardi")
    ReportedExpenditure.objects.create(report=world.sal, expenditure=world.expense)
    GoverningBody.objects.create(project=world.project, name="Comitato tecnico-scientifico", kind="committee")
    logframe_of(world.project, activity=world.action.activity, recorded_by=world.director)
    contribution = PartnerContribution.objects.create(period=world.period1, partner=world.sanjuan, author=staff)
    ContributionActivity.objects.create(contribution=contribution, activity=world.action.activity, done="Seminari")
    member = StaffMember(
        partner=world.sanjuan,
        name="Lucía Gómez",
        function="Coordinadora",
        hourly_rate=Decimal("9500.00"),
        monthly_hours=Decimal("80.00"),
        valid_from=datetime.date(2026, 1, 1),
    )
    member.save()
    finance_services.timesheet_create(
        actor=staff, staff_member=member, month=datetime.date(2026, 3, 1), hours_by_action={world.action2: 12}
    )
    ExchangeRateFactory(currency="ARS", month=datetime.date(2026, 6, 1), rate=Decimal("1050.25"))
    EUPayment.objects.create(project=world.project, number=1, received_on=datetime.date(2026, 2, 1), amount=1000)
    ProcurementContract.objects.create(
        partner=world.sanjuan,
        reference="SJ-01",
        supplier="Consultora Andina",
        subject="Estudio de cadenas productivas",
        amount=Decimal("15000.00"),
        procedure=ProcurementContract.Procedure.LOCAL_OPEN,
        signed_on=datetime.date(2026, 3, 2),
        author=world.director,
    ).expenses.add(world.expense)
    ContingencyAuthorisation.objects.create(
        partner=world.lead,
        amount=Decimal("300.00"),
        reference="AUT-2026-01",
        authorised_on=datetime.date(2026, 2, 1),
        authorised_by="Delegazione UE",
        recorded_by=world.director,
    )
    Group.objects.create(name="Segreteria")
    TOTPDevice.objects.create(user=world.director, name="telefono")
    AccessAttempt.objects.create(
        username="ghost", ip_address="10.0.0.1", user_agent="ua", failures_since_start=2, get_data="", post_data=""
    )
    AccessLog.objects.create(username="root", ip_address="10.0.0.2", user_agent="ua")
    AccessFailureLog.objects.create(username="ghost", ip_address="10.0.0.1", user_agent="ua", locked_out=False)
    Notification.objects.create(
        recipient=world.director,
        actor=staff,
        verb=Notification.Verb.SUBMITTED,
        target=world.expense,
        summary="Biglietto aereo",
        link=reverse("finance:expense-detail", args=[world.expense.pk]),
    )
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    tasks.progress_report_render.enqueue(world.sal.pk)
    return world


class Pages:
    """Open admin pages as one user, count them and collect every one that does not answer as expected."""

    def __init__(self, client):
        self.client, self.opened, self.wrong = client, 0, []

    def open(self, url, expected=200):
        response = self.client.get(url)
        self.opened += 1
        if response.status_code != expected:
            self.wrong.append(f"{url}: {response.status_code}, expected {expected}")
        return response


def _filtered_urls(changelist_url, response):
    """The first choice of each of the changelist's filters that is not the one shown."""
    changelist = response.context["cl"]
    for spec in changelist.filter_specs:
        choice = next((c for c in spec.choices(changelist) if not c["selected"]), None)
        if choice is not None:
            yield changelist_url + choice["query_string"]


def test_every_admin_page_answers_a_superuser(client, superuser, every_model):
    client.force_login(superuser)
    client.raise_request_exception = False  # a broken page is listed with the others, as a 500
    pages = Pages(client)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist_url = reverse(f"{name}_changelist")
        changelist = pages.open(changelist_url)
        if changelist.status_code != 200:
            continue
        if model_admin.search_fields:
            pages.open(changelist_url + "?q=a")
        for url in _filtered_urls(changelist_url, changelist):
            pages.open(url)
        pages.open(reverse(f"{name}_add"), 403 if label in NOT_ADDED_IN_ADMIN else 200)
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"Build a {label} in the every_model fixture, so that its pages are opened."
        pk = quote(obj.pk)
        pages.open(reverse(f"{name}_change", args=[pk]))
        pages.open(reverse(f"{name}_history", args=[pk]))
        pages.open(
            reverse(f"{name}_delete", args=[pk]), 200 if model_admin.has_delete_permission(request, obj) else 403
        )
        if isinstance(model_admin, SimpleHistoryAdmin):
            version = obj.history.order_by("history_id").last()
            pages.open(reverse(f"{name}_simple_history", args=[pk, version.history_id]))
    assert pages.wrong == []
    print(f"{pages.opened} admin pages opened")
    # At least each model's changelist, add, change, history and delete pages.
    assert pages.opened >= 5 * len(admin.site._registry)


@pytest.mark.parametrize(
    ("record", "page", "download"),
    [
        ("evidence", "admin:activities_evidence_change", "activities:evidence-download"),
        ("receipt", "admin:finance_receipt_change", "finance:receipt-download"),
        ("sal", "admin:reports_progressreport_change", "reports:report-pdf"),
    ],
)
def test_a_file_links_to_its_permission_checked_download(superuser_client, every_model, record, page, download):
    attachment = getattr(every_model, record)
    download_url = reverse(download, args=[attachment.pk])
    version = attachment.history.get().history_id
    for url in (
        reverse(page, args=[attachment.pk]),
        reverse(page.replace("_change", "_simple_history"), args=[attachment.pk, version]),
    ):
        response = superuser_client.get(url)
        assert response.status_code == 200
        assert f'<a href="{download_url}">' in response.content.decode()
    response = superuser_client.get(download_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.parametrize(
    ("page", "record", "download"),
    [
        ("admin:activities_progressentry_change", "evidence", "activities:evidence-download"),
        ("admin:finance_expenditure_change", "receipt", "finance:receipt-download"),
    ],
)
def test_inline_files_link_to_their_downloads(superuser_client, every_model, page, record, download):
    attachment = getattr(every_model, record)
    parent = attachment.entry if record == "evidence" else attachment.expenditure
    response = superuser_client.get(reverse(page, args=[parent.pk]))
    assert response.status_code == 200
    assert f'<a href="{reverse(download, args=[attachment.pk])}">{attachment.original_name}</a>' in (
        response.content.decode()
    )


def test_a_file_cannot_be_replaced_in_the_admin(superuser_client, every_model):
    """The portal checks an upload's content; a file posted here would skip that check and is ignored."""
    receipt = every_model.receipt
    url = reverse("admin:finance_receipt_change", args=[receipt.pk])
    content = superuser_client.get(url).content.decode()
    assert 'type="file"' not in content
    superuser_client.post(
        url,
        {"expenditure": receipt.expenditure_id, "file": ContentFile(b"<script>", name="evil.html")},
    )
    receipt.refresh_from_db()
    assert receipt.file.read() == PDF


def test_the_admin_is_titled_cocap(superuser_client):
    response = superuser_client.get(reverse("admin:index"))
    content = response.content.decode()
    assert "<title>Site administration | COCAP administration</title>" in content
    assert ">COCAP administration</a>" in content


def test_a_revert_cannot_rewrite_an_approved_sal(superuser_client, every_model):
    sal = every_model.sal
    version = sal.history.get().history_id
    url = reverse("admin:reports_progressreport_simple_history", args=[sal.pk, version])
    response = superuser_client.post(url, {"summary": "Riscritto", "language": "en"})
    assert response.status_code == 403
    sal.refresh_from_db()
    assert (sal.summary, sal.language) == ("", "it")


def test_a_draft_sal_can_be_reverted_to_an_earlier_summary(superuser_client, every_model):
    draft = every_model.draft_sal
    first = draft.history.get().history_id
    draft.summary = "Seconda stesura"
    draft.save()
    url = reverse("admin:reports_progressreport_simple_history", args=[draft.pk, first])
    assert superuser_client.post(url, {"summary": "", "language": "it"}).status_code == 302
    draft.refresh_from_db()
    assert draft.summary == ""
