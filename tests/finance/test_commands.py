from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from finance.models import ExchangeRate

pytestmark = pytest.mark.django_db


def _run(path):
    out = StringIO()
    call_command("import_rates", str(path), stdout=out)
    return out.getvalue()


def test_import_rates_loads_reports_and_reruns(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,month,rate\nBRL,2026-03,6.2500\nARS,2026-03,1450.5\n")
    assert "2 new, 0 changed, 0 unchanged" in _run(rates)
    assert "0 new, 0 changed, 2 unchanged" in _run(rates)
    rates.write_text("currency;month;rate\nBRL;2026-03;6.3\n")
    output = _run(rates)
    assert "changed  BRL 2026-03 6.250000 -> 6.3" in output
    assert "0 new, 1 changed, 0 unchanged" in output
    assert ExchangeRate.objects.get(currency="BRL").rate == Decimal("6.3")


def test_import_rates_refuses_a_bad_file_whole(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,month,rate\nBRL,2026-03,6.25\nPYG,2026-13,8200\n")
    with pytest.raises(CommandError, match="Line 3"):
        _run(rates)
    assert not ExchangeRate.objects.exists()
    with pytest.raises(CommandError, match="Cannot read"):
        _run(tmp_path / "missing.csv")
