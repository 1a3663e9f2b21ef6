from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.forms import form_add_service_errors
from core.uploads import attachment_response
from core.views import run_service
from partners.permissions import partner_of, user_can_direct
from partners.selectors import partner_list, project_current_or_404

from . import services
from .exports import expenditure_csv_rows, financial_statement_xlsx
from .forms import EUPaymentForm, ExpenditureForm, ReviewForm
from .models import Expenditure
from .permissions import user_can_change_expenditure, user_can_review_expenditure, user_can_see_project_finance
from .selectors import (
    budget_get,
    budget_list,
    cost_category_list,
    expenditure_get,
    expenditure_list,
    finance_overview,
    money_by,
    receipt_get,
)


def _scope(request, project):
    """Return None to see every partner's money, or the partner whose money the user may see; else refuse."""
    if user_can_see_project_finance(request.user, project):
        return None
    partner = partner_of(request.user, project)
    if partner is None:
        raise PermissionDenied(_("You may not see this project's finances."))
    return partner


@login_required
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


@login_required
def budget_detail(request):
    """Show a budget version by heading, partner and activity; earlier versions stay readable."""
    project = project_current_or_404(user=request.user)
    partner = _scope(request, project)
    version = request.GET.get("version")
    budget = budget_get(project=project, version=int(version) if version and version.isdigit() else None)
    lines = budget.lines.all() if partner is None else budget.lines.filter(partner=partner)
    expenses = Expenditure.objects.none()
    return render(
        request,
        "finance/budget.html",
        {
            "project": project,
            "budget": budget,
            "versions": budget_list(project=project),
            "partner": partner,
            "headings": money_by("category", lines=lines, expenses=expenses),
            "partners": money_by("partner", lines=lines, expenses=expenses),
            "activities": money_by("activity", lines=lines, expenses=expenses),
        },
    )


@login_required
@require_POST
def payment_create(request):
    """Record a payment received from the Commission."""
    project = project_current_or_404(user=request.user)
    form = EUPaymentForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("finance:overview")
    try:
        services.eu_payment_record(actor=request.user, project=project, **form.cleaned_data)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("EU payment recorded."))
    return redirect("finance:overview")


@login_required
def statement_xlsx(request):
    """Download the financial statement of the current budget as a spreadsheet."""
    project = project_current_or_404(user=request.user)
    partner = _scope(request, project)
    overview = finance_overview(project=project, partner=partner, today=timezone.localdate())
    if overview is None:
        raise Http404(_("The project has no current budget."))
    response = HttpResponse(
        financial_statement_xlsx(project=project, overview=overview),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{project.code}-financial-statement.xlsx"'
    return response


def _filters(request, project):
    status = request.GET.get("status")
    status = status if status in Expenditure.Status.values else None
    partners = list(partner_list(project=project)) if user_can_see_project_finance(request.user, project) else []
    partner = next((p for p in partners if str(p.pk) == request.GET.get("partner")), None)
    categories = list(cost_category_list())
    category = next((c for c in categories if str(c.pk) == request.GET.get("category")), None)
    return {
        "status": status,
        "partner": partner,
        "category": category,
        "partners": partners,
        "categories": categories,
        "statuses": Expenditure.Status.choices,
    }


@login_required
def expense_list(request):
    """List the expenses the user may see, filtered by status, partner and heading."""
    project = project_current_or_404(user=request.user)
    filters = _filters(request, project)
    expenses = expenditure_list(
        user=request.user,
        project=project,
        status=filters["status"],
        partner=filters["partner"],
        category=filters["category"],
    )
    page = Paginator(expenses, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "finance/expense_list.html",
        {
            "project": project,
            "page": page,
            "can_declare": partner_of(request.user, project) is not None,
            **filters,
        },
    )


@login_required
def expense_csv(request):
    """Download the filtered expense list as CSV."""
    project = project_current_or_404(user=request.user)
    filters = _filters(request, project)
    expenses = expenditure_list(
        user=request.user,
        project=project,
        status=filters["status"],
        partner=filters["partner"],
        category=filters["category"],
    )
    response = StreamingHttpResponse(expenditure_csv_rows(expenses), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.code}-expenses.csv"'
    return response


def _expense_form_view(request, *, partner, expenditure=None):
    form = ExpenditureForm(request.POST or None, request.FILES or None, partner=partner, expenditure=expenditure)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            "actor": request.user,
            "category": data["category"],
            "activity": data["activity"],
            "date_incurred": data["date_incurred"],
            "description": data["description"],
            "supplier": data["supplier"],
            "document_ref": data["document_ref"],
            "amount": data["amount"],
            "receipts": data["receipts"],
        }
        try:
            if expenditure is None:
                expenditure = services.expenditure_create(partner=partner, **fields)
                messages.success(request, _("Expense saved as a draft. Submit it when its receipts are attached."))
            else:
                expenditure = services.expenditure_update(expenditure=expenditure, revision=data["revision"], **fields)
                messages.success(request, _("Changes saved."))
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return redirect("finance:expense-detail", pk=expenditure.pk)
    return render(request, "finance/expense_form.html", {"form": form, "partner": partner, "expenditure": expenditure})


@login_required
def expense_create(request):
    """Declare an expense of the user's organisation."""
    project = project_current_or_404(user=request.user)
    partner = partner_of(request.user, project)
    if partner is None:
        raise PermissionDenied(_("Only partner staff declare expenses."))
    return _expense_form_view(request, partner=partner)


@login_required
def expense_edit(request, pk):
    """Change a draft or returned expense of the user's organisation."""
    expenditure = expenditure_get(user=request.user, pk=pk)
    if not user_can_change_expenditure(request.user, expenditure):
        raise PermissionDenied(_("Only your organisation's draft and returned expenses can be changed."))
    return _expense_form_view(request, partner=expenditure.partner, expenditure=expenditure)


@login_required
def expense_detail(request, pk):
    """Show an expense with its receipts, review and audit history."""
    expenditure = expenditure_get(user=request.user, pk=pk)
    history = list(expenditure.history.select_related("history_user").order_by("history_date", "history_id"))
    return render(
        request,
        "finance/expense_detail.html",
        {
            "expenditure": expenditure,
            "receipts": list(expenditure.receipts.all()),
            "history": history,
            "can_change": user_can_change_expenditure(request.user, expenditure),
            "can_review": user_can_review_expenditure(request.user, expenditure),
            "review_form": ReviewForm(),
        },
    )


@login_required
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


@login_required
@require_POST
def expense_review(request, pk, decision):
    """Verify, reject or return a submitted expense."""
    expenditure = expenditure_get(user=request.user, pk=pk)
    form = ReviewForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    service, success = REVIEWS[decision]
    run_service(request, service, str(success), expenditure=expenditure, note=note)
    return redirect("finance:expense-detail", pk=pk)


@login_required
def receipt_download(request, pk):
    """Send a receipt to a user who may see its expense."""
    return attachment_response(receipt_get(user=request.user, pk=pk))


@login_required
@require_POST
def receipt_delete(request, pk):
    receipt = receipt_get(user=request.user, pk=pk)
    run_service(request, services.receipt_delete, _("Receipt removed."), receipt=receipt)
    return redirect("finance:expense-edit", pk=receipt.expenditure_id)
