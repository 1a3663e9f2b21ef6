import threading
import time

import pytest
from playwright.sync_api import expect

from activities.models import ProgressEntry
from finance.models import Expenditure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _csp_violations(page):
    seen = []
    page.on("console", lambda message: "Content Security Policy" in message.text and seen.append(message.text))
    return seen


def _open_entry_form(page, log_in):
    log_in("demo-sanjuan")
    page.locator("#my-actions").get_by_role("link", name="Record progress").first.click()
    page.get_by_label("Date").fill("2026-11-20")
    page.get_by_label("Percent complete").fill("40")


def test_a_double_click_on_save_sends_the_entry_once(demo_project, log_in, page, monkeypatch):
    from activities import services

    violations = _csp_violations(page)
    # The page is gone once the next one loads: note in the tab's storage when a button gets disabled.
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => new MutationObserver((changes) => changes.forEach("
        "(change) => change.target.disabled && sessionStorage.setItem('disabled', change.target.textContent.trim()))"
        ").observe(document.body, {attributes: true, attributeFilter: ['disabled'], subtree: true}));"
    )
    _open_entry_form(page, log_in)
    narrative = "Tavolo di lavoro con le camere di commercio."
    page.get_by_label("Narrative").fill(narrative)
    expect(page.locator("#entry-form .char-count")).to_have_text(f"{len(narrative)} / 10,000")

    # The server holds the first sending a moment, as a slow link would: time for a second one to arrive.
    release, sendings = threading.Event(), []
    create = services.progress_entry_create

    def slow_create(**fields):
        sendings.append(fields["form_token"])
        release.wait(5)
        return create(**fields)

    monkeypatch.setattr(services, "progress_entry_create", slow_create)
    page.get_by_role("button", name="Save draft").dblclick()
    time.sleep(1)
    release.set()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    assert len(sendings) == 1, "the second click sent the form again"
    assert page.evaluate("sessionStorage.getItem('disabled')") == "Save draft"
    assert ProgressEntry.objects.filter(narrative=narrative).count() == 1
    assert violations == []


def test_evidence_chosen_before_an_error_is_kept_and_saved_with_the_entry(
    demo_project, log_in, page, screenshot, tmp_path
):
    attendance = tmp_path / "foglio-presenze.pdf"
    attendance.write_bytes(PDF)
    _open_entry_form(page, log_in)
    page.get_by_label("Narrative").fill("Seminario. " + "x" * 10_000)
    counter = page.locator("#entry-form .char-count")
    expect(counter).to_have_text("10,011 / 10,000")
    expect(counter).to_have_class("form-text char-count text-danger fw-semibold")
    page.get_by_label("Evidence files").set_input_files(str(attendance))
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_text("This text has 10,011 characters; at most 10,000 are allowed.")).to_be_visible()
    kept = page.get_by_label("foglio-presenze.pdf")
    expect(kept).to_be_checked()
    screenshot("entry-form-kept-files")
    page.get_by_label("Narrative").fill("Seminario con 18 imprenditori.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.locator("#evidence")).to_contain_text("foglio-presenze.pdf")
    entry = ProgressEntry.objects.get(narrative="Seminario con 18 imprenditori.")
    assert entry.evidence.get().file.read() == PDF


def test_partner_deletes_a_draft_expense_after_seeing_what_goes(demo_project, log_in, page, screenshot):
    violations = _csp_violations(page)
    log_in("demo-riogrande")
    page.get_by_role("link", name="Expenses").click()
    page.get_by_role("link", name="Declare an expense").click()
    page.get_by_label("Date incurred").fill("2026-11-03")
    page.get_by_label("Budget heading").select_option(label="2. Travel")
    page.get_by_label("Description").fill("Passagem duplicada")
    page.locator("#id_amount").fill("350.00")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Expense saved as a draft.")).to_be_visible()

    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.locator("#to-delete")).to_contain_text("Passagem duplicada")
    screenshot("expense-delete-confirm")
    page.get_by_role("button", name="Delete the expense").click()
    expect(page.get_by_text("The expense was deleted.")).to_be_visible()
    expect(page.locator(".expense-table")).not_to_contain_text("Passagem duplicada")
    assert not Expenditure.objects.filter(description="Passagem duplicada").exists()
    assert violations == []
