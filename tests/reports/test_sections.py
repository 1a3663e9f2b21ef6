"""The SAL's narrative chapters (Annex VI of the grant contract): compiled from the data, edited by directors."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader

from core.pdf import html_to_pdf
from reports import services
from reports.models import ProgressReport, ReportSection
from reports.pdf import progress_report_html
from reports.selectors import progress_report_document, report_section_list
from tests.factories import sal_approve


def _draft(world, language="en", period=None):
    return services.progress_report_create(actor=world.director, period=period or world.period1, language=language)


def _texts(report):
    return {(s.kind, s.activity.number if s.activity_id else None): s.text for s in report_section_list(report)}


def test_a_new_draft_has_every_chapter_compiled_from_the_periods_approved_data(sal_world):
    report = _draft(sal_world)
    texts = _texts(report)
    assert set(texts) == {("activities", 1)} | {
        (kind, None) for kind in ReportSection.Kind.values if kind != "activities"
    }
    # The approved entry with a narrative inside January to June; the one of July belongs to the next period.
    assert "Seminario a San Juan con 12 imprenditori." in texts[("activities", 1)]
    assert "Dopo il periodo." not in texts[("activities", 1)]
    assert texts[("partnership", None)] == "Partners that reported progress in the period: Veneto."
    assert texts[("sustainability", None)] == "" and texts[("lessons", None)] == ""


def test_compiling_again_keeps_what_directors_wrote_and_refreshes_the_rest(sal_world):
    report = _draft(sal_world)
    lessons = report.sections.get(kind="lessons")
    partnership = report.sections.get(kind="partnership")
    report = services.progress_report_sections_update(
        actor=sal_world.director,
        report=report,
        texts={lessons.pk: "Le filiere chiedono tempi lunghi.", partnership.pk: partnership.text},
        revision=report.revision,
    )
    lessons.refresh_from_db()
    partnership.refresh_from_db()
    assert lessons.edited_by == sal_world.director and partnership.edited_by is None
    # San Juan's staff now has an approved entry with a narrative in the period: the partnership text follows.
    sal_world.highlight.partner = sal_world.sanjuan
    sal_world.highlight.save()
    report = services.progress_report_sections_compile(
        actor=sal_world.director, report=report, revision=report.revision
    )
    texts = _texts(report)
    assert texts[("lessons", None)] == "Le filiere chiedono tempi lunghi."
    assert texts[("partnership", None)] == "Partners that reported progress in the period: San Juan, Veneto."


def test_a_new_version_takes_over_the_sections_written_by_hand(sal_world, django_capture_on_commit_callbacks):
    report = _draft(sal_world)
    lessons = report.sections.get(kind="lessons")
    report = services.progress_report_sections_update(
        actor=sal_world.director, report=report, texts={lessons.pk: "Scritto a mano."}, revision=report.revision
    )
    with django_capture_on_commit_callbacks(execute=True):
        sal_approve(actor=sal_world.director, report=report, revision=report.revision)
    second = _draft(sal_world)
    assert second.version == 2 and _texts(second)[("lessons", None)] == "Scritto a mano."


def test_a_stale_or_too_long_edit_saves_nothing(sal_world):
    report = _draft(sal_world)
    lessons, problems = report.sections.get(kind="lessons"), report.sections.get(kind="problems")
    with pytest.raises(ValidationError) as error:
        services.progress_report_sections_update(
            actor=sal_world.director, report=report, texts={lessons.pk: "x"}, revision=report.revision - 1
        )
    assert "Someone else changed this SAL meanwhile." in error.value.messages[0]
    with pytest.raises(ValidationError) as error:
        services.progress_report_sections_update(
            actor=sal_world.director,
            report=report,
            texts={problems.pk: "Scritto.", lessons.pk: "x" * 20_001},
            revision=report.revision,
        )
    assert f"section_{lessons.pk}" in error.value.message_dict
    problems.refresh_from_db()
    lessons.refresh_from_db()
    assert problems.edited_by is None and lessons.text == ""


def test_only_directors_edit_the_sections_of_a_draft(client, sal_world, django_capture_on_commit_callbacks):
    report = _draft(sal_world)
    url = reverse("reports:report-sections", args=[report.pk])
    client.force_login(sal_world.staff)
    assert client.get(url).status_code == 404
    client.force_login(sal_world.observer)
    assert client.get(url).status_code == 404  # observers see only approved SALs
    client.force_login(sal_world.director)
    page = client.get(url)
    assert page.status_code == 200 and "Activities carried out: activity 1 – Aggiornamento informativo" in (
        page.content.decode()
    )
    lessons = report.sections.get(kind="lessons")
    response = client.post(url, {"revision": report.revision, f"section_{lessons.pk}": "Scritto\r\nin due righe."})
    assert response.status_code == 302
    lessons.refresh_from_db()
    assert lessons.text == "Scritto\nin due righe."
    report.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        sal_approve(actor=sal_world.director, report=report, revision=report.revision)
    assert client.get(url).status_code == 403
    client.force_login(sal_world.observer)
    assert client.get(url).status_code == 403


def test_the_pdf_prints_the_chapters_in_the_order_of_the_eu_report(sal_world):
    report = _draft(sal_world)
    lessons = report.sections.get(kind="lessons")
    report = services.progress_report_sections_update(
        actor=sal_world.director,
        report=report,
        texts={lessons.pk: "Le filiere chiedono tempi lunghi."},
        revision=report.revision,
    )
    report = ProgressReport.objects.get(pk=report.pk)
    pdf, _pages = html_to_pdf(progress_report_html(report, progress_report_document(report)))
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    headings = [
        "2. Activities carried out",
        "3. Results against the logframe",
        "4. Problems met, measures taken and reasons for delays",
        "5. Updated action plan for the next period",
        "6. Partnership and cooperation",
        "7. Visibility",
        "8. Sustainability",
        "9. Lessons learned Le filiere chiedono tempi lunghi.",
        "10. Financial progress",
    ]
    positions = [text.index(heading, text.index("Directors' summary ", 2000)) for heading in headings]
    assert positions == sorted(positions)
    assert "7. Visibility Not written for this period." in text


def test_accepted_contributions_fill_their_chapters_and_others_do_not(sal_world):
    from reports.models import ContributionActivity, PartnerContribution

    activity = sal_world.action.activity
    for partner, status, word in ((sal_world.sanjuan, "approved", "Accettato"), (sal_world.lead, "returned", "Reso")):
        contribution = PartnerContribution.objects.create(
            period=sal_world.period1,
            partner=partner,
            author=sal_world.director,
            status=status,
            reviewer=sal_world.director,
            review_note="Da rivedere." if status == "returned" else "",
        )
        ContributionActivity.objects.create(
            contribution=contribution,
            activity=activity,
            done=f"{word}: tre seminari.",
            results=f"{word}: 12 imprese.",
            problems=f"{word}: ritardi doganali.",
            next_period=f"{word}: missione a Venezia.",
            visibility=f"{word}: articolo sul giornale.",
        )
    texts = _texts(_draft(sal_world))
    heading = "Activity 1 – Aggiornamento informativo – San Juan: "
    assert texts[("activities", 1)].startswith("San Juan: Accettato: tre seminari.")
    assert heading + "Accettato: 12 imprese." in texts[("results", None)]
    assert heading + "Accettato: ritardi doganali." in texts[("problems", None)]
    assert heading + "Accettato: missione a Venezia." in texts[("action_plan", None)]
    assert texts[("visibility", None)] == heading + "Accettato: articolo sul giornale."
    assert "Reso" not in "".join(texts.values())
    assert texts[("partnership", None)] == "Partners that reported progress in the period: San Juan, Veneto."


def test_a_period_with_more_to_say_than_a_section_holds_still_gets_its_draft(sal_world):
    from tests.factories import ProgressEntryFactory

    # 30 approved entries of 900 characters each: 27,000 and more, beyond the 20,000 a section holds.
    for day in range(1, 31):
        ProgressEntryFactory(
            action=sal_world.action,
            partner=sal_world.lead,
            date=datetime.date(2026, 4, day),
            percent_complete=50,
            status="approved",
            reviewer=sal_world.director,
            narrative=f"Giorno {day}: " + "attività svolta con le imprese. " * 28,
        )
    text = _texts(_draft(sal_world))[("activities", 1)]
    assert len(text) <= 20_000
    # The 30 new entries and the fixture's two approved ones with a narrative in the period.
    kept = text.count("Action 1.1 (Veneto")
    assert 0 < kept < 32
    assert text.endswith(f"[{32 - kept} more lines are in the period's approved entries and accepted contributions.]")
