# COCAP portal. `make run` sets everything up and serves the portal; `make test` runs the test suite.
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format messages serve serve-worker check-deploy clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# The demo, on db.sqlite3 unless DATABASE_URL names another database: scripts/run-demo migrates, loads the
# demo data and serves it with the SAL PDF worker.
run: $(VENV)/.installed
	scripts/system-deps
	scripts/run-demo $(HOST):$(PORT)

# As in production: gunicorn (gunicorn.conf.py) on PostgreSQL (DATABASE_URL, by default the local server's
# database cocap), whitenoise, and the SAL task worker. See README.md, Production.
serve: $(VENV)/.installed
	scripts/system-deps
	scripts/serve

# The task worker alone (renders SAL PDFs), for a deployment where the web server runs elsewhere.
serve-worker: $(VENV)/.installed
	$(PY) manage.py db_worker --no-reload

test: $(VENV)/.installed
	scripts/system-deps --test
	$(PY) manage.py makemigrations --check --dry-run --settings=cocap.settings_test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate the translation catalogues and compile them (needs GNU gettext).
messages: $(VENV)/.installed
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l it -l es -l pt -l en --no-obsolete --extension=html,txt,py,svg --ignore=.venv --ignore=bench --ignore=node_modules
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv

check-deploy: $(VENV)/.installed
	DJANGO_SECRET_KEY=check-deploy-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz DJANGO_ALLOWED_HOSTS=cocap.example.org \
		$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles
