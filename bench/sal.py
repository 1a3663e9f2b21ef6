"""The full COCAP SAL with the demo data multiplied: figures, HTML, WeasyPrint alone, the whole approval and render.

"WeasyPrint alone" lays out the same HTML into a plain PDF; the worker's render adds the figures, the XLSX
companion, tags (PDF/UA-1) and PDF/A-3b, storing and hashing. `render_over_weasyprint_same_pdf` compares the
render with WeasyPrint writing the same tagged PDF/A-3b, `render_over_weasyprint_plain` with a plain PDF.

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
    from weasyprint import HTML

    from activities.models import ProgressEntry
    from core.pdf import PDF_BASE_URL, StaticFilesFetcher, html_to_pdf
    from finance.models import Expenditure
    from reports import services, tasks
    from reports.exports import XLSX_TYPE, progress_report_xlsx
    from reports.models import ProgressReport, ReportingPeriod
    from reports.pdf import progress_report_html
    from reports.selectors import progress_report_document, progress_report_figures

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
    xlsx, results["xlsx_seconds"] = timed(lambda: progress_report_xlsx(report, document["figures"]), repeat=3)

    def weasyprint_alone():
        return HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticFilesFetcher()).write_pdf()

    plain, results["weasyprint_seconds"] = timed(weasyprint_alone, repeat=3)
    results["weasyprint_pdf_bytes"] = len(plain)
    supplements = (("sal.xlsx", XLSX_TYPE, xlsx),)
    (pdf, pages), results["archival_pdf_seconds"] = timed(lambda: html_to_pdf(html, supplements=supplements), repeat=3)
    results["pages"] = pages
    results["pdf_bytes"] = len(pdf)
    results["weasyprint_peak_mib"] = peak_mib(lambda: html_to_pdf(html, supplements=supplements))

    # The whole path a director triggers: approve (snapshot); the test settings' task backend renders at once.
    variances = progress_report_figures(report)["finance"]["variances"]
    explanations = {v["category"]: "Bench." for v in variances if v["required"]}
    report = services.progress_report_financial_update(
        actor=director, report=report, revision=report.revision, explanations=explanations
    )
    started = time.perf_counter()
    report = services.progress_report_approve(
        actor=director, report=report, revision=report.revision, today=period.due_date
    )
    tasks.progress_report_render.call(report.pk)
    results["approve_and_render_seconds"] = round(time.perf_counter() - started, 3)
    # The worker's render alone, as the task runs it: frozen figures, HTML, XLSX, PDF, store and hash.
    ProgressReport.objects.filter(pk=report.pk).update(pdf_status=ProgressReport.PdfStatus.QUEUED, pdf="")
    started = time.perf_counter()
    tasks.progress_report_render.call(report.pk)
    results["render_seconds"] = round(time.perf_counter() - started, 3)
    # Against WeasyPrint writing the same tagged PDF/A-3b, and against a plain untagged PDF of the same HTML.
    results["render_over_weasyprint_same_pdf"] = round(results["render_seconds"] / results["archival_pdf_seconds"], 2)
    results["render_over_weasyprint_plain"] = round(results["render_seconds"] / results["weasyprint_seconds"], 2)
    report = ProgressReport.objects.get(pk=report.pk)
    assert report.pdf_status == ProgressReport.PdfStatus.READY, report.pdf_error
    results["stored_pdf_pages"] = report.pdf_pages
    results["process_max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
