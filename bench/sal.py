"""The full COCAP SAL with the demo data multiplied: figures, HTML, WeasyPrint alone, the whole approval and render.

Run: .venv/bin/python -m bench.sal [TIMES]   (default 10: ten times the demo's progress entries and expenses)
"""

import json
import resource
import sys
import time
import tracemalloc

from bench.harness import load_cocap_demo, setup_django
from bench.pages import grow


def timed(function, repeat=3):
    """Return the best wall time in seconds of `repeat` calls, and the last result."""
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return round(best, 3), result


def peak_mib(function):
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / 2**20, 1)


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
    report = services.progress_report_create(actor=director, period=period, language="it")
    results = {
        "data": f"{times}x demo: {ProgressEntry.objects.count()} progress entries, "
        f"{Expenditure.objects.count()} expenses; SAL {period.number} ({period.start} – {period.end})",
    }

    with CaptureQueriesContext(connection) as queries:
        results["figures_seconds"], document = timed(lambda: progress_report_document(report))
    results["figures_queries"] = len(queries) // 3
    results["html_seconds"], html = timed(lambda: progress_report_html(report, document))
    results["html_bytes"] = len(html)
    results["weasyprint_seconds"], (pdf, pages) = timed(lambda: html_to_pdf(html))
    results["pages"] = pages
    results["pdf_bytes"] = len(pdf)
    results["weasyprint_peak_mib"] = peak_mib(lambda: html_to_pdf(html))

    # The whole path a director triggers: approve (snapshot) and the worker's render, store and hash.
    started = time.perf_counter()
    report = services.progress_report_approve(actor=director, report=report, revision=report.revision)
    tasks.progress_report_render.call(report.pk)
    results["approve_and_render_seconds"] = round(time.perf_counter() - started, 3)
    report = ProgressReport.objects.get(pk=report.pk)
    assert report.pdf_status == ProgressReport.PdfStatus.READY, report.pdf_error
    results["stored_pdf_pages"] = report.pdf_pages
    results["process_max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
