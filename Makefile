# wirecopy: `make run` ingests seeds/ into ./warehouse.duckdb; `make test` runs lint + tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= warehouse.duckdb

export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: run serve test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "wirecopy needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

run: $(VENV)/.installed
	$(BIN)/wirecopy ingest seeds/ --db $(DB)
	$(BIN)/wirecopy sql "SELECT outlet, count(*) AS paragraphs, count(method) AS duplicates FROM paragraph_dedup GROUP BY outlet ORDER BY outlet" --db $(DB)

# Local Prefect server (UI on http://127.0.0.1:4200) + the scheduled/ad-hoc deployments; Ctrl-C stops both.
serve: $(VENV)/.installed
	$(BIN)/wirecopy server --db $(DB)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .prefect $(DB) $(DB).wal $(DB).lock $(DB).lsh $(DB).writer .pytest_cache
