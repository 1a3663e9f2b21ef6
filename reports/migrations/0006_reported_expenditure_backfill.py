from django.db import migrations
from django.db.models import Q


def record_what_approved_sals_reported(apps, schema_editor):
    """Attribute each verified expense to the first SAL approved after its verification, in approval order.

    The frozen snapshots stay as they are; the rows make the next SALs count each expense once.
    """
    ProgressReport = apps.get_model("reports", "ProgressReport")
    ReportedExpenditure = apps.get_model("reports", "ReportedExpenditure")
    Expenditure = apps.get_model("finance", "Expenditure")
    approved = ProgressReport.objects.filter(status="approved").select_related("period").order_by("approved_at", "pk")
    for report in approved:
        period = report.period
        expenses = Expenditure.objects.filter(
            Q(reviewed_at__isnull=True) | Q(reviewed_at__lte=report.approved_at),
            partner__project_id=period.project_id,
            status="verified",
            date_incurred__lte=period.end,
            reported__isnull=True,
        )
        ReportedExpenditure.objects.bulk_create(
            ReportedExpenditure(report=report, expenditure_id=pk) for pk in expenses.values_list("pk", flat=True)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_reported_expenditure"),
    ]

    operations = [
        migrations.RunPython(record_what_approved_sals_reported, migrations.RunPython.noop),
    ]
