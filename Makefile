# tokenwatch: `make run` serves the dashboard with real data, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
export TOKENWATCH_PUBLIC_API ?= 1

.PHONY: run install migrate demo serve test lint check worker beat bench screenshots clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

# Loads the bundled real snapshots through the ingest pipeline (idempotent: a
# second run finds the same bytes and changes nothing).
demo: migrate
	$(PY) manage.py load_demo

run: demo
	@echo "tokenwatch on http://$(HOST):$(PORT)/  (admin: $(PY) manage.py createsuperuser)"
	$(PY) manage.py runserver $(HOST):$(PORT)

serve: install
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The whole suite. Tests that need PostgreSQL, Redis or Chromium skip with a
# reason when those are missing, except under CI=true where a skip is a failure.
test: install lint
	$(PY) manage.py makemigrations --check --dry-run > /dev/null
	$(VENV)/bin/pytest $(PYTEST_ARGS)

worker: install
	$(VENV)/bin/celery -A tokenwatch worker -l info --concurrency 2

beat: install
	$(VENV)/bin/celery -A tokenwatch beat -l info

bench: install
	$(PY) bench/ingest.py

# Full-page PNGs of every dashboard page at 1440x900 (and 390x844 under phone/) in var/screenshots/,
# from the demo data, through Debian's Chromium (apt-get install chromium; no browser download).
screenshots: demo
	$(PY) tests/browser/screenshots.py

clean:
	rm -rf var .pytest_cache .ruff_cache
