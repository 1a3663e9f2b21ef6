"""Reads on money: budgets and expenditure aggregates, computed in the database."""

from decimal import Decimal

from django.db.models import DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from partners.models import Partner, Project

from .models import Budget, BudgetLine, Expenditure

MONEY = DecimalField(max_digits=14, decimal_places=2)
DECLARED_STATUSES = (Expenditure.Status.SUBMITTED, Expenditure.Status.VERIFIED)


def _sum_per_partner(queryset: QuerySet, field: str):
    """A subquery summing `field` of `queryset` for the outer partner; 0 when there are no rows."""
    total = (
        queryset.filter(partner=OuterRef("pk")).order_by().values("partner").annotate(total=Sum(field)).values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY), Value(Decimal("0.00")), output_field=MONEY)


def budget_current(*, project: Project) -> Budget | None:
    return Budget.objects.filter(project=project, is_current=True).first()


def partner_list_with_money(*, project: Project, budget: Budget | None) -> QuerySet[Partner]:
    """Return the project's partners with their budget, declared and verified amounts in EUR."""
    return (
        Partner.objects.for_project(project)
        .select_related("organisation")
        .annotate(
            budget_amount=_sum_per_partner(BudgetLine.objects.filter(budget=budget), "amount"),
            declared_eur=_sum_per_partner(Expenditure.objects.filter(status__in=DECLARED_STATUSES), "amount_eur"),
            verified_eur=_sum_per_partner(Expenditure.objects.filter(status=Expenditure.Status.VERIFIED), "amount_eur"),
        )
    )
