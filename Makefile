# Quick start: `make demo` and `make test` both work on a fresh machine (they create .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := .cache/demo

.PHONY: demo test lint bench bench-causal clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p $(DEMO_DIR)
	$(BIN)/cerebro datasets saas --output $(DEMO_DIR)/saas.csv --seed 0
	$(BIN)/cerebro abtest $(DEMO_DIR)/saas.csv --treatment cohort --control A_control \
		--outcome ai_calls,tasks_completed,satisfaction_score,retention_7d,revenue \
		--covariates pre_ai_calls,pre_tasks_completed,pre_revenue --cluster user_id
	$(BIN)/cerebro power-analysis --baseline 0.05 --mde 0.01 --alpha 0.05 --power 0.8

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

test: lint
	$(BIN)/pytest -n auto -q

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/bench_abtest.py
	$(BIN)/python bench/bench_bayes.py

# EconML and DoWhy beside Cerebro: DoWhy 0.14 pins scipy <= 1.15.3, so they get their own venv.
BENCH_VENV := .cache/bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed
ROWS ?= 1000000
REPS ?= 3

$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e . econml dowhy pytest
	touch $(BENCH_STAMP)

bench-causal: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m pytest -q -p no:xdist -p no:cacheprovider tests/test_causal_econml.py
	$(BENCH_VENV)/bin/python bench/bench_causal.py --rows $(ROWS) --reps $(REPS)

clean:
	rm -rf $(VENV) .cache build *.egg-info src/*.egg-info
