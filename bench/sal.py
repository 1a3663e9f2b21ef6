"""The full COCAP SAL with the demo data multiplied: figures, HTML, WeasyPrint alone, the whole approval and render.

Run: .venv/bin/python -m bench.sal [TIMES]   (default 10: ten times the demo's progress entries and expenses)
"""

import json
import resource
import sys
import time

from bench.harness import load_cocap_demo, peak_mib, setup_django, timed
from bench.pages import grow


def main():
    times = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from activities.models import ProgressEntry
    from finance.models import Expenditure
    from reports import services, tasks
    from reports.models import ProgressReport, ReportingPeriod
    from reports.pdf import html_to_pdf, progress_report_html
    from reports.selectors import progress_report_document

    project = load_cocap_demo()
    grow(project, times)
    director = get_user_model().objects.get(username="demo-director")
    period = ReportingPeriod.objects.get(project=project, number=2)
    # Prepared and approved as on its due date, whatever the date of the run.
    report = services.progress_report_create(actor=director, period=period, language="it", today=period.due_date)
    results = {
        "data": f"{times}x demo: {ProgressEntry.objects.count()} progress entries, "
        f"{Expenditure.objects.count()} expenses; SAL {period.number} ({period.start} – {period.end})",
    }

    with CaptureQueriesContext(connection) as queries:
        document, results["figures_seconds"] = timed(lambda: progress_report_document(report), repeat=3)
    results["figures_queries"] = len(queries) // 3
    html, results["html_seconds"] = timed(lambda: progress_report_html(report, document), repeat=3)
    results["html_bytes"] = len(html)
    (pdf, pages), results["weasyprint_seconds"] = timed(lambda: html_to_pdf(html), repeat=3)
    results["pages"] = pages
    results["pdf_bytes"] = len(pdf)
    results["weasyprint_peak_mib"] = peak_mib(lambda: html_to_pdf(html))

    # The whole path a director triggers: approve (snapshot) and the worker's render, store and hash.
    started = time.perf_counter()
    report = services.progress_report_approve(
        actor=director, report=report, revision=report.revision, today=period.due_date
    )
    tasks.progress_report_render.call(report.pk)
    results["approve_and_render_seconds"] = round(time.perf_counter() - started, 3)
    report = ProgressReport.objects.get(pk=report.pk)
    assert report.pdf_status == ProgressReport.PdfStatus.READY, report.pdf_error
    results["stored_pdf_pages"] = report.pdf_pages
    results["process_max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
