import hashlib
import shutil
import subprocess

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from reports.models import ProgressReport
from tests.e2e.conftest import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_director_prepares_approves_and_downloads_a_sal(
    demo_project, log_in, live_server, page, screenshot, settings, tmp_path
):
    # The render goes through the real queue: the request only enqueues, django-tasks-db's worker renders.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    log_in("demo-director")
    page.get_by_role("link", name="SAL", exact=True).click()
    period = page.locator("#periods tbody tr").first
    period.get_by_label("Language of the report").select_option("it")
    period.get_by_role("button", name="Prepare the SAL").click()
    expect(page.get_by_text("Draft created")).to_be_visible()
    expect(page.locator("#sal-verified-total")).to_be_visible()
    summary = "Semestre avviato: rete dei partner costituita, primi seminari svolti."
    page.get_by_label("Directors' summary").fill(summary)
    page.get_by_role("button", name="Save the summary").click()
    expect(page.get_by_text("Summary saved.")).to_be_visible()
    screenshot("sal-draft")

    # Approval waits for the explanation of each heading that strays from plan by more than 15 %.
    page.get_by_role("link", name="Edit the financial report").click()
    required = page.get_by_label("Variance of", exact=False)
    expect(required.first).to_be_visible()
    for index in range(required.count()):
        required.nth(index).fill("Le attività sono partite a marzo: la spesa segue.")
    page.get_by_label("Other donors (EUR)").fill("1500.00")
    screenshot("sal-financial-report")
    page.get_by_role("button", name="Save the financial report").click()
    expect(page.get_by_text("Financial report saved.")).to_be_visible()

    page.get_by_role("button", name="Approve and freeze").click()
    page.get_by_role("button", name="Yes, approve and freeze").click()
    expect(page.get_by_text("SAL approved")).to_be_visible()
    expect(page.locator("#pdf-waiting")).to_be_visible()
    screenshot("sal-rendering")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    # The page refreshes itself every 5 s while the PDF renders; a reload of our own could cut one short.
    expect(page.get_by_role("link", name="Download the PDF")).to_be_visible(timeout=15_000)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    pdf = tmp_path / "sal.pdf"
    download.value.save_as(pdf)
    report = ProgressReport.objects.get()
    assert download.value.suggested_filename == "cocap-sal-1-v1.pdf"
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == report.pdf_sha256
    expect(page.locator("#pdf-sha256")).to_have_text(report.pdf_sha256)
    screenshot("sal-approved")

    page.get_by_role("link", name="Verify a copy").click()
    page.get_by_label("or the PDF file itself").set_input_files(str(pdf))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verify-result")).to_contain_text("COCAP SAL 1, version 1")

    # Pages of the PDF as images, for a person to look at.
    SCREENSHOTS.mkdir(exist_ok=True)
    pdftoppm = shutil.which("pdftoppm")
    subprocess.run([pdftoppm, "-r", "60", "-png", str(pdf), str(SCREENSHOTS / "sal-pdf")], check=True)  # noqa: S603
    assert (SCREENSHOTS / "sal-pdf-01.png").exists()
