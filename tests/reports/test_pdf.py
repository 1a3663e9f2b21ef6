import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from core.pdf import PDF_BASE_URL, RefusedURL, StaticFilesFetcher, html_to_pdf
from reports import services
from reports.models import ProgressReport
from reports.pdf import progress_report_html
from reports.selectors import progress_report_document
from tests.factories import sal_approve

HOSTILE = '<style>*{display:none}</style><b>grassetto</b> <img src="file:///etc/passwd"> & <script>alert(1)</script>'


def _pdf_text(report):
    pdf, pages = html_to_pdf(progress_report_html(report, progress_report_document(report)))
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), pages


@pytest.fixture
def draft(sal_world):
    return ProgressReport.objects.create(
        period=sal_world.period1, language="en", created_by=sal_world.director, summary="Summary of the period."
    )


def test_the_pdf_has_a_cover_contents_and_numbered_pages(draft):
    text, pages = _pdf_text(draft)
    assert "Funded by the European Union" in text
    assert "Progress report (SAL) no. 1" in text
    assert "co-financed by the European Union" in text and "8,560.00" in text
    assert "Contents" in text and "Activity 1 – Aggiornamento informativo" in text
    assert f"page 1 of {pages}" in text and f"page {pages} of {pages}" in text
    assert "COCAP – SAL 1, version 1" in text
    assert "Seminario a San Juan con 12 imprenditori." in text
    assert "1,320.55" in text and "1,056.44" in text


def test_partner_text_with_html_is_printed_as_text_not_markup(sal_world, draft):
    sal_world.highlight.narrative = HOSTILE
    sal_world.highlight.save()
    draft.summary = "<h1>Titolo</h1>"
    draft.save()
    text, _pages = _pdf_text(draft)
    # Lines wrap anywhere in a long narrative: compare without white space.
    flat = "".join(text.split())
    for markup in (
        "<b>grassetto</b>",
        "<style>*{display:none}</style>",
        "<script>alert(1)</script>",
        "<h1>Titolo</h1>",
    ):
        assert markup in flat
    assert '<imgsrc="file:///etc/passwd">' in flat


def test_the_pdf_speaks_the_report_language(sal_world):
    report = ProgressReport.objects.create(period=sal_world.period1, language="es", created_by=sal_world.director)
    text, pages = _pdf_text(report)
    assert "Financiado por la Unión Europea" in text
    assert f"página 1 de {pages}" in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.org/style.css",
        "https://example.org/static/css/sal-pdf.css",
        "http://cocap.invalid/static/css/sal-pdf.css",
        PDF_BASE_URL + "media/sal/secret.pdf",
        PDF_BASE_URL + "static/../../cocap/settings.py",
        PDF_BASE_URL + "static/%2e%2e/%2e%2e/etc/passwd",
        PDF_BASE_URL + "static/css/missing.css",
        "data:text/css,body{}",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(RefusedURL):
        StaticFilesFetcher().fetch(url)


def test_the_fetcher_serves_the_portal_static_files():
    response = StaticFilesFetcher().fetch(PDF_BASE_URL + "static/img/eu-emblem.svg")
    assert response.read().startswith(b"<svg") and response.content_type == "image/svg+xml"


def test_a_refused_resource_is_left_out_and_the_pdf_still_renders():
    pdf, pages = html_to_pdf(
        '<p>Text</p><img src="file:///etc/hostname"><link rel="stylesheet" href="http://x.org/a.css">'
    )
    assert pdf.startswith(b"%PDF") and pages == 1


def test_an_approved_pdf_is_stored_with_its_hash(sal_world, django_capture_on_commit_callbacks):
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="pt")
    with django_capture_on_commit_callbacks(execute=True):
        sal_approve(actor=sal_world.director, report=draft, revision=draft.revision)
    report = ProgressReport.objects.get()
    reader = PdfReader(report.pdf.open("rb"))
    assert len(reader.pages) == report.pdf_pages
    assert "Financiado pela União Europeia" in reader.pages[0].extract_text()


def test_the_stored_pdf_is_tagged_archivable_and_carries_the_xlsx(sal_world, django_capture_on_commit_callbacks):
    draft = services.progress_report_create(actor=sal_world.director, period=sal_world.period1, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        sal_approve(actor=sal_world.director, report=draft, revision=draft.revision)
    report = ProgressReport.objects.get()
    reader = PdfReader(report.pdf.open("rb"))
    catalog = reader.trailer["/Root"]
    # Tagged: a structure tree, marked content, the language, and the title shown instead of the file name.
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]
    assert catalog["/Lang"] == "en" and catalog["/ViewerPreferences"]["/DisplayDocTitle"]
    xmp = reader.xmp_metadata.stream.get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp and b'pdfuaid:part="1"' in xmp
    assert reader.pdf_header == "%PDF-1.7" and "/OutputIntents" in catalog
    # The spreadsheet of the same frozen figures rides inside, declared as the report's supplement.
    name = "cocap-sal-1-v1.xlsx"
    assert list(reader.attachments) == [name]
    workbook = load_workbook(io.BytesIO(reader.attachments[name][0]), read_only=True)
    assert "Actions" in workbook.sheetnames
    (specification,) = [ref.get_object() for ref in catalog["/AF"]]
    assert specification["/AFRelationship"] == "/Supplement"


def test_the_cover_names_every_partner_in_full_and_marks_what_is_assumed(sal_world, draft):
    sal_world.project.region = "Paesi del Mercosur"
    sal_world.project.save()
    sal_world.lead.organisation.country = "IT"
    sal_world.lead.organisation.save()
    text, _pages = _pdf_text(draft)
    flat = " ".join(text.split())
    assert "Regione del Veneto (IT) – Lead partner" in flat and "Provincia de San Juan" in flat
    assert "Region Paesi del Mercosur" in flat
    assert "Grant contract number not entered yet" in flat
    assert "Assumptions: the project's documents do not give the start date; the planned months" in flat
    assert "Planned months assumed" in flat


def test_confirmed_facts_are_printed_without_assumptions(sal_world, draft):
    project = sal_world.project
    project.contract_number, project.start_date_confirmed, project.schedule_confirmed = (
        "DCI-ALA/2009/19-123",
        True,
        True,
    )
    project.save()
    text, _pages = _pdf_text(draft)
    flat = " ".join(text.split())
    assert "Grant contract DCI-ALA/2009/19-123" in flat
    assert "Assumptions" not in flat and "assumed" not in flat and "not entered yet" not in flat
