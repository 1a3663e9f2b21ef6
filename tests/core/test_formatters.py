import datetime
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format

from core.formatters import number_text


@pytest.mark.parametrize(
    ("language", "value", "text"),
    [
        ("en", "20.00", "20"),
        ("en", "2.50", "2.5"),
        ("en", "12000", "12,000"),
        ("it", "1234.50", "1.234,5"),
        ("it", "0.00", "0"),
    ],
)
def test_number_text_writes_a_quantity_without_exponent_or_trailing_zeros(language, value, text):
    with translation.override(language):
        assert number_text(Decimal(value)) == text


def test_number_filter_writes_an_indicator_target_as_people_do():
    rendered = Template("{% load portal %}{{ target|number }}").render(Context({"target": Decimal("20.00")}))
    assert rendered == "20"


@pytest.mark.parametrize(
    ("language", "long", "short"),
    [
        ("en", "25/10/2026", "25/10/2026"),
        ("it", "25 ottobre 2026", "25/10/2026"),
        ("es", "25 de octubre de 2026", "25/10/2026"),
        ("pt", "25 de outubro de 2026", "25/10/2026"),
    ],
)
def test_dates_are_day_month_year_and_italian_months_lower_case(language, long, short):
    day = datetime.date(2026, 10, 25)
    with translation.override(language):
        assert date_format(day, "DATE_FORMAT") == long
        assert date_format(day, "SHORT_DATE_FORMAT") == short


def test_english_reads_a_typed_date_day_first():
    with translation.override("en"):
        assert forms.DateField().clean("03/04/2026") == datetime.date(2026, 4, 3)


def test_the_empty_choice_of_a_select_is_the_projects_translatable_label():
    field = forms.ModelChoiceField(queryset=None)
    assert str(field.empty_label) == "- Select an option -"
