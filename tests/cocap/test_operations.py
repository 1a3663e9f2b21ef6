import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.db import OperationalError
from django.urls import reverse

from tests.factories import ProjectFactory, director_of

pytestmark = pytest.mark.django_db


def test_health_answers_ok_when_the_database_answers(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_answers_503_when_the_database_does_not(client, monkeypatch):
    class DeadConnection:
        def cursor(self):
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("cocap.views.connection", DeadConnection())
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_each_request_is_logged_on_one_line_with_the_user_id_and_status(client, caplog):
    user = director_of(ProjectFactory(), user__username="mario.rossi", user__email="mario@example.org")
    client.force_login(user)
    with caplog.at_level(logging.INFO, logger="cocap.requests"):
        client.get(reverse("overview"))
        client.get("/no-such-page/")
    lines = [record.getMessage() for record in caplog.records if record.name == "cocap.requests"]
    assert lines[0].startswith(f"GET /overview/ 200 user={user.pk} ")
    assert lines[1].startswith(f"GET /no-such-page/ 404 user={user.pk} ")
    assert not any("mario" in line for line in lines)


def test_a_server_error_is_logged_and_mailed_to_the_admins(client, settings, monkeypatch, caplog):
    settings.ADMINS = ["ops@example.org"]
    client.raise_request_exception = False
    user = director_of(ProjectFactory())
    client.force_login(user)

    def broken(**kwargs):
        raise RuntimeError("the overview broke")

    monkeypatch.setattr("reports.views.project_overview", broken)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get(reverse("overview"))
    assert response.status_code == 500
    assert any(record.exc_info and "the overview broke" in str(record.exc_info[1]) for record in caplog.records)
    [message] = mail.outbox
    assert message.to == ["ops@example.org"] and "/overview/" in message.subject


def test_a_database_lost_while_loading_the_session_answers_503(client, monkeypatch):
    from django.contrib.sessions.backends.db import SessionStore

    client.force_login(director_of(ProjectFactory()))
    client.raise_request_exception = False

    def connection_lost(self):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(SessionStore, "load", connection_lost)
    response = client.get(reverse("overview"))
    assert response.status_code == 503
    assert "The portal is briefly unavailable" in response.content.decode()


def _manage(*args, **environment):
    """Run manage.py with the production settings and `environment`, in a process of its own."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cocap.settings", "DJANGO_DEBUG": "0", **environment}
    # The e2e tests set DJANGO_ALLOW_ASYNC_UNSAFE for the whole session; a deployment never has it.
    for name in ("DATABASE_URL", "DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        if name not in environment:
            env.pop(name, None)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_settings_pass_the_deployment_checks_with_no_warning():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="deploy-check-" + "x9Qz" * 16,
        DJANGO_ALLOWED_HOSTS="cocap.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_migrate_creates_the_cache_table_of_the_rate_limits():
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "cocap", "zero", verbosity=0)
    assert "cocap_cache" not in connection.introspection.table_names()
    call_command("migrate", "cocap", verbosity=0)
    assert "cocap_cache" in connection.introspection.table_names()
