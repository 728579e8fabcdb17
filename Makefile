# complaintkit: `make demo` runs the main job on the embedded store, `make test` runs every check,
# `make check` is the fast loop while editing (no database servers, browser or data sets; the
# tests run on every core with pytest-xdist).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STORE := tinydb://demo/complaints.json

.PHONY: setup demo test test-djangocrm check lint typecheck pytest bench bench-import bench-tinydb bench-help bench-sql bench-storage bench-reports bench-migrate bench-contention bench-api docs-images clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,mysql,ml,api]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	rm -rf demo && mkdir -p demo
	$(BIN)/complaintkit --store $(DEMO_STORE) init
	$(BIN)/complaintkit --store $(DEMO_STORE) import examples/complaints.csv
	$(BIN)/complaintkit --store $(DEMO_STORE) list --limit 10
	$(BIN)/complaintkit --store $(DEMO_STORE) report summary
	$(BIN)/complaintkit --store $(DEMO_STORE) --lang zh report summary
	$(BIN)/complaintkit --store $(DEMO_STORE) report summary --out demo/summary.html

lint: $(STAMP)
	$(BIN)/ruff check src plugins cli tests benchmarks integrations docs/generate.py docs/screenshots.py
	$(BIN)/ruff format --check src plugins cli tests benchmarks integrations docs/generate.py docs/screenshots.py
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck test-djangocrm pytest

# DjangoCRM (django-crm-admin 1.7.0, Django 5.2) extended by integrations/djangocrm, in a venv of
# its own so the CRM's pins stay out of .venv; what runs, and when it skips, is said in
# integrations/djangocrm/run-tests.sh (about a minute and a half).
DJANGOCRM := integrations/djangocrm
DJANGOCRM_BIN := $(DJANGOCRM)/.venv/bin
DJANGOCRM_STAMP := $(DJANGOCRM)/.venv/.installed
DJANGOCRM_PG ?= postgresql://postgres@127.0.0.1:5432/ck_djangocrm

$(DJANGOCRM_STAMP): $(DJANGOCRM)/pyproject.toml pyproject.toml
	$(PYTHON) -m venv $(DJANGOCRM)/.venv
	$(DJANGOCRM_BIN)/python -m pip install --quiet --upgrade pip
	$(DJANGOCRM_BIN)/python -m pip install --quiet -e '.[sql,postgres]' -e '$(DJANGOCRM)[test,postgres]'
	touch $(DJANGOCRM_STAMP)

test-djangocrm:
	DJANGOCRM_PG='$(DJANGOCRM_PG)' bash $(DJANGOCRM)/run-tests.sh

# The fast loop: lint, types and the tests that need no database server, browser, data set or
# mounted file system (about a minute on 2 cores). `make test` still runs everything.
check: lint typecheck
	COMPLAINTKIT_QUICK=1 $(BIN)/pytest -q -p no:cacheprovider -r fE --durations=5 -n auto

# Every figure of issue 16 on SQLite, PostgreSQL and MariaDB (those that answer here), one
# table of ratios against floors measured in the same run: import and migrations against raw
# writes, find()/facts() against a raw fetch, reports against a raw read, list/show against
# --help, one transition. SIZE=N complaints (default 20000; about 10 minutes on 2 cores),
# REPEAT=n runs per figure (median), BACKENDS="sqlite postgresql" to choose, SKIP="reports facts"
# to leave figures out (MariaDB's facts statement takes minutes at 20,000).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_issue16.py --n $(or $(SIZE),20000) --repeat $(or $(REPEAT),1) $(foreach b,$(BACKENDS),--backend $(b)) $(foreach s,$(SKIP),--skip $(s))

# The TinyDB import against its floor and the no-model bound (what `make bench` ran before).
bench-import: $(STAMP)
	$(BIN)/python benchmarks/bench_import.py --n 10000 --n 100000

# Every everyday command on a TinyDB store of SIZE complaints against `complaintkit --help`.
bench-tinydb: $(STAMP)
	$(BIN)/python benchmarks/bench_tinydb_commands.py --n $(or $(SIZE),20000) --repeat $(or $(REPEAT),3)

# How light `complaintkit --help` is, against `python -c "import click"` (target: under 2x).
bench-help: $(STAMP)
	$(BIN)/python benchmarks/bench_help.py --repeat 21

# Issue 16's yardstick on SQLite with the CFPB file (~51k): each report as a process against a
# process reading the tables raw, full find()/facts() against a raw fetch, peaks of memory.
# SIZE=20000 for fewer complaints, STORE=url to measure an existing SQL store.
bench-sql: $(STAMP)
	$(BIN)/python benchmarks/bench_sql.py --repeat 3 $(if $(SIZE),--n $(SIZE)) $(if $(STORE),--store $(STORE))

# Every storage backend available here (PostgreSQL and MariaDB when their servers answer).
bench-storage: $(STAMP)
	$(BIN)/python benchmarks/bench_storage.py --n 20000 --repeat 1

# Screenshots of every report's HTML page (needs chromium and ../shared/datasets).
docs-images: $(STAMP)
	$(BIN)/python docs/screenshots.py

# Every reporter over the ~130k real complaints on TinyDB and SQLite, beside the iter_facts floor.
bench-reports: $(STAMP)
	$(BIN)/python benchmarks/bench_reports.py --n 130000

# The real data sets (about 130,000 complaints) TinyDB -> PostgreSQL -> TinyDB with
# `complaintkit migrate`, verified equal (about 20 minutes; needs the PostgreSQL server).
bench-migrate: $(STAMP)
	$(BIN)/python benchmarks/bench_migrate.py

# 2, 4 and 8 processes changing one complaint (and one each) through Desk at once, on every
# backend available here: calls that gave up, lost updates (must be 0), throughput against one
# process doing the same changes (about 10 minutes with PostgreSQL and MariaDB).
bench-contention: $(STAMP)
	$(BIN)/python benchmarks/bench_contention.py

# The HTTP API against the SDK in one process: intake, get, transition on SQLite (and
# PostgreSQL when its server answers); requests per second, p50/p99, ratios (about 2 minutes).
bench-api: $(STAMP)
	$(BIN)/python benchmarks/bench_api.py --n 300

clean:
	rm -rf $(VENV) $(DJANGOCRM)/.venv demo .pytest_cache .mypy_cache .ruff_cache
