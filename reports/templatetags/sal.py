import datetime

from django import template

register = template.Library()


@register.filter
def as_date(value):
    """Read an ISO date or datetime kept in the SAL's frozen figures, for the `date` filter."""
    if not value:
        return None
    if "T" in value:
        return datetime.datetime.fromisoformat(value)
    return datetime.date.fromisoformat(value)
