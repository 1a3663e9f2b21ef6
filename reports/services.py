"""Writes on the SAL: drafting a version, editing it, approving (freezing) it and having its PDF rendered."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from activities.selectors import activities_of_partner
from core.mail import notify
from core.models import Notification
from core.services import AlreadySaved, delete_audited, lock_for_change, review_transition, save_audited
from finance import services as finance_services
from finance.models import Expenditure
from partners.permissions import partner_of, user_can_act_for_partner, user_can_direct
from partners.selectors import director_list

from .models import (
    CONTRIBUTION_TEXT_FIELDS,
    ContributionActivity,
    HeadingVariance,
    PartnerContribution,
    ProgressReport,
    ReportedExpenditure,
    ReportingPeriod,
    ReportSection,
)
from .permissions import CONTRIBUTION_EDITABLE_STATUSES, user_can_change_contribution, user_can_prepare_report
from .selectors import progress_report_figures, report_sections_compile
from .tasks import progress_report_render

PdfStatus = ProgressReport.PdfStatus


def _check_director(actor, project):
    if not user_can_prepare_report(actor, project):
        raise PermissionDenied(_("Only the project's directors prepare the SAL."))


def _lock_draft(report: ProgressReport, revision: int | None) -> ProgressReport:
    """Lock the report's row and check that it is still the draft the user saw."""
    return lock_for_change(
        report,
        editable=(ProgressReport.Status.DRAFT,),
        refused=_(
            "Version %(version)d was approved meanwhile and can no longer change; a correction is a new version."
        ),
        refused_code="frozen",
        revision=revision,
        stale=_("Someone else changed this SAL meanwhile. Reload the page to see their changes, then try again."),
    )


def _period_running(period: ReportingPeriod, message: str) -> ValidationError:
    end = formats.date_format(period.end, "SHORT_DATE_FORMAT")
    return ValidationError(message % {"number": period.number, "end": end}, code="period_not_ended")


@transaction.atomic
def progress_report_create(
    *, actor, period: ReportingPeriod, language: str, before_period_end: bool = False, today=None
) -> ProgressReport:
    """Start the next version of the period's SAL as a draft, taking over the latest version's summary.

    A period still running is prepared only when `before_period_end` says the director chose a draft of it,
    which is then marked as such.
    """
    _check_director(actor, period.project)
    running = not period.has_ended(today or timezone.localdate())
    if running and not before_period_end:
        raise _period_running(
            period,
            _(
                "The period of SAL %(number)d ends on %(end)s: the SAL is prepared after that. To see its "
                "figures so far, start a draft before the end, which is marked as such."
            ),
        )
    ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    existing = ProgressReport.objects.filter(period=period)
    draft = existing.filter(status=ProgressReport.Status.DRAFT).first()
    if draft is not None:
        raise ValidationError(
            _("Version %(version)d of this SAL is still a draft: edit or approve it first.")
            % {"version": draft.version},
            code="draft_exists",
        )
    latest = existing.order_by("-version").first()
    report = ProgressReport(
        period=period,
        version=(existing.aggregate(last=Max("version"))["last"] or 0) + 1,
        language=language,
        summary=latest.summary if latest else "",
        created_by=actor,
        before_period_end=running,
    )
    report.full_clean(validate_constraints=False)
    report._history_user = actor
    try:
        with transaction.atomic():
            report.save()
            _sections_fill(report, actor=actor, previous=latest)
    except IntegrityError as error:
        raise ValidationError(_("Another director started this version at the same moment."), code="race") from error
    return report


def _sections_fill(report: ProgressReport, *, actor, previous: ProgressReport | None = None):
    """Compile the draft's narrative sections; keep what directors wrote by hand, here or in `previous`."""
    compiled = report_sections_compile(report)
    existing = {(s.kind, s.activity_id): s for s in report.sections.all()}
    written = {(s.kind, s.activity_id): s for s in previous.sections.exclude(edited_by=None)} if previous else {}
    for (kind, activity_id), text in compiled.items():
        section = existing.get((kind, activity_id))
        if section is None:
            before = written.get((kind, activity_id))
            section = ReportSection(report=report, kind=kind, activity_id=activity_id, text=text)
            if before is not None:
                section.text, section.edited_by, section.edited_at = before.text, before.edited_by, before.edited_at
        elif section.edited_by_id is not None or section.text == text:
            continue
        else:
            section.text = text
        save_audited(section, actor)


@transaction.atomic
def progress_report_update(
    *, actor, report: ProgressReport, summary: str, language: str, revision: int
) -> ProgressReport:
    """Change the draft's summary and language."""
    _check_director(actor, report.project)
    locked = _lock_draft(report, revision)
    locked.summary, locked.language = summary, language
    locked.revision += 1
    locked.full_clean()
    locked._history_user = actor
    locked.save()
    return locked


@transaction.atomic
def progress_report_sections_compile(*, actor, report: ProgressReport, revision: int) -> ProgressReport:
    """Compile the draft's sections again from the data; sections written by hand stay as they are."""
    _check_director(actor, report.project)
    locked = _lock_draft(report, revision)
    _sections_fill(locked, actor=actor)
    locked.revision += 1
    locked._history_user = actor
    locked.save(update_fields=["revision"])
    return locked


@transaction.atomic
def progress_report_sections_update(*, actor, report: ProgressReport, texts: dict[int, str], revision: int):
    """Save the directors' text of each section whose text changed (keyed by section id)."""
    _check_director(actor, report.project)
    locked = _lock_draft(report, revision)
    errors = {}
    for section in locked.sections.filter(pk__in=texts):
        text = texts[section.pk]
        if text == section.text:
            continue
        section.text, section.edited_by, section.edited_at = text, actor, timezone.now()
        try:
            save_audited(section, actor)
        except ValidationError as error:
            errors[f"section_{section.pk}"] = error.messages
    if errors:
        raise ValidationError(errors)
    locked.revision += 1
    locked._history_user = actor
    locked.save(update_fields=["revision"])
    return locked


FINANCIAL_FIELDS = ("other_donors_eur", "in_kind_eur", "interest_eur", "funding_note", "forecast_eur", "forecast_note")


@transaction.atomic
def progress_report_financial_update(
    *, actor, report: ProgressReport, revision: int, explanations: dict[int, str], **fields
) -> ProgressReport:
    """Save the draft's financial report: the variance explanations by heading id, other funding and the forecast."""
    _check_director(actor, report.project)
    locked = _lock_draft(report, revision)
    for name in FINANCIAL_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.full_clean()
    existing = {variance.category_id: variance for variance in locked.variances.all()}
    for category_id, text in explanations.items():
        variance = existing.get(category_id)
        if not text.strip():
            if variance is not None:
                delete_audited(variance, actor)
            continue
        if variance is None:
            variance = HeadingVariance(report=locked, category_id=category_id)
        elif variance.explanation == text:
            continue
        variance.explanation = text
        save_audited(variance, actor)
    locked.revision += 1
    locked._history_user = actor
    locked.save()
    return locked


@transaction.atomic
def progress_report_approve(*, actor, report: ProgressReport, revision: int, today=None) -> ProgressReport:
    """Freeze the draft: store every figure as a snapshot and the expenses it reports, then have the PDF rendered.

    Under the period-average rate method the expenses it reports are converted at their period's average first;
    a missing monthly rate refuses the approval, and nothing changes.

    The period's expenses are locked first, whatever their status, so that one submitted or verified meanwhile
    cannot be counted in the snapshot without being recorded as reported, or the reverse: it waits, and goes to
    the next SAL.
    """
    _check_director(actor, report.project)
    locked = _lock_draft(report, revision)
    period = locked.period
    if not period.has_ended(today or timezone.localdate()):
        # Its figures would miss the rest of the period, and its expenses could not be reported again.
        raise _period_running(
            period, _("The period of SAL %(number)d ends on %(end)s: the SAL can be approved only after that.")
        )
    locked.before_period_end = False
    candidates = Expenditure.objects.for_project(period.project).filter(date_incurred__lte=period.end)
    list(candidates.select_for_update(of=("self",)).values_list("pk"))
    unreported = candidates.filter(status=Expenditure.Status.VERIFIED, reported__isnull=True)
    # Under the period-average method, what this SAL reports gets its final rate now, before the figures freeze:
    # the average of the period each expense was incurred in, which may be earlier than this SAL's.
    finance_services.expenditures_fix_period_rates(
        actor=actor,
        project=period.project,
        expenses=unreported,
        periods=list(ReportingPeriod.objects.filter(project=period.project).values_list("start", "end")),
    )
    locked.snapshot = progress_report_figures(locked)
    unexplained = [
        variance["label"]
        for variance in (locked.snapshot["finance"] or {}).get("variances", [])
        if variance["required"] and not variance["explanation"].strip()
    ]
    if unexplained:
        raise ValidationError(
            _(
                "Before approval, explain why these headings stray from plan by more than %(threshold)s %%: "
                "%(headings)s. Write it in the financial report."
            )
            % {
                "threshold": locked.snapshot["finance"]["variance_threshold_percent"],
                "headings": "; ".join(unexplained),
            },
            code="variance_unexplained",
        )
    ReportedExpenditure.objects.bulk_create(
        ReportedExpenditure(report=locked, expenditure_id=pk) for pk in unreported.values_list("pk", flat=True)
    )
    locked.status = ProgressReport.Status.APPROVED
    locked.approved_by, locked.approved_at = actor, timezone.now()
    locked.revision += 1
    _queue_render(locked)
    locked._history_user = actor
    locked.save()
    return locked


@transaction.atomic
def progress_report_render_retry(*, actor, report: ProgressReport) -> ProgressReport:
    """Queue the PDF of an approved SAL again after a failed or lost render."""
    _check_director(actor, report.project)
    locked = ProgressReport.objects.select_for_update().get(pk=report.pk)
    if not locked.render_retryable():
        raise ValidationError(_("The PDF of this SAL is not waiting for a retry."), code="not_retryable")
    _queue_render(locked)
    locked._history_user = actor
    locked.save()
    return locked


def _queue_render(report: ProgressReport):
    report.pdf_status, report.pdf_error, report.pdf_started_at = PdfStatus.QUEUED, "", timezone.now()
    report_id = report.pk
    transaction.on_commit(lambda: progress_report_render.enqueue(report_id))


CONTRIBUTION_REVIEWED = (PartnerContribution.Status.APPROVED, PartnerContribution.Status.RETURNED)


@transaction.atomic
def contribution_create(*, actor, period: ReportingPeriod) -> PartnerContribution:
    """Start the actor's partner's draft contribution to `period`, with a part for each activity it works on.

    Raise AlreadySaved with the partner's contribution if it has one for the period (a colleague's, or a
    double click's): a partner writes one contribution a period.
    """
    partner = partner_of(actor, period.project)
    if partner is None:
        raise PermissionDenied(_("Only a partner's staff write its contribution."))
    # The period's row is locked so that two colleagues starting at once make one contribution.
    ReportingPeriod.objects.select_for_update().get(pk=period.pk)
    if existing := PartnerContribution.objects.filter(period=period, partner=partner).first():
        raise AlreadySaved(existing)
    contribution = PartnerContribution(period=period, partner=partner, author=actor)
    save_audited(contribution, actor)
    for activity in activities_of_partner(partner=partner):
        save_audited(ContributionActivity(contribution=contribution, activity=activity), actor)
    return contribution


@transaction.atomic
def contribution_update(
    *, actor, contribution: PartnerContribution, revision: int, texts: dict[int, dict[str, str]]
) -> PartnerContribution:
    """Change the texts of a draft or returned contribution: `texts` maps each part's id to its fields."""
    locked = lock_for_change(
        contribution,
        editable=CONTRIBUTION_EDITABLE_STATUSES,
        refused=_("This contribution is %(status)s and can no longer be changed."),
        permitted=lambda row: user_can_change_contribution(actor, row),
        denied=_("You can change only your own organisation's contributions."),
        revision=revision,
        stale=_(
            "Someone else saved this contribution while you were editing it. Your changes were not saved: "
            "copy them, reload the page to see the current version, and apply them again."
        ),
        select_related=("period__project",),
    )
    for line in locked.lines.all():
        for field, text in texts.get(line.pk, {}).items():
            if field in CONTRIBUTION_TEXT_FIELDS:
                setattr(line, field, text)
        save_audited(line, actor)
    locked.revision += 1
    save_audited(locked, actor)
    return locked


def _contribution_transition(contribution, **kwargs):
    return review_transition(contribution, reviewed_statuses=CONTRIBUTION_REVIEWED, **kwargs)


@transaction.atomic
def contribution_submit(*, actor, contribution: PartnerContribution) -> PartnerContribution:
    """Send a draft or returned contribution to the directors for review."""
    if not user_can_act_for_partner(actor, contribution.partner):
        raise PermissionDenied(_("You can submit only your own organisation's contribution."))
    contribution = _contribution_transition(
        contribution, allowed_from=CONTRIBUTION_EDITABLE_STATUSES, to=PartnerContribution.Status.SUBMITTED, actor=actor
    )
    notify(
        recipients=director_list(project=contribution.period.project),
        actor=actor,
        verb=Notification.Verb.SUBMITTED,
        target=contribution,
        summary=str(contribution),
        link=reverse("reports:contribution-detail", args=[contribution.pk]),
        subject=_("COCAP: %(partner)s's contribution to period %(number)d submitted for review")
        % {"partner": contribution.partner, "number": contribution.period.number},
        template="reports/email/contribution_submitted.txt",
        context={"contribution": contribution, "actor": actor},
    )
    return contribution


def _require_contribution_reviewer(actor, contribution):
    if not user_can_direct(actor, contribution.period.project):
        raise PermissionDenied(_("Only directors review contributions."))


@transaction.atomic
def contribution_approve(*, actor, contribution: PartnerContribution, note: str = "") -> PartnerContribution:
    """Accept a submitted contribution: the SAL of its period may now compile it."""
    _require_contribution_reviewer(actor, contribution)
    contribution = _contribution_transition(
        contribution,
        allowed_from=(PartnerContribution.Status.SUBMITTED,),
        to=PartnerContribution.Status.APPROVED,
        actor=actor,
        note=note,
    )
    _notify_contribution_author(
        contribution,
        _("COCAP: your contribution to period %(number)d was accepted"),
        actor=actor,
        verb=Notification.Verb.APPROVED,
    )
    return contribution


@transaction.atomic
def contribution_return(*, actor, contribution: PartnerContribution, note: str) -> PartnerContribution:
    """Send a submitted contribution back to its partner with the reason."""
    _require_contribution_reviewer(actor, contribution)
    if not note.strip():
        raise ValidationError(
            {"review_note": _("Say what needs fixing when you return a contribution.")}, code="required"
        )
    contribution = _contribution_transition(
        contribution,
        allowed_from=(PartnerContribution.Status.SUBMITTED,),
        to=PartnerContribution.Status.RETURNED,
        actor=actor,
        note=note,
    )
    _notify_contribution_author(
        contribution,
        _("COCAP: your contribution to period %(number)d was returned"),
        actor=actor,
        verb=Notification.Verb.RETURNED,
    )
    return contribution


def _notify_contribution_author(contribution, subject, *, actor, verb):
    notify(
        recipients=[contribution.author],
        actor=actor,
        verb=verb,
        target=contribution,
        summary=str(contribution),
        link=reverse("reports:contribution-detail", args=[contribution.pk]),
        subject=subject % {"number": contribution.period.number},
        template="reports/email/contribution_reviewed.txt",
        context={"contribution": contribution},
    )
