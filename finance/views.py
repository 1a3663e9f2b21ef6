from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
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
from .exports import expenditure_csv_rows, financial_statement_xlsx
from .forms import BudgetVersionForm, EUPaymentForm, ExpenditureForm, ExpenseFilterForm, ReviewForm
from .models import Expenditure
from .permissions import (
    DELETABLE_STATUSES,
    user_can_change_expenditure,
    user_can_delete_expenditure,
    user_can_review_expenditure,
    user_can_see_project_finance,
)
from .selectors import (
    budget_breakdown,
    budget_get,
    budget_list,
    cost_category_list,
    expenditure_deleted_by,
    expenditure_detail,
    expenditure_get,
    expenditure_list,
    expenditure_statement_list,
    expenditure_verification_queue,
    finance_overview,
    receipt_get,
    receipt_list,
)


def _scope(request, project):
    """Return None to see every partner's money, or the partner whose money the user may see; else refuse."""
    if user_can_see_project_finance(request.user, project):
        return None
    partner = partner_of(request.user, project)
    if partner is None:
        raise PermissionDenied(_("You may not see this project's finances."))
    return partner


def overview(request):
    """Show budget against declared and verified costs, the EU share and the EU rule checks."""
    project = project_current_or_404(user=request.user)
    partner = _scope(request, project)
    return render(
        request,
        "finance/overview.html",
        {
            "project": project,
            "overview": finance_overview(project=project, partner=partner, today=timezone.localdate()),
            "can_record_payments": user_can_direct(request.user, project),
            "payment_form": EUPaymentForm(),
        },
    )


def budget_detail(request):
    """Show a budget version by heading, partner and activity; earlier versions stay readable."""
    project = project_current_or_404(user=request.user)
    partner = _scope(request, project)
    form = BudgetVersionForm(request.GET)
    # A version that is not a number (a tampered link) shows the current budget.
    budget = budget_get(project=project, version=form.cleaned_data["version"] if form.is_valid() else None)
    return render(
        request,
        "finance/budget.html",
        {
            "project": project,
            "budget": budget,
            "versions": budget_list(project=project),
            "partner": partner,
            **budget_breakdown(budget=budget, partner=partner),
        },
    )


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
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
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
    page = Paginator(expenses, 25).get_page(request.GET.get("page"))
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
