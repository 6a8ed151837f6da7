# wirecopy: `make run` ingests seeds/ into ./warehouse.duckdb; `make test` runs lint + tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= warehouse.duckdb
CONSTRAINTS := constraints.txt

export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: run serve test lint bench clean constraints

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "wirecopy needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

# Installs are pinned by constraints.txt (every package, exact versions): the same environment everywhere.
$(VENV)/.installed: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/pip install -q -c $(CONSTRAINTS) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

# Re-resolve pyproject.toml's dependencies (runtime + dev) to the newest allowed versions in a fresh venv and
# pin the result in constraints.txt; commit it after `make test` passes.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/pip install -q -U pip
	.venv-constraints/bin/pip install -q -e '.[dev]'
	{ echo "# Pinned by \`make constraints\` (pip freeze of a fresh venv with wirecopy[dev]; Python $$(.venv-constraints/bin/python -c 'import platform; print(platform.python_version())'))."; \
	  .venv-constraints/bin/pip freeze --exclude-editable | grep -v '^#'; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf .venv-constraints

run: $(VENV)/.installed
	$(BIN)/wirecopy ingest seeds/ --db $(DB)
	$(BIN)/wirecopy sql "SELECT outlet, count(*) AS paragraphs, count(method) AS duplicates FROM paragraph_dedup GROUP BY outlet ORDER BY outlet" --db $(DB)

# Local Prefect server (UI on http://127.0.0.1:4200) + the scheduled/ad-hoc deployments; Ctrl-C stops both.
serve: $(VENV)/.installed
	$(BIN)/wirecopy server --db $(DB)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .venv-constraints .prefect $(DB) $(DB).wal $(DB).lock $(DB).lsh $(DB).writer .pytest_cache
