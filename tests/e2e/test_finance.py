import pytest
from playwright.sync_api import expect

from finance.models import Expenditure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_partner_declares_an_expense_in_reais_and_the_director_verifies_it(
    demo_project, log_in, live_server, page, screenshot, tmp_path
):
    invoice = tmp_path / "nota-fiscal.pdf"
    invoice.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    log_in("demo-riogrande")
    page.get_by_role("link", name="Expenses").click()
    page.get_by_role("link", name="Declare an expense").click()
    page.get_by_label("Date incurred").fill("2026-11-03")
    page.get_by_label("Budget heading").select_option(label="2. Travel")
    page.get_by_label("Description").fill("Passagens para o seminário de Porto Alegre")
    page.get_by_label("Supplier").fill("Viação Ouro e Prata")
    page.get_by_label("Document reference").fill("NF-4411")
    # The partner's own currency is the one offered first.
    expect(page.get_by_label("Currency")).to_have_value("BRL")
    page.locator("#id_amount").fill("1890.00")
    page.get_by_label("Receipts").set_input_files(str(invoice))
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Expense saved as a draft.")).to_be_visible()
    expect(page.locator("#receipts")).to_contain_text("nota-fiscal.pdf")
    page.get_by_role("button", name="Submit for verification").click()
    expect(page.get_by_text("Submitted for verification.")).to_be_visible()
    screenshot("expense-submitted")
    expense = Expenditure.objects.get(description="Passagens para o seminário de Porto Alegre")
    assert expense.currency == "BRL" and expense.status == "submitted"
    page.get_by_role("button", name="Log out").click()

    log_in("demo-director")
    page.goto(f"{live_server.url}/expenses/{expense.pk}/")
    for check in ("eligible cost", "receipt matches the amount", "within the budget line", "date within the project"):
        page.get_by_label(check).check()
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Expense verified.")).to_be_visible()
    page.get_by_role("link", name="Finances").click()
    expect(page.locator("#checks")).to_be_visible()
    expect(page.locator("svg.absorption")).to_be_visible()
    screenshot("finance-overview")
    expense.refresh_from_db()
    assert expense.status == "verified"


def test_the_director_reads_money_by_partner_and_heading_checks_flexibility_and_computes_a_tranche(
    demo_project, log_in, live_server, page, screenshot
):
    log_in("demo-director")
    page.get_by_role("link", name="Finances").click()
    expect(page.locator("#by-partner-heading")).to_be_visible()
    expect(page.locator("#by-activity")).to_have_count(0)
    expect(page.locator("#next-tranche")).to_contain_text("Pre-financing that can be requested now: EUR")
    page.get_by_label("Next tranche as planned (EUR)").fill("100000.00")
    page.get_by_role("button", name="Compute").click()
    expect(page.locator("#tranche-computation")).to_contain_text("Next tranche as planned")
    screenshot("finance-overview-director")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("finance-overview-director-phone")
    # Wide tables scroll in their own box: the page itself does not scroll sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("link", name="Flexibility heading by heading, for any budget version").click()
    expect(page.locator("#flexibility-version")).to_be_visible()
    expect(page.locator("#flexibility-projection")).to_be_visible()
    screenshot("budget-flexibility")
    page.get_by_role("button", name="Log out").click()

    log_in("demo-riogrande")
    page.get_by_role("link", name="Finances").click()
    expect(page.locator("svg.absorption")).to_be_visible()
    expect(page.locator("#by-partner-heading")).to_have_count(0)
    page.goto(f"{live_server.url}/finance/budget/")
    expect(page.locator("#flexibility")).to_have_count(0)
    screenshot("finance-overview-partner")
