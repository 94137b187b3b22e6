# Development tasks for glassml. Needs only python3 (3.11 or newer), pip and GNU make.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
VENV_PYTHON := $(VENV)/bin/python
LOCK := requirements/lock.txt

.PHONY: setup test demo demo-forecast lint bench bench-venvs bench-overhead lock clean

# The stamp file records that the venv holds the locked versions; it is rebuilt when the lock or
# pyproject.toml changes.
$(VENV)/.installed: $(LOCK) pyproject.toml
	test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --upgrade pip
	$(VENV_PYTHON) -m pip install -r $(LOCK)
	$(VENV_PYTHON) -m pip install --no-deps -e .
	touch $@

setup: $(VENV)/.installed

test: setup
	$(VENV_PYTHON) -m pytest -q --durations=15

demo: setup
	$(VENV)/bin/glassml train examples/data/penguins_species.parquet --target species --time-limit 60 --experiment demo

# Forecasting: 46 monthly series of home sales, 12 months ahead, then the forecast of the best run.
demo-forecast: setup
	$(VENV)/bin/glassml train examples/data/tx_housing_sales.parquet --task forecasting --target sales \
		--time-column date --series-id city --horizon 12 --time-limit 60 --experiment demo-forecast
	$(VENV)/bin/glassml forecast "$$($(VENV)/bin/glassml leaderboard --experiment demo-forecast --format json \
		| $(VENV_PYTHON) -c 'import json, sys; print(json.load(sys.stdin)[0]["run_id"])')" --out forecast.csv

lint: setup
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

# glassml against FLAML, AutoGluon and LightGBM defaults on the tabular tasks of bench/suite.json, and against
# FLAML, AutoGluon and a seasonal naive forecast on its forecasting tasks, one run at a time, then
# docs/benchmarks.md. A subset: `make bench BENCH_FRAMEWORKS=glassml BENCH_TASKS=telco_churn,airline_passengers`.
# A run replaces the records of the frameworks and tasks it runs in $(BENCH_RESULTS) and keeps all others, so
# rerunning glassml alone keeps the other frameworks' results. BENCH_ARGS passes more driver options (e.g. --keep).
BENCH_BUDGET ?= 60
BENCH_FRAMEWORKS ?= glassml,flaml,autogluon,lgbm_default,seasonal_naive
BENCH_TASKS ?=
BENCH_SEEDS ?= 0
BENCH_RESULTS ?= bench/results/results.jsonl
BENCH_ARGS ?=
comma := ,

# Creates the venvs of the frameworks in BENCH_FRAMEWORKS under bench/.venvs when they are missing.
bench-venvs:
	bash bench/compare/setup_venvs.sh $(subst $(comma), ,$(BENCH_FRAMEWORKS))

# glassml runs with the portfolio learned without the task it is scored on (bench/portfolio/loto).
BENCH_GLASSML_ARGS ?= --portfolio $(CURDIR)/bench/portfolio/loto/{task}.json

bench: setup bench-venvs
	GLASSML_BENCH_ARGS='$(BENCH_GLASSML_ARGS)' $(VENV_PYTHON) bench/compare/driver.py --budget $(BENCH_BUDGET) --frameworks $(BENCH_FRAMEWORKS) \
		--seeds $(BENCH_SEEDS) --results $(BENCH_RESULTS) $(if $(BENCH_TASKS),--tasks $(BENCH_TASKS)) $(BENCH_ARGS)
	$(VENV_PYTHON) bench/compare/summarize.py --results $(BENCH_RESULTS) --budget $(BENCH_BUDGET) --out docs/benchmarks.md

# Engine overhead of `glassml train` on single tables as TABLE:TARGET; override with
# `make bench-overhead BENCH_TABLES="file.parquet:y ..."`.
BENCH_TABLES ?= examples/data/penguins_species.parquet:species tests/datasets/telco_churn_600.csv:churn tests/datasets/diabetes_progression.parquet:target
BENCH_TIME_LIMIT ?= 60

bench-overhead: setup
	$(VENV_PYTHON) bench/run.py $(BENCH_TABLES) --time-limit $(BENCH_TIME_LIMIT) --out bench/results.jsonl

# Resolves `.[dev]` afresh in a temporary venv and writes the pinned result to the lock file.
lock:
	set -euo pipefail; \
	tmp=$$(mktemp -d); \
	trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --upgrade pip; \
	"$$tmp/venv/bin/python" -m pip install -e ".[dev]"; \
	platform=$$("$$tmp/venv/bin/python" -c 'import platform; print("Python", platform.python_version(), platform.system(), platform.machine())'); \
	{ \
	  echo "# Pinned closure of \`pip install -e .[dev]\` ($$platform), glassml itself excluded."; \
	  echo "# \`make setup\` installs exactly these versions, then glassml with --no-deps."; \
	  echo "# Regenerate with \`make lock\`: it builds a fresh temporary venv, installs \`.[dev]\` and"; \
	  echo "# writes \`pip freeze --exclude-editable\` here."; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; \
	} > $(LOCK).new; \
	mv $(LOCK).new $(LOCK)

clean:
	rm -rf $(VENV) build dist src/*.egg-info glassml-runs .pytest_cache .ruff_cache
	find src tests -name __pycache__ -type d -prune -exec rm -rf {} +
