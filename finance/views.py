from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.forms import form_add_service_errors, form_errors_as_messages
from core.services import AlreadySaved
from core.uploads import attachment_response
from core.views import DeletePage, delete_page, run_service
from partners.models import Project
from partners.permissions import partner_of, user_can_direct
from partners.selectors import partner_filter_choices, project_current_or_404

from . import services
from .exports import budget_annex_xlsx, expenditure_csv_rows, financial_statement_xlsx
from .forms import (
    BudgetImportForm,
    BudgetVersionForm,
    EUPaymentForm,
    ExpenditureForm,
    ExpenseFilterForm,
    PlannedTrancheForm,
    ProcurementContractForm,
    ReviewForm,
    TimesheetForm,
)
from .models import Expenditure
from .pdf import timesheet_pdf as render_timesheet_pdf
from .permissions import (
    DELETABLE_STATUSES,
    user_can_change_expenditure,
    user_can_change_procurement,
    user_can_change_timesheet,
    user_can_delete_expenditure,
    user_can_import_budget,
    user_can_review_expenditure,
    user_can_see_project_finance,
)
from .selectors import (
    PROCUREMENT_REPORTED_ABOVE,
    PagedByKeys,
    budget_annex,
    budget_breakdown,
    budget_flexibility,
    budget_get,
    budget_list,
    budget_of_project,
    cost_category_list,
    expenditure_deleted_by,
    expenditure_detail,
    expenditure_get,
    expenditure_list,
    expenditure_statement_list,
    expenditure_verification_queue,
    finance_overview,
    procurement_contract_deleted_by,
    procurement_contract_get,
    procurement_contract_list,
    procurement_expense_choices,
    procurement_partner_choices,
    receipt_get,
    receipt_list,
    staff_member_choices,
    timesheet_actions,
    timesheet_get,
    timesheet_rows_priced,
)
from .selectors import timesheet_list as timesheet_list_query

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope(request, project):
    """Return None to see every partner's money, or the partner whose money the user may see; else refuse."""
    if user_can_see_project_finance(request.user, project):
        return None
    partner = partner_of(request.user, project)
    if partner is None:
        raise PermissionDenied(_("You may not see this project's finances."))
    return partner


def overview(request):
    """Show budget against declared and verified costs, the EU share, the EU rule checks and pre-financing."""
    project = project_current_or_404(user=request.user)
    partner = _scope(request, project)
    # A tranche that is not an amount (a tampered link) is shown with its error, and the cap's amount is used.
    tranche_form = PlannedTrancheForm(request.GET or None)
    planned = tranche_form.cleaned_data["tranche"] if tranche_form.is_valid() else None
    overview = finance_overview(project=project, partner=partner, today=timezone.localdate(), planned_tranche=planned)
    return render(
        request,
        "finance/overview.html",
        {
            "project": project,
            "overview": overview,
            "can_record_payments": user_can_direct(request.user, project),
            "payment_form": EUPaymentForm(),
            "tranche_form": tranche_form,
        },
    )


def budget_detail(request):
    """Show a budget version by heading, partner and activity; earlier versions stay readable."""
    project = project_current_or_404(user=request.user)
    partner = _scope(request, project)
    form = BudgetVersionForm(request.GET)
    # A version that is not a number (a tampered link) shows the current budget.
    budget = budget_get(project=project, version=form.cleaned_data["version"] if form.is_valid() else None)
    flexibility = None
    if partner is None:
        flexibility = budget_flexibility(project=project, budget=budget, today=timezone.localdate())
    return render(
        request,
        "finance/budget.html",
        {
            "project": project,
            "budget": budget,
            "versions": budget_list(project=project),
            "partner": partner,
            "flexibility": flexibility,
            "can_import": user_can_import_budget(request.user, project),
            **budget_breakdown(budget=budget, partner=partner),
        },
    )


def budget_xlsx(request, pk):
    """Download a budget version in the Annex III layout; partner staff get their own column, as on the budget page."""
    project = project_current_or_404(user=request.user)
    partner = _scope(request, project)
    budget = budget_of_project(project=project, pk=pk)
    response = HttpResponse(
        budget_annex_xlsx(project=project, annex=budget_annex(budget=budget, partner=partner)), content_type=XLSX
    )
    response["Content-Disposition"] = f'attachment; filename="{project.code}-budget-v{budget.version}-annex-iii.xlsx"'
    return response


def budget_import(request):
    """Import a workbook in the Annex III layout as the next budget version, a draft; every error is listed."""
    project = project_current_or_404(user=request.user)
    if not user_can_import_budget(request.user, project):
        raise PermissionDenied(_("Only directors import a budget."))
    form = BudgetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            budget = services.budget_import_xlsx(
                actor=request.user, project=project, file=form.cleaned_data["file"], label=form.cleaned_data["label"]
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Budget version %(version)d imported as a draft: it is neither current nor approved.")
                % {"version": budget.version},
            )
            return redirect(f"{reverse('finance:budget')}?version={budget.version}")
    return render(request, "finance/budget_import.html", {"project": project, "form": form})


@require_POST
def payment_create(request):
    """Record a payment received from the Commission."""
    project = project_current_or_404(user=request.user)
    form = EUPaymentForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("finance:overview")
    try:
        services.eu_payment_record(actor=request.user, project=project, **form.cleaned_data)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("EU payment recorded."))
    return redirect("finance:overview")


def statement_xlsx(request):
    """Download the financial statement of the current budget as a spreadsheet."""
    project = project_current_or_404(user=request.user)
    partner = _scope(request, project)
    overview = finance_overview(project=project, partner=partner, today=timezone.localdate())
    if overview is None:
        raise Http404(_("The project has no current budget."))
    expenses = expenditure_statement_list(user=request.user, project=project, partner=partner)
    response = HttpResponse(
        financial_statement_xlsx(project=project, overview=overview, expenses=expenses),
        content_type=XLSX,
    )
    response["Content-Disposition"] = f'attachment; filename="{project.code}-financial-statement.xlsx"'
    return response


def _filtered_expenses(request) -> tuple[Project, ExpenseFilterForm, QuerySet[Expenditure]]:
    """Bind the filters to the query string and select the expenses they show: the list page and its CSV alike."""
    project = project_current_or_404(user=request.user)
    partners = partner_filter_choices(user=request.user, project=project)
    form = ExpenseFilterForm(request.GET, partners=partners, categories=cost_category_list())
    return project, form, expenditure_list(user=request.user, project=project, **form.filters())


def expense_list(request):
    """List the expenses the user may see, filtered by status, partner and heading."""
    project, form, expenses = _filtered_expenses(request)
    page = Paginator(PagedByKeys(expenses), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "finance/expense_list.html",
        {
            "project": project,
            "page": page,
            "can_declare": partner_of(request.user, project) is not None,
            "deletable": {e.pk for e in page if user_can_delete_expenditure(request.user, e)},
            **form.filters(),
            "partners": list(form.fields["partner"].queryset),
            "categories": list(form.fields["category"].queryset),
            "statuses": Expenditure.Status.choices,
        },
    )


def expense_csv(request):
    """Download the expenses the list shows with the same filters, as CSV."""
    project, _form, expenses = _filtered_expenses(request)
    response = StreamingHttpResponse(expenditure_csv_rows(expenses), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.code}-expenses.csv"'
    return response


def _expense_form_view(request, *, partner, expenditure=None):
    form = ExpenditureForm(
        request.POST or None,
        request.FILES or None,
        partner=partner,
        expenditure=expenditure,
        session=request.session,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            fields = {
                "actor": request.user,
                "category": data["category"],
                "activity": data["activity"],
                "date_incurred": data["date_incurred"],
                "description": data["description"],
                "supplier": data["supplier"],
                "document_ref": data["document_ref"],
                "amount": data["amount"],
                "currency": data["currency"],
                "receipts": form.uploads(),
            }
            if expenditure is None:
                expenditure = services.expenditure_create(partner=partner, form_token=data["form_token"], **fields)
                messages.success(request, _("Expense saved as a draft. Submit it when its receipts are attached."))
            else:
                expenditure = services.expenditure_update(expenditure=expenditure, revision=data["revision"], **fields)
                if expenditure.status == Expenditure.Status.RETURNED:
                    messages.success(request, _("Changes saved. Next step: submit it again for verification."))
                else:
                    messages.success(request, _("Changes saved."))
        except AlreadySaved as sent_before:
            form.uploads_saved()
            messages.info(request, _("This form was sent twice: the expense was saved once, and here it is."))
            return redirect("finance:expense-detail", pk=sent_before.instance.pk)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            form.uploads_saved()
            return redirect("finance:expense-detail", pk=expenditure.pk)
    if request.method == "POST":
        form.hold_uploads()
    can_delete = expenditure is not None and user_can_delete_expenditure(request.user, expenditure)
    return render(
        request,
        "finance/expense_form.html",
        {"form": form, "partner": partner, "expenditure": expenditure, "can_delete": can_delete},
    )


def expense_create(request):
    """Declare an expense of the user's organisation."""
    project = project_current_or_404(user=request.user)
    partner = partner_of(request.user, project)
    if partner is None:
        raise PermissionDenied(_("Only partner staff declare expenses."))
    return _expense_form_view(request, partner=partner)


def expense_edit(request, pk):
    """Change a draft or returned expense of the user's organisation."""
    expenditure = expenditure_get(user=request.user, pk=pk)
    if not user_can_change_expenditure(request.user, expenditure):
        raise PermissionDenied(_("Only your organisation's draft and returned expenses can be changed."))
    return _expense_form_view(request, partner=expenditure.partner, expenditure=expenditure)


def expense_detail(request, pk):
    """Show an expense with its receipts, review and audit history."""
    return _expense_detail_page(request, expenditure_get(user=request.user, pk=pk))


def _expense_detail_page(request, expenditure, review_form=None):
    project = expenditure.partner.project
    next_in_queue = None
    if user_can_direct(request.user, project):
        queue = expenditure_verification_queue(user=request.user, project=project)
        next_in_queue = queue.exclude(pk=expenditure.pk).first()
    return render(
        request,
        "finance/expense_detail.html",
        {
            "expenditure": expenditure,
            **expenditure_detail(expenditure),
            "can_change": user_can_change_expenditure(request.user, expenditure),
            "can_delete": user_can_delete_expenditure(request.user, expenditure),
            "can_review": user_can_review_expenditure(request.user, expenditure),
            "review_form": review_form or ReviewForm(),
            "next_in_queue": next_in_queue,
            "checklist": [
                (Expenditure._meta.get_field(item).verbose_name, getattr(expenditure, item))
                for item in Expenditure.CHECKLIST
            ],
        },
    )


def _expense_deletion_refusal(expenditure) -> str:
    if expenditure.status in DELETABLE_STATUSES:
        return _("Only the staff of the expense's partner can delete it.")
    return _(
        "This expense is %(status)s: only draft and returned expenses can be deleted. "
        "What was submitted stays as the record of the spending."
    ) % {"status": expenditure.get_status_display()}


EXPENSE_DELETE_PAGE = DeletePage(
    name="expenditure",
    template="finance/expense_delete.html",
    list_url="finance:expense-list",
    deleted=gettext_lazy("The expense was deleted."),
    get=expenditure_get,
    deleted_by=expenditure_deleted_by,
    can_delete=user_can_delete_expenditure,
    refusal=_expense_deletion_refusal,
    delete=services.expenditure_delete,
    details=lambda expenditure: {"receipts": receipt_list(expenditure=expenditure)},
)


def expense_delete(request, pk):
    """Show what deleting a draft or returned expense removes; delete it on confirmation."""
    return delete_page(request, pk, EXPENSE_DELETE_PAGE)


@require_POST
def expense_submit(request, pk):
    expenditure = expenditure_get(user=request.user, pk=pk)
    run_service(request, services.expenditure_submit, _("Submitted for verification."), expenditure=expenditure)
    return redirect("finance:expense-detail", pk=pk)


REVIEWS = {
    "verify": (services.expenditure_verify, gettext_lazy("Expense verified.")),
    "reject": (services.expenditure_reject, gettext_lazy("Expense rejected.")),
    "return": (services.expenditure_return, gettext_lazy("Expense returned to the partner.")),
}


@require_POST
def expense_review(request, pk, decision):
    """Verify, reject or return a submitted expense."""
    expenditure = expenditure_get(user=request.user, pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        # Show the note again with what is wrong with it, rather than decide without it.
        return _expense_detail_page(request, expenditure, review_form=form)
    service, success = REVIEWS[decision]
    run_service(
        request,
        service,
        str(success),
        expenditure=expenditure,
        note=form.cleaned_data["note"],
        checklist=form.cleaned_data["checklist"],
    )
    return redirect("finance:expense-detail", pk=pk)


def receipt_download(request, pk):
    """Send a receipt to a user who may see its expense."""
    return attachment_response(receipt_get(user=request.user, pk=pk), preview="preview" in request.GET)


@require_POST
def receipt_delete(request, pk):
    receipt = receipt_get(user=request.user, pk=pk)
    run_service(request, services.receipt_delete, _("Receipt removed."), receipt=receipt)
    return redirect("finance:expense-edit", pk=receipt.expenditure_id)


def procurement_list(request):
    """List the procurement contracts the user may see, those the EU report lists marked."""
    project = project_current_or_404(user=request.user)
    page = Paginator(procurement_contract_list(user=request.user, project=project), 25).get_page(
        request.GET.get("page")
    )
    partners = procurement_partner_choices(user=request.user, project=project)
    return render(
        request,
        "finance/procurement_list.html",
        {
            "project": project,
            "page": page,
            "can_record": partners.exists(),
            "changeable": {c.pk for c in page if user_can_change_procurement(request.user, c)},
            "reported_above": PROCUREMENT_REPORTED_ABOVE,
        },
    )


def _procurement_form_view(request, *, contract=None):
    project = project_current_or_404(user=request.user) if contract is None else contract.partner.project
    partners = procurement_partner_choices(user=request.user, project=project)
    if not partners.exists() or (contract is not None and not user_can_change_procurement(request.user, contract)):
        raise PermissionDenied(_("Only the partner's staff and the directors record its contracts."))
    form = ProcurementContractForm(
        request.POST or None,
        instance=contract,
        partners=partners,
        expenses=procurement_expense_choices(user=request.user, project=project),
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ProcurementContractForm.Meta.fields}
        try:
            if contract is None:
                services.procurement_contract_create(actor=request.user, **data)
            else:
                data.pop("partner")
                services.procurement_contract_update(actor=request.user, contract=contract, **data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Contract saved."))
            return redirect("finance:procurement-list")
    return render(request, "finance/procurement_form.html", {"form": form, "contract": contract})


def procurement_create(request):
    """Record a contract a partner awarded."""
    return _procurement_form_view(request)


def procurement_edit(request, pk):
    """Correct a recorded contract."""
    return _procurement_form_view(request, contract=procurement_contract_get(user=request.user, pk=pk))


PROCUREMENT_DELETE_PAGE = DeletePage(
    name="contract",
    template="finance/procurement_delete.html",
    list_url="finance:procurement-list",
    deleted=gettext_lazy("The contract was removed from the register."),
    get=procurement_contract_get,
    deleted_by=procurement_contract_deleted_by,
    can_delete=user_can_change_procurement,
    refusal=lambda contract: _("Only the partner's staff and the directors remove its contracts."),
    delete=services.procurement_contract_delete,
    details=lambda contract: {"expenses": list(contract.expenses.all())},
)


def procurement_delete(request, pk):
    """Show what removing a contract from the register means; remove it on confirmation."""
    return delete_page(request, pk, PROCUREMENT_DELETE_PAGE)


def timesheet_list(request):
    """List the timesheets the user may see: a partner's staff their own organisation's, directors every one."""
    project = project_current_or_404(user=request.user)
    page = Paginator(timesheet_list_query(user=request.user, project=project), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "finance/timesheet_list.html",
        {"project": project, "page": page, "can_create": partner_of(request.user, project) is not None},
    )


def _timesheet_form_view(request, *, project, partner, timesheet=None):
    form = TimesheetForm(
        request.POST or None,
        actions=timesheet_actions(project=project),
        staff_members=staff_member_choices(partner=partner),
        timesheet=timesheet,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if timesheet is None:
                timesheet = services.timesheet_create(
                    actor=request.user,
                    staff_member=data["staff_member"],
                    month=data["month"],
                    hours_by_action=form.hours_by_action(),
                )
            else:
                timesheet = services.timesheet_update(
                    actor=request.user,
                    timesheet=timesheet,
                    revision=data["revision"],
                    hours_by_action=form.hours_by_action(),
                )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Timesheet saved. Tick the signatures, then declare it."))
            return redirect("finance:timesheet-detail", pk=timesheet.pk)
    return render(request, "finance/timesheet_form.html", {"form": form, "partner": partner, "timesheet": timesheet})


def timesheet_create(request):
    """Fill a timesheet of one of the user's organisation's staff."""
    project = project_current_or_404(user=request.user)
    partner = partner_of(request.user, project)
    if partner is None:
        raise PermissionDenied(_("Only partner staff fill timesheets."))
    return _timesheet_form_view(request, project=project, partner=partner)


def timesheet_edit(request, pk):
    """Change the hours of a draft or returned timesheet of the user's organisation."""
    timesheet = timesheet_get(user=request.user, pk=pk)
    if not user_can_change_timesheet(request.user, timesheet):
        raise PermissionDenied(_("Only your organisation's draft and returned timesheets can be changed."))
    partner = timesheet.staff_member.partner
    return _timesheet_form_view(request, project=partner.project, partner=partner, timesheet=timesheet)


def timesheet_detail(request, pk):
    """Show a timesheet's hours and amounts, its signature and its expense."""
    timesheet = timesheet_get(user=request.user, pk=pk)
    receipts = receipt_list(expenditure=timesheet.expenditure) if timesheet.expenditure else []
    return render(
        request,
        "finance/timesheet_detail.html",
        {
            "timesheet": timesheet,
            "rows": timesheet_rows_priced(timesheet),
            "receipts": receipts,
            "can_change": user_can_change_timesheet(request.user, timesheet),
        },
    )


def timesheet_pdf(request, pk):
    """Download the timesheet as it stands, as a PDF to sign."""
    timesheet = timesheet_get(user=request.user, pk=pk)
    response = HttpResponse(
        render_timesheet_pdf(timesheet, timesheet_rows_priced(timesheet)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="timesheet-{timesheet.pk}-{timesheet.month:%Y-%m}.pdf"'
    return response


@require_POST
def timesheet_sign(request, pk):
    timesheet = timesheet_get(user=request.user, pk=pk)
    run_service(request, services.timesheet_sign, _("Signatures recorded."), timesheet=timesheet)
    return redirect("finance:timesheet-detail", pk=pk)


@require_POST
def timesheet_declare(request, pk):
    timesheet = timesheet_get(user=request.user, pk=pk)
    run_service(
        request,
        services.timesheet_declare,
        _("Timesheet declared: its expense was submitted for verification."),
        timesheet=timesheet,
    )
    return redirect("finance:timesheet-detail", pk=pk)
