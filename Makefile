# Reconciler — setup, tests, demo, benchmarks and the seed's database targets.
#
#   make setup      server binaries (apt, only when missing) + .venv with reconciler installed
#   make test       setup and lint, then the suite against real PostgreSQL and Redis
#                   (PYTEST_ARGS=...),
#                   on one pytest-xdist worker per core (TEST_WORKERS=N; 0: serially)
#   make test-fast  the tests that use no server (-m "not servers"): no apt, no PostgreSQL,
#                   no Redis; one stage with PYTEST_ARGS=tests/<stage>
#   make demo       setup, then scripts/demo.sh
#   make corpus     the schema-pair corpus (tests/corpus/, or CORPUS_DIR=DIR) and its per-step
#                   report
#   make reliability  the attack suite (tests/reliability/) at full trial counts, then
#                   docs/reliability.md written from what it observed
#
# Database targets act on RECONCILER_PG_URL when set, else on the `reconciler dev up` servers.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := .venv
PYTHON     := $(VENV)/bin/python
PIP        := $(VENV)/bin/pip
RUFF       := $(VENV)/bin/ruff
RECONCILER := $(VENV)/bin/reconciler
STAMP      := $(VENV)/.installed

SCHEMAS     ?= schemas
BACKUP_DIR  ?= backups
PYTEST_ARGS ?=
# pytest-xdist workers for make test and make corpus: one per core; TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= auto
PARALLEL     := -n $(TEST_WORKERS) --dist loadgroup
LINT_PATHS  := reconciler tests bench tools

# Shell snippets resolving the URLs inside a recipe: the environment first, else the dev servers.
# Assign them (url="$(PG_URL)") so that a failing lookup stops the recipe.
PG_URL    = $${RECONCILER_PG_URL:-$$($(RECONCILER) dev url --pg)}
REDIS_URL = $${RECONCILER_REDIS_URL:-$$($(RECONCILER) dev url --redis 2>/dev/null)}

.PHONY: help setup server-binaries test test-fast lint demo reliability bench bench-smoke corpus \
        db_gen_ddl db_migrate db_rollback migrate_check rollback_check \
        db_shell db_backup db_restore dev-up dev-down clean

help:
	@echo "setup test test-fast lint demo reliability bench bench-smoke corpus dev-up dev-down clean"
	@echo "db_gen_ddl TABLE=  db_migrate  db_rollback VERSION=  migrate_check"
	@echo "rollback_check PREV_REF=  db_shell [ARGS='-c \"select 1\"']  db_backup  db_restore FILE="

# ------------------------------------------------------------------------------------ setup

setup: server-binaries $(STAMP)

# apt only when initdb/pg_ctl (PATH or /usr/lib/postgresql/*/bin) or redis-server are missing.
server-binaries:
	@set -e; missing=""; \
	pg_ok=""; \
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then pg_ok=1; fi; \
	for d in /usr/lib/postgresql/*/bin; do \
	  if [ -x "$$d/initdb" ] && [ -x "$$d/pg_ctl" ]; then pg_ok=1; fi; \
	done; \
	[ -n "$$pg_ok" ] || missing="postgresql"; \
	command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] \
	  || missing="$$missing redis-server"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "Installing server packages:$$missing"; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else \
	  echo "Missing packages:$$missing. Install them as root (apt-get install -y$$missing)" \
	       "and run make setup again." >&2; \
	  exit 1; \
	fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "apt-get is not available: install$$missing with your package manager." >&2; \
	  exit 1; \
	fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	  $$missing

$(PYTHON):
	python3 -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install (the venv is order-only:
# its mtime moves whenever pip touches it).
$(STAMP): pyproject.toml | $(PYTHON)
	$(PIP) install -q -e '.[dev]' --config-settings editable_mode=compat
	@touch $@

# ------------------------------------------------------------------------- test, lint, demo

test: setup lint
	$(PYTHON) -m pytest -q -x --durations=15 $(PARALLEL) $(PYTEST_ARGS)

# The tests marked `servers` left out (tests/markers.py): no server is started. Measured on 2
# cores that other runs shared (load 3.5): 585 tests in 19 s; in one process 16 to 24 s.
test-fast: $(STAMP)
	$(PYTHON) -m pytest -q -m "not servers" -p no:randomly -n 2 $(PYTEST_ARGS)

# ruff, then the import contracts of pyproject.toml (docs/architecture.md): stages import only
# the stages below them, no cycles, and every import inside a function named with its reason.
lint: $(STAMP)
	$(RUFF) check $(LINT_PATHS)
	$(RUFF) format --check $(LINT_PATHS)
	$(VENV)/bin/lint-imports --no-cache

demo: setup
	bash scripts/demo.sh

# The attack suite at the trial counts of docs/reliability.md (make test runs it a few times),
# then that page written again from what it observed.
reliability: setup
	RELIABILITY=full $(PYTHON) -m pytest -q -x tests/reliability $(PYTEST_ARGS)
	$(PYTHON) -m tests.reliability.report

bench: setup
	$(PYTHON) -m bench

bench-smoke: setup
	$(PYTHON) -m bench --smoke

# The schema-pair corpus (also part of `make test`), with its per-step report at the end.
corpus: setup
	CORPUS_DIR="$(CORPUS_DIR)" $(PYTHON) -m pytest -q tests/kinds/test_corpus.py $(PARALLEL) $(PYTEST_ARGS)

# ------------------------------------------------------------------------ seed's db targets

db_gen_ddl: $(STAMP)
	@test -n "$(TABLE)" || { echo "usage: make db_gen_ddl TABLE=<table>" >&2; exit 2; }
	$(RECONCILER) gen-ddl $(TABLE) --schemas $(SCHEMAS)

db_migrate: $(STAMP)
	$(RECONCILER) apply --schemas $(SCHEMAS) --auto-approve

db_rollback: $(STAMP)
	@test -n "$(VERSION)" || { echo "usage: make db_rollback VERSION=<YYYYMMDDHHMMSS>" >&2; exit 2; }
	$(RECONCILER) rollback --version $(VERSION) --auto-approve

migrate_check: $(STAMP)
	$(RECONCILER) check --schemas $(SCHEMAS)

rollback_check: $(STAMP)
	@test -n "$(PREV_REF)" || { echo "usage: make rollback_check PREV_REF=<git ref>" >&2; exit 2; }
	$(RECONCILER) rollback-check --prev-ref $(PREV_REF) --schemas $(SCHEMAS)

db_shell: $(STAMP)
	@set -e; url="$(PG_URL)"; exec psql "$$url" $(ARGS)

# pg_dump -Fc of the database, every Redis key with its value and TTL (the RDB snapshot only
# with `reconciler backup --rdb`) when a Redis URL resolves; db_restore puts a backup back
# (FILE=backups/<stamp>.dump).
db_backup: $(STAMP)
	@set -e; url="$(PG_URL)"; redis_url="$(REDIS_URL)" || true; \
	if [ -n "$$redis_url" ]; then set -- --redis "$$redis_url"; fi; \
	$(RECONCILER) backup --pg "$$url" "$$@" --out $(BACKUP_DIR)

db_restore: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make db_restore FILE=$(BACKUP_DIR)/<stamp>.dump" >&2; exit 2; }
	@set -e; url="$(PG_URL)"; redis_url="$(REDIS_URL)" || true; \
	if [ -n "$$redis_url" ]; then set -- --redis "$$redis_url"; fi; \
	$(RECONCILER) restore "$(FILE)" --pg "$$url" "$$@" --auto-approve

dev-up: setup
	$(RECONCILER) dev up

dev-down: $(STAMP)
	$(RECONCILER) dev down

# ------------------------------------------------------------------------------------ clean

clean:
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

.PHONY: redis_health
redis_health: setup ## PING latency, memory, evictions, persistence, role of URL= (default: dev Redis)
	$(VENV)/bin/reconciler redis health --url "$(if $(URL),$(URL),$$($(VENV)/bin/reconciler dev url --redis))"
