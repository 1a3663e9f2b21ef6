import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from reports import services
from reports.models import ProgressReport
from tests.factories import ProjectFactory, ReportingPeriodFactory, director_of, sal_approve


@pytest.fixture
def draft(sal_world):
    return services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="en")


@pytest.fixture
def approved(sal_world, django_capture_on_commit_callbacks):
    report = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        sal_approve(actor=sal_world.director, report=report, revision=report.revision)
    return ProgressReport.objects.get(pk=report.pk)


@pytest.fixture
def stranger(db):
    """A director of another project."""
    other = ProjectFactory()
    ReportingPeriodFactory(project=other, number=1)
    return director_of(other)


def test_director_prepares_edits_and_approves_a_sal(client, sal_world, django_capture_on_commit_callbacks):
    client.force_login(sal_world.director)
    response = client.post(reverse("reports:report-create", args=[1]), {"language": "en"}, follow=True)
    report = ProgressReport.objects.get()
    assert response.redirect_chain[-1][0] == reverse("reports:report-detail", args=[report.pk])
    content = response.content.decode()
    assert "Draft created" in content and "DRAFT – figures change until approval" in content
    assert "1,320.55" in content and 'id="approve-form"' in content
    assert "Indirect costs are no expense: they are 7 % of each partner" in content

    response = client.post(
        reverse("reports:report-detail", args=[report.pk]),
        {"summary": "A <i>good</i> semester.", "language": "en", "revision": report.revision},
        follow=True,
    )
    assert "Summary saved." in response.content.decode()
    assert "A &lt;i&gt;good&lt;/i&gt; semester." in response.content.decode()

    # Human resources strays from plan by more than 15 %: approval waits for the explanation.
    report.refresh_from_db()
    response = client.post(
        reverse("reports:report-approve", args=[report.pk]),
        {"revision": report.revision, "confirmed": "on"},
        follow=True,
    )
    assert "explain why these headings stray from plan" in response.content.decode()
    category = sal_world.budget.lines.first().category_id
    response = client.post(
        reverse("reports:report-financial", args=[report.pk]),
        {
            "revision": report.revision,
            **dict.fromkeys(("other_donors_eur", "in_kind_eur", "interest_eur", "forecast_eur"), "0"),
            f"explanation_{category}": "Hiring started in March.",
        },
        follow=True,
    )
    assert "Financial report saved." in response.content.decode()
    report.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:report-approve", args=[report.pk]), {"revision": report.revision, "confirmed": "on"}
        )
    response = client.get(reverse("reports:report-detail", args=[report.pk]))
    content = response.content.decode()
    report.refresh_from_db()
    assert "SAL approved" in content and report.pdf_sha256 in content and "Download the PDF" in content
    assert 'id="approve-form"' not in content and 'id="summary-form"' not in content

    response = client.get(reverse("reports:report-pdf", args=[report.pk]))
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="cocap-sal-1-v1.pdf"' in response["Content-Disposition"]
    assert hashlib.sha256(body).hexdigest() == report.pdf_sha256


def test_summary_saved_over_a_newer_version_is_refused_and_kept_in_the_form(client, sal_world, draft):
    client.force_login(sal_world.director)
    services.progress_report_update(
        actor=sal_world.director, report=draft, summary="Theirs", language="en", revision=draft.revision
    )
    response = client.post(
        reverse("reports:report-detail", args=[draft.pk]),
        {"summary": "Mine", "language": "en", "revision": draft.revision},
    )
    content = response.content.decode()
    assert "Someone else changed this SAL meanwhile" in content and ">\nMine</textarea>" in content
    assert ProgressReport.objects.get().summary == "Theirs"


def test_a_summary_over_the_limit_is_refused_with_its_length_and_kept_in_the_form(client, sal_world, draft):
    client.force_login(sal_world.director)
    url = reverse("reports:report-detail", args=[draft.pk])
    page = client.get(url).content.decode()
    assert "At most 20,000 characters." in page and 'data-max-chars="20000"' in page
    summary = "Un semestre di lavoro. " * 1000
    response = client.post(url, {"summary": summary, "language": "en", "revision": draft.revision})
    content = response.content.decode()
    assert "This text has 22,999 characters; at most 20,000 are allowed." in content
    assert summary.strip() in content
    assert ProgressReport.objects.get().summary == ""
    client.post(url, {"summary": summary[:20_000], "language": "en", "revision": draft.revision})
    assert len(ProgressReport.objects.get().summary) == 20_000


def test_approving_twice_shows_a_clear_message(client, sal_world, approved):
    client.force_login(sal_world.director)
    response = client.post(
        reverse("reports:report-approve", args=[approved.pk]),
        {"revision": approved.revision - 1, "confirmed": "on"},
        follow=True,
    )
    assert "was approved meanwhile" in response.content.decode()
    assert ProgressReport.objects.count() == 1


def test_observer_reads_approved_sals_only(client, sal_world, approved):
    draft2 = services.progress_report_create(
        actor=sal_world.director, period=sal_world.period2, language="it", before_period_end=True
    )
    client.force_login(sal_world.observer)
    content = client.get(reverse("reports:report-list")).content.decode()
    assert reverse("reports:report-detail", args=[approved.pk]) in content
    assert reverse("reports:report-detail", args=[draft2.pk]) not in content
    assert "Prepare the SAL" not in content
    assert client.get(reverse("reports:report-detail", args=[approved.pk])).status_code == 200
    assert client.get(reverse("reports:report-pdf", args=[approved.pk])).status_code == 200
    assert client.get(reverse("reports:report-xlsx", args=[approved.pk])).status_code == 200
    assert client.get(reverse("reports:report-detail", args=[draft2.pk])).status_code == 404
    assert client.get(reverse("reports:report-xlsx", args=[draft2.pk])).status_code == 404
    assert client.post(reverse("reports:report-approve", args=[draft2.pk]), {"revision": 1}).status_code == 404
    assert client.post(reverse("reports:report-create", args=[2]), {"language": "it"}).status_code == 403
    assert ProgressReport.objects.get(pk=draft2.pk).status == "draft"


def test_partner_staff_see_no_sal_content(client, sal_world, approved, draft_period2):
    client.force_login(sal_world.staff)
    content = client.get(reverse("reports:report-list")).content.decode()
    assert "The directors prepare and approve the SAL" in content
    assert reverse("reports:report-detail", args=[approved.pk]) not in content
    for name in ("report-detail", "report-pdf", "report-xlsx"):
        assert client.get(reverse(f"reports:{name}", args=[approved.pk])).status_code == 404
        assert client.get(reverse(f"reports:{name}", args=[draft_period2.pk])).status_code == 404
    assert client.post(reverse("reports:report-approve", args=[draft_period2.pk]), {"revision": 1}).status_code == 404
    assert client.post(reverse("reports:report-render-retry", args=[approved.pk])).status_code == 404
    assert client.post(reverse("reports:report-create", args=[2]), {"language": "it"}).status_code == 403


@pytest.fixture
def draft_period2(sal_world):
    return services.progress_report_create(
        actor=sal_world.director, period=sal_world.period2, language="it", before_period_end=True
    )


def test_a_director_of_another_project_reaches_nothing(client, sal_world, approved, draft_period2, stranger):
    client.force_login(stranger)
    for name in ("report-detail", "report-pdf", "report-xlsx"):
        assert client.get(reverse(f"reports:{name}", args=[approved.pk])).status_code == 404
        assert client.get(reverse(f"reports:{name}", args=[draft_period2.pk])).status_code == 404
    assert client.post(reverse("reports:report-approve", args=[draft_period2.pk]), {"revision": 1}).status_code == 404
    assert client.post(reverse("reports:report-render-retry", args=[approved.pk])).status_code == 404
    content = client.get(reverse("reports:report-list")).content.decode()
    assert reverse("reports:report-detail", args=[approved.pk]) not in content
    response = client.post(reverse("reports:report-verify"), {"sha256": approved.pdf_sha256})
    assert "No approved SAL of your projects has this fingerprint" in response.content.decode()
    assert ProgressReport.objects.get(pk=draft_period2.pk).status == "draft"


def test_sal_pages_need_a_login(client, approved):
    for url in (
        reverse("reports:report-list"),
        reverse("reports:report-verify"),
        reverse("reports:report-detail", args=[approved.pk]),
        reverse("reports:report-pdf", args=[approved.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_verification_by_file_and_by_hash(client, sal_world, approved):
    client.force_login(sal_world.staff)
    pdf = approved.pdf.read()
    response = client.post(reverse("reports:report-verify"), {"pdf": SimpleUploadedFile("sal.pdf", pdf)})
    assert "This is the PDF of COCAP SAL 1, version 1" in response.content.decode()
    tampered = pdf.replace(b"1,320.55", b"9,320.55") + b"%"
    response = client.post(reverse("reports:report-verify"), {"pdf": SimpleUploadedFile("sal.pdf", tampered)})
    assert "No approved SAL of your projects has this fingerprint" in response.content.decode()
    response = client.post(reverse("reports:report-verify"), {"sha256": "  " + approved.pdf_sha256.upper()})
    assert "This is the PDF of COCAP SAL 1, version 1" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [({"sha256": "not-a-hash"}, "64 hexadecimal characters"), ({}, "Enter the SHA-256 or choose the PDF file.")],
)
def test_verification_explains_bad_input(client, sal_world, data, message):
    client.force_login(sal_world.observer)
    response = client.post(reverse("reports:report-verify"), data)
    assert message in response.content.decode()


def test_xlsx_companion_has_the_tables_with_the_page_totals(client, sal_world, approved):
    client.force_login(sal_world.director)
    response = client.get(reverse("reports:report-xlsx", args=[approved.pk]))
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "Actions",
        "Indicators",
        "Highlights",
        "By heading",
        "By partner",
        "Exchange rates",
        "EU rule checks",
        "Pending",
    ]
    heading_rows = list(workbook["By heading"].values)
    assert heading_rows[-1][0] == "Total"
    assert heading_rows[0][3] == "Of which from earlier periods (EUR)"
    assert heading_rows[-1][3] == 0 and approved.snapshot["finance"]["totals"]["verified_earlier_periods"] == "0.00"
    assert str(heading_rows[-1][4]) == approved.snapshot["finance"]["totals"]["verified"] == "1320.55"
    assert [row[1] for row in workbook["Actions"].values][1:] == ["1.1", "1.2"]


def test_xlsx_keeps_partner_text_from_becoming_a_formula(client, sal_world, draft):
    sal_world.highlight.narrative = '=HYPERLINK("http://evil","x")'
    sal_world.highlight.save()
    client.force_login(sal_world.director)
    response = client.get(reverse("reports:report-xlsx", args=[draft.pk]))
    sheet = load_workbook(io.BytesIO(response.content))["Highlights"]
    cell = next(row[5] for row in sheet.iter_rows(min_row=2) if row[5].value.startswith("=HYPER"))
    assert cell.data_type == "s"


def _grow(world, times):
    from tests.factories import ActionFactory, ExpenditureFactory, ProgressEntryFactory

    for _index in range(times):
        number = 10 + world.project.reporting_periods.count()
        action = ActionFactory(activity=world.action.activity, number=100 + ActionFactory._meta.model.objects.count())
        ProgressEntryFactory(action=action, partner=world.lead, status="approved", reviewer=world.director)
        ExpenditureFactory(partner=world.sanjuan, status="verified", reviewer=world.director)
        services.progress_report_create(
            actor=world.director,
            period=ReportingPeriodFactory(
                project=world.project, number=number, start=world.period1.start, end=world.period1.end
            ),
            language="it",
        )


@pytest.mark.parametrize(
    ("role", "page", "queries"),
    [
        ("director", "list", 9),
        ("observer", "list", 9),
        ("director", "draft", 32),
        ("director", "approved", 7),
        ("observer", "approved", 7),
    ],
)
def test_sal_pages_keep_their_query_count_when_the_data_grows_tenfold(
    client, sal_world, approved, draft_period2, django_assert_num_queries, role, page, queries
):
    client.force_login(getattr(sal_world, role))
    url = {
        "list": reverse("reports:report-list"),
        "draft": reverse("reports:report-detail", args=[draft_period2.pk]),
        "approved": reverse("reports:report-detail", args=[approved.pk]),
    }[page]
    _grow(sal_world, 1)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
    _grow(sal_world, 10)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
