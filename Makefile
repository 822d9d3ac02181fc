# Harmonie: `make demo` serves the app with a demo session; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DEMO_DIR := var/demo
DEMO_CANDIDATES ?= 3000
DEMO_SEED ?= 2026
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: system-deps install install-dev assets demo demo-data serve test test-postgres test-attack test-browser lint types layers format bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(PY) requirements.txt
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# WeasyPrint (the commission's minutes, R-FAIR-6) loads Pango from the system: installed
# from Debian's packages when missing (as root, or through sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-deps:
	@ldconfig -p | grep -q libpangoft2-1.0 || { echo "Installation de Pango (procès-verbal PDF)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	  libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null; }

install: system-deps $(VENV)/.installed assets

install-dev: system-deps $(VENV)/.installed-dev assets

# Front-end packages pinned in package-lock.json, copied where the app serves them.
harmonie/static/vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p harmonie/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map harmonie/static/vendor/
	touch $@

assets: harmonie/static/vendor/.installed

# --if-absent: once the demo session is in the database, later runs keep the database as
# it is (work done in Harmonie included); `make clean` starts afresh (R-TRUST-2).
demo-data: install
	mkdir -p $(DEMO_DIR)
	$(PY) manage.py migrate --no-input -v 0
	test -f $(DEMO_DIR)/session.json || $(PY) manage.py generate_session --candidates $(DEMO_CANDIDATES) --seed $(DEMO_SEED) -o $(DEMO_DIR)/session.json
	$(PY) manage.py import_session --if-absent $(DEMO_DIR)/session.json

demo: demo-data
	$(PY) manage.py demo_accounts
	@$(MAKE) --no-print-directory serve

# The web server, the task worker and the two stand-in remote systems, stopped together.
serve:
	@echo "Harmonie : http://127.0.0.1:8000 (Ctrl+C pour arrêter)"
	@bash -c 'trap "kill 0" EXIT; \
	  $(PY) -m standins.results --port 8101 --db var/standin-results.sqlite3 & \
	  $(PY) -m standins.payroll --port 8102 --db var/standin-payroll.sqlite3 & \
	  $(PY) manage.py db_worker --queue-name "*" & \
	  $(PY) manage.py runserver 127.0.0.1:8000 --noreload'

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The layers of docs/architecture.md (pyproject.toml [tool.importlinter]) and the types of
# the rule modules, services, selectors and permissions ([tool.mypy]).
layers: install-dev
	$(VENV)/bin/lint-imports

types: install-dev
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The whole suite on the embedded database (browser tests skip without Chromium).
test: install-dev
	mkdir -p var
	$(PY) manage.py makemigrations --check --dry-run -v 0
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest

test-postgres: install-dev
	DATABASE_URL=$(PG_URL) $(PY) -m pytest --create-db -m "not browser"

# The bounded attack pass (issue 12; .ci/run after the PostgreSQL pass): Schemathesis on
# every operation with every role's token, the edge's bad inputs and the import fuzz tests,
# on PostgreSQL; fails on any 5xx or schema violation (a few minutes).
FUZZ_EXAMPLES ?= 20
FUZZ_IMPORT_EXAMPLES ?= 200
test-attack: install-dev
	HARMONIE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HARMONIE_FUZZ_IMPORT_EXAMPLES=$(FUZZ_IMPORT_EXAMPLES) \
	  DATABASE_URL=$(PG_URL) $(PY) -m pytest --create-db -m "not browser" \
	  tests/security/test_schemathesis.py tests/security/test_edge.py \
	  tests/referential/test_import_fuzz.py tests/referential/test_import_hostile.py

test-browser: install-dev
	$(PY) -m pytest -m browser

bench: install-dev
	$(PY) bench/run.py $(SIZES)

# `make bench SIZES="60000"` for a shorter run.

clean:
	rm -rf var/demo var/*.sqlite3* var/scans var/media
