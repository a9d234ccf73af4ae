# Omniroute entry points (docs/architecture.md: running it). CI runs `.ci/run`, which runs `make test`.
PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
PYTEST_ARGS ?=
# Local runs, tests and benchmarks use the development secrets, which only OMNIROUTE_ENV=dev
# accepts (the services default to production). Override: make up OMNIROUTE_ENV=production.
export OMNIROUTE_ENV ?= dev

.PHONY: help install constraints test infra-up infra-down up down bench bench-routing bench-channels bench-e2e bench-ewt bench-outcome bench-scale compose-check chaos test-cluster

help:
	@echo "make install | test [PYTEST_ARGS=...] | test-cluster | up | down | infra-up | infra-down | bench | bench-e2e [BENCH_ARGS=...] | bench-ewt [EWT_ARGS=...] | bench-outcome [OUTCOME_ARGS=...] | bench-scale [SCALE_ARGS=...] | chaos [CHAOS_ARGS=...] | compose-check | constraints"

# A stamp file, so `make test` reinstalls only when the dependency pins change.
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

constraints:
	$(PY) -m pip freeze --exclude-editable > constraints.txt.new
	{ sed -n '/^#/p' constraints.txt; cat constraints.txt.new; } > constraints.txt
	rm constraints.txt.new

# The OpenID Connect provider the sign-on tests run (Node.js, tests/oidc).
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc/package-lock.json
	npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error

# Starts its own Kafka + Redis unless OMNIROUTE_KAFKA_BOOTSTRAP/OMNIROUTE_REDIS_URL are set.
test: install $(OIDC_PROVIDER)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest $(PYTEST_ARGS)
ifeq ($(strip $(PYTEST_ARGS)),)
	$(MAKE) test-cluster
endif

# The routing and integration suites again, on a 6-node Redis Cluster and a 3-broker Kafka
# cluster the tests start (deploy/local/cluster.py).
CLUSTER_MARKERS ?= (routing or integration) and not single_node
test-cluster: install
	OMNIROUTE_TEST_CLUSTER=1 $(PY) -m pytest -m "$(CLUSTER_MARKERS)" $(PYTEST_ARGS)

infra-up: install
	$(PY) deploy/local/infra.py up

infra-down:
	$(PY) deploy/local/infra.py down

# Docker Compose where a Docker engine answers (OMNIROUTE_LOCAL=1 forces local
# processes); otherwise Kafka, Redis and every service as local processes.
COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
DOCKER_ENGINE = $(shell [ -z "$$OMNIROUTE_LOCAL" ] && docker info >/dev/null 2>&1 && echo yes)

# The Docker path needs no Python venv; OMNIROUTE_ENV=dev (exported above) lets Compose
# run with the development secrets (a deployment sets its own in .env, see .env.example).
up:
ifeq ($(DOCKER_ENGINE),yes)
	$(COMPOSE) --profile demo up -d --build
	@sed -n '/^# urls:/,$$p' deploy/local/procfile | sed '1d; s/^# /  /'
else
	$(MAKE) install
	$(PY) deploy/local/stack.py up
endif

down:
ifeq ($(DOCKER_ENGINE),yes)
	$(COMPOSE) --profile demo down
else
	$(PY) deploy/local/stack.py down
endif

BENCH_STATE := .omniroute/bench-infra

# $(call on_infra,STATE_DIR,COMMAND): COMMAND on a Kafka + Redis of its own (their state
# in STATE_DIR), taken down afterwards whatever COMMAND returned; its status is the recipe's.
define on_infra
	$(PY) deploy/local/infra.py --state-dir $(1) up
	set -a; . $(1)/infra.env; set +a; $(2); rc=$$?; $(PY) deploy/local/infra.py --state-dir $(1) down; exit $$rc
endef

bench: bench-routing bench-channels

# Chat, voice and email latency through the real stack, on a Kafka + Redis of their own.
bench-channels: install
	$(call on_infra,$(BENCH_STATE),$(PY) bench/chat.py && $(PY) bench/voice_calls.py && $(PY) bench/email_intake.py)

bench-routing: install
	$(PY) bench/routing.py

# The router process as `make up` runs it, under simulated agents and Poisson traffic,
# beside a baseline Kafka relay; on a Kafka + Redis of its own. BENCH_ARGS e.g.
# --scenarios 200x20,burst --duration 20 (see bench/e2e.py).
BENCH_E2E_STATE := .omniroute/bench-e2e-infra
BENCH_ARGS ?=
bench-e2e: install
	$(call on_infra,$(BENCH_E2E_STATE),$(PY) bench/e2e.py $(BENCH_ARGS))

# How right the estimated wait is: the router's estimate against position x pace, per
# load, through the real router with simulated agents (bench/ewt.py; EWT_ARGS=...).
EWT_ARGS ?=
bench-ewt: install
	$(call on_infra,$(BENCH_E2E_STATE),$(PY) bench/ewt.py $(EWT_ARGS))

# Routing that learns: best_outcome against longest_idle on the same simulated center
# and arrivals, through the real router (bench/best_outcome.py; OUTCOME_ARGS=...).
OUTCOME_ARGS ?=
bench-outcome: install
	$(call on_infra,$(BENCH_E2E_STATE),$(PY) bench/best_outcome.py $(OUTCOME_ARGS))

# The same with 1, 2 and 3 router replicas, on one Redis and on a 3-primary Redis Cluster
# (started by the script), three routing domains; SCALE_ARGS e.g. --replicas 1,3 --rate 40.
SCALE_ARGS ?=
bench-scale: install
	$(call on_infra,$(BENCH_E2E_STATE),$(PY) bench/scale_out.py $(SCALE_ARGS))

# Router replicas under load through kill -9s, pauses and Kafka/Redis restarts, judged by
# the invariant checker (the fault suite in `make test` is the short version).
CHAOS_ARGS ?= --seconds 300 --kills 40
chaos: install
	$(PY) -m tests.faults.chaos $(CHAOS_ARGS)

compose-check:
	docker-compose config -q
	docker-compose -f docker-compose.cluster.yml config -q
