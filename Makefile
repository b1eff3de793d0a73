# 民声 · xinfang — developer entry points. `make help` lists them.
#
#   make run     install, migrate, load demo data, serve on http://127.0.0.1:8000
#   make test    install, lint, type-check, migration check, pytest on SQLite and PostgreSQL 15
#
# Extra pytest arguments: make test PYTEST_ARGS='-k cases -x'

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3
UV_VERSION  := 0.13.9
PYTEST_ARGS ?=

VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
RUFF   := $(VENV)/bin/ruff
MYPY   := $(VENV)/bin/mypy
PYTEST := $(VENV)/bin/pytest

# Everything that runs the checks uses the fixed development secret, never a real one.
# (Target-specific variables also apply to the prerequisites of these targets.)
test test-sqlite test-pg lint check-migrations bench: export XINFANG_ALLOW_DEV_SECRET := 1

# `make run` is the local demo: debug mode, SQLite unless DATABASE_URL is set.
RUN_ENV := XINFANG_DEBUG=1

.PHONY: help venv install run test test-sqlite test-pg lint check-migrations fmt bench clean

help:
	@echo "make run          install, migrate, load demo data, serve on http://127.0.0.1:8000"
	@echo "make test         lint + mypy + migration check + pytest on SQLite and PostgreSQL 15"
	@echo "make test-sqlite  pytest on SQLite only     (extra args: PYTEST_ARGS='...')"
	@echo "make test-pg      pytest on PostgreSQL only (see scripts/test-postgres.sh)"
	@echo "make lint         ruff check, ruff format --check, mypy"
	@echo "make fmt          ruff check --fix, ruff format"
	@echo "make bench        run every bench/*.py"
	@echo "make venv         create .venv and install requirements.lock"
	@echo "make clean        remove var/, .venv/ and tool caches"

# --- environment ---------------------------------------------------------------------------
venv install: $(STAMP)

$(VPY):
	$(PYTHON) -m venv $(VENV)

# Reinstalled whenever requirements.lock changes. `uv pip sync` makes the venv match the
# lock exactly (removing anything else) and checks every hash in it.
$(STAMP): requirements.lock | $(VPY)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --require-hashes --python $(VPY) requirements.lock
	touch $@

# --- run -----------------------------------------------------------------------------------
run: $(STAMP)
	mkdir -p var
	$(RUN_ENV) $(VPY) manage.py migrate --noinput
	$(RUN_ENV) $(VPY) manage.py load_demo --if-empty
	$(RUN_ENV) $(VPY) manage.py intel_bootstrap
	@# The task worker (model retraining, …) runs beside the server and stops with it.
	$(RUN_ENV) $(VPY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) $(VPY) manage.py runserver 127.0.0.1:8000

# --- checks --------------------------------------------------------------------------------
# Spelled out in order (rather than as prerequisites) so the order holds even under make -j.
test: $(STAMP)
	$(RUFF) check .
	$(RUFF) format --check .
	$(MYPY) xinfang tests
	mkdir -p var
	env -u DATABASE_URL $(VPY) manage.py makemigrations --check --dry-run
	@# The SQLite and PostgreSQL runs go side by side (one core each; separate media dirs),
	@# their logs are printed when both have finished; either failing fails the target.
	rm -rf var/test-media-sqlite var/test-media-pg; \
	( env -u DATABASE_URL XINFANG_MEDIA_ROOT=$(CURDIR)/var/test-media-sqlite \
		$(PYTEST) -p no:cacheprovider $(PYTEST_ARGS) > var/test-sqlite.log 2>&1; \
		echo $$? > var/test-sqlite.rc ) & \
	( XINFANG_MEDIA_ROOT=$(CURDIR)/var/test-media-pg \
		bash scripts/test-postgres.sh -p no:cacheprovider $(PYTEST_ARGS) > var/test-pg.log 2>&1; \
		echo $$? > var/test-pg.rc ) & \
	wait; \
	echo "=== pytest on SQLite ==="; cat var/test-sqlite.log; \
	echo "=== pytest on PostgreSQL 15 ==="; cat var/test-pg.log; \
	test "$$(cat var/test-sqlite.rc)" = 0 && test "$$(cat var/test-pg.rc)" = 0

lint: $(STAMP)
	$(RUFF) check .
	$(RUFF) format --check .
	$(MYPY) xinfang tests

check-migrations: $(STAMP)
	mkdir -p var
	env -u DATABASE_URL $(VPY) manage.py makemigrations --check --dry-run

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(PYTEST) $(PYTEST_ARGS)

test-pg: $(STAMP)
	bash scripts/test-postgres.sh $(PYTEST_ARGS)

# Fix what ruff can fix (remaining findings are printed, not fatal), then format.
fmt: $(STAMP)
	$(RUFF) check --fix --exit-zero .
	$(RUFF) format .

# Each bench/*.py runs as a plain script with the repository root importable.
bench: $(STAMP)
	@found=0; \
	for f in bench/*.py; do \
		[ -e "$$f" ] || continue; \
		found=1; \
		echo "==> $$f"; \
		PYTHONPATH="$(CURDIR)" $(VPY) "$$f" || exit $$?; \
	done; \
	[ $$found = 1 ] || echo "no bench/*.py scripts yet"

clean:
	rm -rf var $(VENV) .pytest_cache .mypy_cache .ruff_cache
