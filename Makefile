# Two commands are the contract: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY311 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3.11) $(shell command -v python3.11) python3)
PY310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) $(shell command -v python3.10) python3.10)
VENV := .venv
RASA_VENV := .venv-rasa
MODEL := models/debtor.tar.gz
TRAINING_INPUTS := bot/config.yml $(wildcard bot/domain/*.yml bot/data/*.yml bot/nlu/data/*.yml bot/nlu/*.py)
CHROMIUM ?= /usr/bin/chromium

export HOST ?= 127.0.0.1
export GATEWAY_PORT ?= 8000
export RASA_PORT ?= 5005
export ACTIONS_PORT ?= 5055
export RASA_TELEMETRY_ENABLED := false
export RASA_URL ?= http://127.0.0.1:$(RASA_PORT)
export ACTION_SERVER_URL ?= http://127.0.0.1:$(ACTIONS_PORT)
export ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTIONS_PORT)/webhook
export NLG_ENDPOINT_URL ?= http://127.0.0.1:$(GATEWAY_PORT)/nlg
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Sharded Rasa (`make run RASA_INSTANCES=2`): instances on RASA_PORT, RASA_PORT+1, ...; the gateway
# and the worker route by conversation (conversations/sharding.py). They share a SQL tracker store
# and a Redis lock store (bot/endpoints-sharded.yml, docs/scaling.md).
export RASA_INSTANCES ?= 1
export RASA_TRACKER_STORE_URL ?= sqlite:///var/rasa-trackers.db
export RASA_LOCK_STORE_HOST ?= 127.0.0.1
export RASA_LOCK_STORE_PORT ?= 6379
export RASA_LOCK_STORE_DB ?= 1
# Internal service tokens (ACTION_SERVER_TOKEN, RASA_AUTH_TOKEN, NLG_TOKEN; app/internal_tokens.py):
# generated on the first `make run`, kept in this git-ignored file, handed to every process by honcho.
SECRETS_ENV := var/secrets.env

.PHONY: help run test install db train check-config eval-nlu eval-cv compare-pipelines lint browser clean bench fuzz reliability import-portfolio bench-import export-activity outreach-plan

help:
	@echo "make run    - set up whatever is missing and start Rasa, actions and the gateway"
	@echo "make test   - set up whatever is missing and run the whole test suite"
	@echo "make eval-nlu FILE=path.tsv  - per-locale intent accuracy, macro-F1, language accuracy"
	@echo "make eval-cv - 5-fold cross-validation on the training data"
	@echo "make compare-pipelines [CONFIGS=...] - train and score NLU pipelines side by side"
	@echo "make bench [CONCURRENCY=20 CONVERSATIONS=200] - full stack vs bare Rasa -> reports/bench.json"
	@echo "make fuzz [FUZZ_EXAMPLES=50] - schemathesis over every API operation: cases tried, failures -> reports/fuzz.json"
	@echo "make import-portfolio FILE=path.csv - debtors and debts from a CSV or .jsonl file (exit 0 all applied, 2 rows refused, 1 unreadable)"
	@echo "make export-activity SINCE=2026-05-01T00:00:00Z [UNTIL=...] [OUT=path.csv|-] - events since then per creditor reference -> reports/activity-<time>.csv (prints the until: the next SINCE)"
	@echo "make bench-import [ROWS=100000] - portfolio import rows/s on SQLite and PostgreSQL -> reports/bench-import.json"
	@echo "make reliability [RELIABILITY_SCALE=1] - forgery sweep, replay storm, crash under load, disclosure fuzz -> reports/reliability.json"
	@echo "make check-config - every problem with this environment's configuration (ASSISTANT_ENV=production by default); exit 1 if any"

# The pinned versions (requirements*.txt), then this project itself, editable (pyproject.toml): its
# packages import from anywhere, with no search path set by hand.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt
	test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --upgrade pip wheel
	$(RASA_VENV)/bin/pip install -q -r requirements-rasa.txt
	touch $@

install: $(VENV)/.installed $(RASA_VENV)/.installed

# Retrained only when the domain, config, rules, NLU data or custom NLU code changed.
$(MODEL): $(RASA_VENV)/.installed $(TRAINING_INPUTS)
	@mkdir -p models
	$(RASA_VENV)/bin/rasa train --domain bot/domain --config bot/config.yml \
	  --data bot/data bot/nlu/data --out models --fixed-model-name debtor
	@touch $@

train: $(MODEL)

db: $(VENV)/.installed
	$(VENV)/bin/python -m app.manage migrate
	$(VENV)/bin/python -m app.manage seed --demo

# `make run` is a demo: the offline payments sandbox (opt-in, payments/config.py), the demo debtors
# (db) and public API docs; a deployment leaves PAYMENTS_SANDBOX and ASSISTANT_ENV unset.
run: export PAYMENTS_SANDBOX ?= true
run: export ASSISTANT_ENV ?= demo
run: install $(MODEL) db
	@$(VENV)/bin/python -m core.internal_tokens $(SECRETS_ENV)
	@echo "Starting Rasa ($(RASA_INSTANCES)x), the action server and the gateway (Ctrl-C stops all)..."
ifeq ($(RASA_INSTANCES),1)
	$(VENV)/bin/honcho -e .env,$(SECRETS_ENV) -f Procfile start
else
	@$(VENV)/bin/python -c "import redis; redis.Redis(host='$(RASA_LOCK_STORE_HOST)', port=$(RASA_LOCK_STORE_PORT)).ping()" \
	  || (echo "RASA_INSTANCES=$(RASA_INSTANCES) needs Redis at $(RASA_LOCK_STORE_HOST):$(RASA_LOCK_STORE_PORT) (Rasa's lock store)"; exit 1)
	@mkdir -p var
	$(VENV)/bin/python -m engine.conversations.sharding procfile $(RASA_INSTANCES) < Procfile > var/Procfile.sharded
	$(VENV)/bin/honcho -e .env,$(SECRETS_ENV) -f var/Procfile.sharded start
endif

browser:
	@test -x $(CHROMIUM) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# File order by default; `make test PYTEST_ORDER=` shuffles (pytest-randomly) to hunt order dependences.
PYTEST_ORDER ?= -p no:randomly
# Test processes (pytest-xdist, whole files each: pyproject.toml); `make test PYTEST_WORKERS=0` runs one.
PYTEST_WORKERS ?= 2
test: install $(MODEL) browser lint
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ORDER) -n $(PYTEST_WORKERS)

# The production profile's refusals (core/profile.py) plus the database, Redis and Rasa answering:
# run it with the deployment's environment (compose: `docker compose run --rm gateway python -m app.manage check-config`).
check-config: $(VENV)/.installed
	$(VENV)/bin/python -m app.manage check-config

FILE ?= bot/nlu/eval/heldout.tsv
eval-nlu: install $(MODEL)
	@mkdir -p reports
	$(VENV)/bin/python -m app.tools.eval_nlu --file $(FILE) --out reports/nlu-eval.json

eval-cv: $(RASA_VENV)/.installed
	@mkdir -p reports
	$(RASA_VENV)/bin/rasa test nlu --cross-validation --folds 5 --config bot/config.yml \
	  --nlu bot/nlu/data --domain bot/domain --out reports/cv --no-plot
	$(VENV)/bin/python -m app.tools.cv_summary reports/cv

# Trains bot/config.yml and every app/tools/pipelines/*.yml on the same data (DIET takes ~10 min).
compare-pipelines: install
	$(VENV)/bin/python -m app.tools.compare_pipelines $(CONFIGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf models var reports/*.json reports/cv

CONCURRENCY ?= 20
CONVERSATIONS ?= 200
# Full stack vs bare Rasa (same model and conversations), webhook acks, training time -> reports/bench.json
bench: install $(MODEL)
	@mkdir -p reports
	$(VENV)/bin/python -m app.tools.bench --concurrency $(CONCURRENCY) --conversations $(CONVERSATIONS) --out reports/bench.json

# The tools below run the application on this machine (SQLite, http on loopback): the test profile.
fuzz bench reliability bench-import: export ASSISTANT_ENV ?= test

FUZZ_EXAMPLES ?= 50
# Schemathesis against the gateway's OpenAPI schema, in process on a fresh SQLite database, as a
# logged-in admin (app/tools/fuzz): prints cases tried and failures per operation; non-zero on failure.
fuzz: $(VENV)/.installed
	@mkdir -p reports
	$(VENV)/bin/python -m app.tools.fuzz --max-examples $(FUZZ_EXAMPLES) --out reports/fuzz.json

RELIABILITY_SCALE ?= 1
# Issue 8 points 2-5 (app/tools/reliability): one table tried / rejected / lost / leaked; non-zero on any loss or leak.
reliability: install $(MODEL)
	@mkdir -p reports
	$(VENV)/bin/python -m app.tools.reliability --scale $(RELIABILITY_SCALE) --out reports/reliability.json

# Issue 16 point 1 (people/portfolio): upsert by (creditor, reference); refused rows printed with line, column, reason.
import-portfolio: $(VENV)/.installed
	@test "$(origin FILE)" != file || (echo "usage: make import-portfolio FILE=path.csv"; exit 1)
	$(VENV)/bin/python -m app.manage migrate
	$(VENV)/bin/python -m app.manage import-portfolio $(FILE)

# Issue 16 point 2 (people/portfolio/activity.py): the export back, [SINCE, UNTIL) with UNTIL now by
# default; the JSON summary printed names the `until` used, the next run's SINCE. OUT=- writes stdout.
EXPORT_OUT ?= $(or $(OUT),reports/activity-$(shell date -u +%Y%m%dT%H%M%SZ).csv)
export-activity: $(VENV)/.installed
	@test -n "$(SINCE)" || (echo "usage: make export-activity SINCE=2026-05-01T00:00:00Z [UNTIL=...] [OUT=path.csv|-]"; exit 1)
	@$(VENV)/bin/python -m app.manage export-activity --since "$(SINCE)" $(if $(UNTIL),--until "$(UNTIL)") --out "$(EXPORT_OUT)"

# Issue 16 point 4 (money/outreach): first contact per open debt at AT (default now), nothing sent.
outreach-plan: $(VENV)/.installed
	@mkdir -p reports
	$(VENV)/bin/python -m app.manage migrate
	$(VENV)/bin/python -m app.manage outreach-plan $(if $(AT),--at "$(AT)") --out reports/outreach-plan.json

ROWS ?= 100000
BENCH_POSTGRES_ADMIN ?= postgresql://127.0.0.1:5432/test
# A generated portfolio into fresh SQLite and PostgreSQL databases, then again (the upsert path).
bench-import: $(VENV)/.installed
	@mkdir -p reports
	$(VENV)/bin/python -m app.tools.bench_import --rows $(ROWS) --postgres-admin $(BENCH_POSTGRES_ADMIN) --out reports/bench-import.json
