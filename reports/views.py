import hashlib

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.forms import form_add_service_errors, form_errors_as_messages
from core.services import AlreadySaved
from core.views import run_service
from partners.permissions import partner_of, user_can_direct
from partners.selectors import project_current, project_current_or_404

from . import selectors, services
from .exports import XLSX_TYPE, progress_report_xlsx, report_file_name
from .forms import (
    ContributionForm,
    ContributionReviewForm,
    ProgressReportApproveForm,
    ProgressReportCreateForm,
    ProgressReportForm,
    ReportFinancialForm,
    ReportSectionsForm,
    VerifyForm,
)
from .models import ProgressReport
from .permissions import (
    user_can_change_contribution,
    user_can_change_report,
    user_can_prepare_report,
    user_can_review_contribution,
    user_can_view_reports,
)
from .selectors import (
    dashboard_director,
    dashboard_partner,
    progress_report_document,
    progress_report_figures,
    progress_report_find_by_hash,
    progress_report_get,
    project_overview,
    project_schedule,
    report_section_list,
    reporting_period_get,
    reporting_period_list,
    reporting_period_list_with_reports,
)


def home(request):
    """Show each role its dashboard: partner staff their work, directors the review queue, others the overview."""
    project = project_current(user=request.user)
    if project is None:
        return render(request, "reports/home.html", {"overview": None})
    today = timezone.localdate()
    partner = partner_of(request.user, project)
    if partner is not None:
        context = dashboard_partner(user=request.user, project=project, partner=partner, today=today)
        return render(request, "reports/dashboard_partner.html", {"project": project, **context})
    if user_can_direct(request.user, project):
        context = dashboard_director(user=request.user, project=project, today=today)
        return render(request, "reports/dashboard_director.html", {"project": project, **context})
    return overview(request)


def overview(request):
    """Show the user's project at a glance."""
    project = project_current(user=request.user)
    overview = project_overview(project=project) if project else None
    return render(request, "reports/home.html", {"overview": overview})


def _reports_project(request):
    project = project_current_or_404(user=request.user)
    if not user_can_view_reports(request.user, project):
        raise PermissionDenied(_("The SAL is read by the directors and observers of the project."))
    return project


def schedule(request):
    """Show every activity and action on the project's calendar: planned, reported, today and the SAL due dates."""
    project = project_current_or_404(user=request.user)
    return render(
        request,
        "reports/schedule.html",
        {"project": project, "calendar": project_schedule(project=project, today=timezone.localdate())},
    )


def report_list(request):
    """List the reporting periods with the SAL versions the user may read; directors start a new version here."""
    project = project_current_or_404(user=request.user)
    can_prepare = user_can_prepare_report(request.user, project)
    today = timezone.localdate()
    return render(
        request,
        "reports/report_list.html",
        {
            "project": project,
            "periods": reporting_period_list_with_reports(user=request.user, project=project, today=today),
            "can_prepare": can_prepare,
            "can_view": user_can_view_reports(request.user, project),
            "create_form": ProgressReportCreateForm(initial={"language": translation.get_language()}),
        },
    )


@require_POST
def report_create(request, number):
    """Start the next version of a period's SAL as a draft."""
    project = _reports_project(request)
    period = reporting_period_get(project=project, number=number)
    form = ProgressReportCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the language of the report."))
        return redirect("reports:report-list")
    try:
        report = services.progress_report_create(actor=request.user, period=period, **form.cleaned_data)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("reports:report-list")
    messages.success(request, _("Draft created: check the figures, write the summary, then approve."))
    return redirect("reports:report-detail", pk=report.pk)


def report_detail(request, pk):
    """Preview the SAL as it will print; directors edit the draft's summary here."""
    report = progress_report_get(user=request.user, pk=pk)
    can_change = user_can_change_report(request.user, report)
    form = ProgressReportForm(instance=report, initial={"revision": report.revision}) if can_change else None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(_("This SAL can no longer be changed."))
        form = ProgressReportForm(request.POST, instance=progress_report_get(user=request.user, pk=report.pk))
        if form.is_valid():
            try:
                services.progress_report_update(actor=request.user, report=report, **form.cleaned_data)
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                messages.success(request, _("Summary saved."))
                return redirect("reports:report-detail", pk=report.pk)
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "project": report.project,
            "document": progress_report_document(report),
            "form": form,
            "can_approve": can_change,
            "can_retry": user_can_prepare_report(request.user, report.project) and report.render_retryable(),
            "rendering": report.is_frozen
            and report.pdf_status in (report.PdfStatus.QUEUED, report.PdfStatus.RENDERING),
        },
    )


@require_POST
def report_approve(request, pk):
    """Approve the draft: its figures are frozen and its PDF is rendered in the background."""
    report = progress_report_get(user=request.user, pk=pk)
    form = ProgressReportApproveForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
        return redirect("reports:report-detail", pk=report.pk)
    if not user_can_prepare_report(request.user, report.project):
        raise PermissionDenied(_("Only the project's directors prepare the SAL."))
    if not form.cleaned_data["confirmed"] and not report.is_frozen:
        # Approval cannot be undone: ask once more, on a page of its own, before freezing.
        return render(
            request,
            "reports/report_approve_confirm.html",
            {"report": report, "project": report.project, "revision": form.cleaned_data["revision"]},
        )
    run_service(
        request,
        services.progress_report_approve,
        _("SAL approved: its figures are frozen. The PDF is being rendered."),
        report=report,
        revision=form.cleaned_data["revision"],
    )
    return redirect("reports:report-detail", pk=report.pk)


@require_POST
def report_render_retry(request, pk):
    report = progress_report_get(user=request.user, pk=pk)
    run_service(request, services.progress_report_render_retry, _("The PDF is being rendered again."), report=report)
    return redirect("reports:report-detail", pk=report.pk)


def report_pdf(request, pk):
    """Download the frozen PDF exactly as stored at approval."""
    report = progress_report_get(user=request.user, pk=pk)
    if report.pdf_status != ProgressReport.PdfStatus.READY:
        raise Http404(_("The PDF of this SAL is not ready."))
    response = FileResponse(report.pdf.open("rb"), as_attachment=True, filename=report_file_name(report) + ".pdf")
    response["Content-Type"] = "application/pdf"
    return response


def report_xlsx(request, pk):
    """Download the SAL's tables as a spreadsheet, from the frozen figures once approved."""
    report = progress_report_get(user=request.user, pk=pk)
    document = progress_report_document(report)
    response = HttpResponse(
        progress_report_xlsx(report, document["figures"]),
        content_type=XLSX_TYPE,
    )
    response["Content-Disposition"] = f'attachment; filename="{report_file_name(report)}.xlsx"'
    return response


def report_verify(request):
    """Say whether a PDF (or its SHA-256) is a SAL approved in one of the user's projects."""
    form = VerifyForm(request.POST, request.FILES) if request.method == "POST" else VerifyForm()
    checked, matches = None, []
    if request.method == "POST" and form.is_valid():
        checked = form.cleaned_data["sha256"]
        if form.cleaned_data["pdf"]:
            digest = hashlib.sha256()
            for chunk in form.cleaned_data["pdf"].chunks():
                digest.update(chunk)
            checked = digest.hexdigest()
        matches = list(progress_report_find_by_hash(user=request.user, sha256=checked))
    return render(request, "reports/report_verify.html", {"form": form, "checked": checked, "matches": matches})


def contribution_list(request):
    """List the partners' contributions the user may see; partner staff start their own for a period."""
    project = project_current_or_404(user=request.user)
    contributions = list(selectors.contribution_list(user=request.user, project=project))
    partner = partner_of(request.user, project)
    startable = []
    if partner is not None:
        started = {c.period_id for c in contributions if c.partner_id == partner.pk}
        startable = [period for period in reporting_period_list(project=project) if period.pk not in started]
    return render(
        request,
        "reports/contribution_list.html",
        {"project": project, "contributions": contributions, "startable": startable},
    )


@require_POST
def contribution_create(request, number):
    """Start the user's partner's contribution to period `number`."""
    project = project_current_or_404(user=request.user)
    period = reporting_period_get(project=project, number=number)
    try:
        contribution = services.contribution_create(actor=request.user, period=period)
    except AlreadySaved as existing:
        messages.info(request, _("Your organisation has a contribution for this period already: here it is."))
        return redirect("reports:contribution-detail", pk=existing.instance.pk)
    messages.success(request, _("Draft started. Write your part on each activity, then submit it."))
    return redirect("reports:contribution-edit", pk=contribution.pk)


def contribution_detail(request, pk):
    """Show a contribution, its review and, to directors, the review form."""
    return _contribution_page(request, selectors.contribution_get(user=request.user, pk=pk))


def _contribution_page(request, contribution, review_form=None):
    return render(
        request,
        "reports/contribution_detail.html",
        {
            "contribution": contribution,
            "can_change": user_can_change_contribution(request.user, contribution),
            "can_review": user_can_review_contribution(request.user, contribution),
            "review_form": review_form or ContributionReviewForm(),
        },
    )


def contribution_edit(request, pk):
    """Change the texts of a draft or returned contribution of the user's partner."""
    contribution = selectors.contribution_get(user=request.user, pk=pk)
    if not user_can_change_contribution(request.user, contribution):
        raise PermissionDenied(_("Only your organisation's draft and returned contributions can be changed."))
    form = ContributionForm(request.POST or None, contribution=contribution)
    if request.method == "POST" and form.is_valid():
        try:
            services.contribution_update(
                actor=request.user,
                contribution=contribution,
                revision=form.cleaned_data["revision"],
                texts=form.texts,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("reports:contribution-detail", pk=pk)
    return render(request, "reports/contribution_form.html", {"form": form, "contribution": contribution})


@require_POST
def contribution_submit(request, pk):
    contribution = selectors.contribution_get(user=request.user, pk=pk)
    run_service(
        request,
        services.contribution_submit,
        _("Submitted to the directors for review."),
        contribution=contribution,
    )
    return redirect("reports:contribution-detail", pk=pk)


@require_POST
def contribution_review(request, pk, decision):
    """Accept or return a submitted contribution."""
    contribution = selectors.contribution_get(user=request.user, pk=pk)
    form = ContributionReviewForm(request.POST)
    if not form.is_valid():
        return _contribution_page(request, contribution, review_form=form)
    note = form.cleaned_data["note"]
    if decision == "approve":
        service, done = services.contribution_approve, _("Contribution accepted.")
    else:
        service, done = services.contribution_return, _("Contribution returned to the partner.")
    run_service(request, service, done, contribution=contribution, note=note)
    return redirect("reports:contribution-detail", pk=pk)


def report_sections(request, pk):
    """Edit the draft's narrative sections, compiled from the period's data, before approval."""
    report = progress_report_get(user=request.user, pk=pk)
    if not user_can_change_report(request.user, report):
        raise PermissionDenied(_("Only the directors edit a SAL in draft."))
    sections = report_section_list(report)
    form = ReportSectionsForm(request.POST or None, sections=sections, initial={"revision": report.revision})
    if request.method == "POST" and form.is_valid():
        try:
            services.progress_report_sections_update(
                actor=request.user, report=report, texts=form.texts(), revision=form.cleaned_data["revision"]
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Sections saved."))
            return redirect("reports:report-detail", pk=report.pk)
    return render(request, "reports/report_sections.html", {"report": report, "form": form})


@require_POST
def report_sections_compile(request, pk):
    """Compile the draft's sections again from the data, keeping what directors wrote by hand."""
    report = progress_report_get(user=request.user, pk=pk)
    form = ProgressReportApproveForm(request.POST)
    if not form.is_valid():
        form_errors_as_messages(request, form)
    else:
        run_service(
            request,
            services.progress_report_sections_compile,
            _("Sections compiled again from the data; those written by hand are unchanged."),
            report=report,
            revision=form.cleaned_data["revision"],
        )
    return redirect("reports:report-sections", pk=report.pk)


def report_financial(request, pk):
    """Edit the draft's financial report: variance explanations, other funding and the next period's forecast."""
    report = progress_report_get(user=request.user, pk=pk)
    if not user_can_change_report(request.user, report):
        raise PermissionDenied(_("Only the directors edit a SAL in draft."))
    finance = progress_report_figures(report)["finance"] or {}
    form = ReportFinancialForm(
        request.POST or None,
        instance=report,
        variances=finance.get("variances", []),
        initial={"revision": report.revision},
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in ReportFinancialForm.Meta.fields}
        try:
            services.progress_report_financial_update(
                actor=request.user,
                report=progress_report_get(user=request.user, pk=pk),
                revision=form.cleaned_data["revision"],
                explanations=form.explanations(),
                **fields,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Financial report saved."))
            return redirect("reports:report-detail", pk=report.pk)
    return render(request, "reports/report_financial.html", {"report": report, "form": form, "finance": finance})
