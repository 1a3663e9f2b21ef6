from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
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
from .forms import EntryFilterForm, ProgressEntryForm, ReviewForm
from .models import ProgressEntry
from .permissions import DELETABLE_STATUSES, user_can_change_entry, user_can_delete_entry, user_can_review_entry
from .selectors import (
    action_list,
    activity_get,
    activity_list_with_schedule,
    evidence_get,
    indicator_list_with_achieved,
    progress_entry_deleted_by,
    progress_entry_detail,
    progress_entry_get,
    progress_entry_list,
    progress_entry_next_in_queue,
    progress_entry_review_queue,
    recordable_action_get,
    recordable_action_ids,
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
