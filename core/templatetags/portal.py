"""Template helpers of every page: the navigation's current page and quantities written without noise."""

from fnmatch import fnmatchcase

from django import template
from django.utils.safestring import mark_safe

from core.formatters import number_text

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_current(context, *patterns):
    """Mark a navigation link as the current page when the view's name matches one of `patterns` (globs)."""
    match = getattr(context.get("request"), "resolver_match", None)
    if match is not None and any(fnmatchcase(match.view_name, pattern) for pattern in patterns):
        return mark_safe(' aria-current="page"')
    return ""


@register.filter
def number(value):
    """Write a Decimal quantity in the active language without trailing zeros or exponent: 20, not 2E+1."""
    return number_text(value)
