from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.forms import form_add_service_errors
from core.services import AlreadySaved
from core.uploads import attachment_response
from core.views import DeletePage, delete_page, run_service
from partners.permissions import partner_of, user_can_direct
from partners.selectors import partner_filter_choices, project_current_or_404

from . import services
from .charts import gantt_chart
from .forms import (
    EntryFilterForm,
    IndicatorForm,
    IndicatorMeasurementForm,
    ObjectiveForm,
    ProgressEntryForm,
    ResultForm,
    ReviewForm,
    TargetGroupForm,
)
from .models import IndicatorMeasurement, Objective, ProgressEntry, TargetGroup
from .permissions import (
    DELETABLE_STATUSES,
    user_can_change_entry,
    user_can_delete_entry,
    user_can_edit_logframe,
    user_can_review_entry,
)
from .selectors import (
    action_list,
    activity_get,
    activity_list_with_schedule,
    evidence_get,
    indicator_get,
    indicator_list_with_achieved,
    logframe_get,
    objective_get,
    progress_entry_deleted_by,
    progress_entry_detail,
    progress_entry_get,
    progress_entry_list,
    progress_entry_next_in_queue,
    progress_entry_review_queue,
    recordable_action_get,
    recordable_action_ids,
    result_get,
    target_group_get,
)


def activity_list(request):
    """List the activities with progress against the time elapsed."""
    project = project_current_or_404(user=request.user)
    today = timezone.localdate()
    activities = activity_list_with_schedule(project=project, today=today)
    return render(
        request,
        "activities/activity_list.html",
        {"project": project, "activities": activities, "elapsed": project.elapsed_months(today)},
    )


def activity_detail(request, number):
    """Show an activity: actions, indicators, Gantt chart and the progress reported on it."""
    project = project_current_or_404(user=request.user)
    today = timezone.localdate()
    activity = activity_get(user=request.user, project=project, number=number, today=today)
    actions = action_list(activity=activity)
    recordable = recordable_action_ids(partner=partner_of(request.user, project), activity=activity)
    return render(
        request,
        "activities/activity_detail.html",
        {
            "project": project,
            "activity": activity,
            "actions": actions,
            "recordable": recordable,
            "indicators": indicator_list_with_achieved(activity=activity),
            "entries": progress_entry_list(user=request.user, project=project, activity=activity)[:20],
            "gantt": gantt_chart(project=project, actions=actions, today=today),
        },
    )


def entry_list(request):
    """List the progress entries the user may see, filtered by status and partner."""
    project = project_current_or_404(user=request.user)
    form = EntryFilterForm(request.GET, partners=partner_filter_choices(user=request.user, project=project))
    filters = form.filters()
    entries = progress_entry_list(user=request.user, project=project, **filters)
    page = Paginator(entries, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/entry_list.html",
        {
            "project": project,
            "page": page,
            "statuses": ProgressEntry.Status.choices,
            **filters,
            "partners": list(form.fields["partner"].queryset),
            "deletable": {entry.pk for entry in page if user_can_delete_entry(request.user, entry)},
        },
    )


def review_queue(request):
    """List what partners submitted, oldest first, for the directors."""
    project = project_current_or_404(user=request.user)
    if not user_can_direct(request.user, project):
        raise PermissionDenied(_("Only directors review progress."))
    entries = progress_entry_review_queue(user=request.user, project=project)
    page = Paginator(entries, 25).get_page(request.GET.get("page"))
    return render(request, "activities/review_queue.html", {"project": project, "page": page})


def _entry_form_view(request, *, action, entry=None):
    initial = None if entry else {"date": timezone.localdate()}
    form = ProgressEntryForm(
        request.POST or None,
        request.FILES or None,
        action=action,
        entry=entry,
        initial=initial,
        session=request.session,
    )
    if request.method == "POST" and form.is_valid():
        try:
            fields = {
                "actor": request.user,
                "date": form.cleaned_data["date"],
                "percent_complete": form.cleaned_data["percent_complete"],
                "narrative": form.cleaned_data["narrative"],
                "indicator_values": form.indicator_values,
                "evidence": form.uploads(),
            }
            if entry is None:
                entry = services.progress_entry_create(
                    action=action, form_token=form.cleaned_data["form_token"], **fields
                )
                messages.success(request, _("Draft saved. Submit it when it is ready for the directors."))
            else:
                entry = services.progress_entry_update(entry=entry, revision=form.cleaned_data["revision"], **fields)
                if entry.status == ProgressEntry.Status.RETURNED:
                    messages.success(request, _("Changes saved. Next step: submit it again for review."))
                else:
                    messages.success(request, _("Changes saved."))
        except AlreadySaved as sent_before:
            form.uploads_saved()
            messages.info(request, _("This form was sent twice: the entry was saved once, and here it is."))
            return redirect("activities:entry-detail", pk=sent_before.instance.pk)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            form.uploads_saved()
            return redirect("activities:entry-detail", pk=entry.pk)
    if request.method == "POST":
        form.hold_uploads()
    can_delete = entry is not None and user_can_delete_entry(request.user, entry)
    return render(
        request,
        "activities/entry_form.html",
        {"form": form, "action": action, "entry": entry, "can_delete": can_delete},
    )


def entry_create(request, action_pk):
    """Record progress on an action of the user's organisation."""
    project = project_current_or_404(user=request.user)
    action = recordable_action_get(user=request.user, project=project, pk=action_pk)
    return _entry_form_view(request, action=action)


def entry_edit(request, pk):
    """Change a draft or returned entry of the user's organisation."""
    entry = progress_entry_get(user=request.user, pk=pk)
    if not user_can_change_entry(request.user, entry):
        raise PermissionDenied(_("Only your organisation's drafts and returned entries can be changed."))
    return _entry_form_view(request, action=entry.action, entry=entry)


def entry_detail(request, pk):
    """Show an entry with its values, files, review and audit history."""
    return _entry_detail_page(request, progress_entry_get(user=request.user, pk=pk))


def _entry_detail_page(request, entry, review_form=None):
    directs = user_can_direct(request.user, entry.action.activity.project)
    return render(
        request,
        "activities/entry_detail.html",
        {
            "entry": entry,
            **progress_entry_detail(entry),
            "can_change": user_can_change_entry(request.user, entry),
            "can_delete": user_can_delete_entry(request.user, entry),
            "can_review": user_can_review_entry(request.user, entry),
            "review_form": review_form or ReviewForm(),
            "next_in_queue": progress_entry_next_in_queue(user=request.user, entry=entry) if directs else None,
        },
    )


def _entry_deletion_refusal(entry) -> str:
    if entry.status in DELETABLE_STATUSES:
        return _("Only the staff of the entry's partner can delete it.")
    return _(
        "This entry is %(status)s: only drafts and returned entries can be deleted. "
        "What was submitted stays as the record of the work."
    ) % {"status": entry.get_status_display()}


ENTRY_DELETE_PAGE = DeletePage(
    name="entry",
    template="activities/entry_delete.html",
    list_url="activities:entry-list",
    deleted=gettext_lazy("The entry was deleted."),
    get=progress_entry_get,
    deleted_by=progress_entry_deleted_by,
    can_delete=user_can_delete_entry,
    refusal=_entry_deletion_refusal,
    delete=services.progress_entry_delete,
    details=progress_entry_detail,
)


def entry_delete(request, pk):
    """Show what deleting a draft or returned entry removes; delete it on confirmation."""
    return delete_page(request, pk, ENTRY_DELETE_PAGE)


@require_POST
def entry_submit(request, pk):
    entry = progress_entry_get(user=request.user, pk=pk)
    run_service(request, services.progress_entry_submit, _("Submitted to the directors for review."), entry=entry)
    return redirect("activities:entry-detail", pk=pk)


@require_POST
def entry_review(request, pk, decision):
    """Approve or return a submitted entry."""
    entry = progress_entry_get(user=request.user, pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        # Show the note again with what is wrong with it, rather than decide without it.
        return _entry_detail_page(request, entry, review_form=form)
    note = form.cleaned_data["note"]
    if decision == "approve" and not form.cleaned_data["confirmed"] and user_can_review_entry(request.user, entry):
        # An approval makes the figure the action's reported progress: ask once more, on a page of its own.
        return render(request, "activities/entry_approve_confirm.html", {"entry": entry, "note": note})
    if decision == "approve":
        run_service(request, services.progress_entry_approve, _("Entry approved."), entry=entry, note=note)
    else:
        run_service(
            request, services.progress_entry_return, _("Entry returned to the partner."), entry=entry, note=note
        )
    return redirect("activities:entry-detail", pk=pk)


def evidence_download(request, pk):
    """Send an evidence file to a user who may see its entry."""
    return attachment_response(evidence_get(user=request.user, pk=pk), preview="preview" in request.GET)


@require_POST
def evidence_delete(request, pk):
    evidence = evidence_get(user=request.user, pk=pk)
    entry_pk = evidence.entry_id
    run_service(request, services.evidence_delete, _("File removed."), evidence=evidence)
    return redirect("activities:entry-edit", pk=entry_pk)


def logframe(request):
    """Show the logframe: objectives, results, activities and their indicators with what they achieved."""
    project = project_current_or_404(user=request.user)
    return render(
        request,
        "activities/logframe.html",
        {
            "project": project,
            "logframe": logframe_get(project=project),
            "can_edit": user_can_edit_logframe(request.user, project),
        },
    )


@dataclass(frozen=True)
class LogframeKind:
    form: type
    title: str
    get: Callable | None = None
    build: Callable | None = None
    needs_project: bool = False


LOGFRAME_KINDS = {
    "objective": LogframeKind(
        ObjectiveForm,
        gettext_lazy("Objective"),
        get=lambda user, project, pk: objective_get(user=user, pk=pk),
        build=lambda project: Objective(project=project),
    ),
    "result": LogframeKind(
        ResultForm,
        gettext_lazy("Expected result"),
        get=lambda user, project, pk: result_get(user=user, pk=pk),
        needs_project=True,
    ),
    "indicator": LogframeKind(
        IndicatorForm,
        gettext_lazy("Indicator"),
        get=lambda user, project, pk: indicator_get(user=user, project=project, pk=pk),
        needs_project=True,
    ),
    "target-group": LogframeKind(
        TargetGroupForm,
        gettext_lazy("Target group"),
        get=lambda user, project, pk: target_group_get(user=user, pk=pk),
        build=lambda project: TargetGroup(project=project),
    ),
}


def _logframe_form_page(request, *, project, form_class, instance, title, activities=False, form_kwargs=None):
    if not user_can_edit_logframe(request.user, project):
        raise PermissionDenied(_("Only directors edit the logframe."))
    form = form_class(request.POST or None, instance=instance, **(form_kwargs or {}))
    if request.method == "POST" and form.is_valid():
        try:
            services.logframe_item_save(
                actor=request.user,
                project=project,
                item=form.instance,
                activities=form.cleaned_data["activities"] if activities else None,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("The logframe was saved."))
            return redirect("activities:logframe")
    return render(request, "activities/logframe_form.html", {"form": form, "title": title, "instance": instance})


def logframe_edit(request, kind, pk=None):
    """Add or change an objective, a result, an indicator or a target group; directors only."""
    project = project_current_or_404(user=request.user)
    spec = LOGFRAME_KINDS.get(kind)
    if spec is None:
        raise Http404
    instance = spec.get(request.user, project, pk) if pk is not None else spec.build(project) if spec.build else None
    return _logframe_form_page(
        request,
        project=project,
        form_class=spec.form,
        instance=instance,
        title=spec.title,
        activities=kind == "result",
        form_kwargs={"project": project} if spec.needs_project else None,
    )


def measurement_create(request, pk):
    """Record a value of an indicator as of a date; directors only."""
    project = project_current_or_404(user=request.user)
    indicator = indicator_get(user=request.user, project=project, pk=pk)
    return _logframe_form_page(
        request,
        project=project,
        form_class=IndicatorMeasurementForm,
        instance=IndicatorMeasurement(indicator=indicator),
        title=indicator,
    )
