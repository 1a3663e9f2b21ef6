import runpy
import types
from pathlib import Path

import pytest
from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _conf(monkeypatch, cores, **environ):
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: cores)
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_gunicorn_runs_one_worker_per_core(monkeypatch, cores):
    conf = _conf(monkeypatch, cores)
    assert conf["workers"] == cores
    assert conf["threads"] == 4


def test_gunicorn_takes_workers_and_threads_from_the_environment(monkeypatch):
    conf = _conf(monkeypatch, 2, GUNICORN_WORKERS="5", GUNICORN_THREADS="1")
    assert (conf["workers"], conf["threads"]) == (5, 1)


def test_every_name_in_the_gunicorn_config_is_a_gunicorn_setting_it_accepts(monkeypatch):
    # gunicorn skips names it does not know without a word: a misspelt setting would silently not apply.
    settings = Config()
    for name, value in _conf(monkeypatch, 2).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        assert name in settings.settings, name
        settings.set(name, value)
    assert settings.preload_app
