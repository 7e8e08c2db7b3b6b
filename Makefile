# Passerelle — one command to run the demo, one to run the whole test suite.
#
#   make run     set up .venv, migrate, serve http://127.0.0.1:8000 while the demo data loads
#   make test    set up .venv, then lint, type-check, migration check, deploy check, pytest
#
# With no environment the platform runs on SQLite with Celery tasks executed eagerly.
# Set DATABASE_URL and CELERY_BROKER_URL to run on PostgreSQL and Redis (then `make worker`
# and `make beat` in other terminals).

PYTHON ?= python3
# `make run PORT=8001` serves on another port.
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# Re-install only when the dependencies change.
STAMP := $(VENV)/.installed

# Dependencies are installed from uv.lock (exact versions with their hashes), by the uv
# version that pyproject.toml's [tool.uv] requires, itself installed by pip into .venv.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
# uv uses the Python of .venv and never downloads an interpreter of its own.
export UV_PYTHON_DOWNLOADS := never

# Browser tests (tests/e2e): Debian's Chromium, since no browser download works here, and
# axe-core from the npm registry, pinned by tests/e2e/package-lock.json.
CHROMIUM := /usr/bin/chromium
E2E_DIR := tests/e2e
AXE_JS := $(E2E_DIR)/node_modules/axe-core/axe.min.js
# As root with no stdin (CI); elsewhere through sudo.
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

# Extra pytest options, e.g. `make pytest PYTEST_ARGS="-n 2"` (CI adds workers, coverage, JUnit).
PYTEST_ARGS ?=

# Settings for `check --deploy`: production mode with a throwaway, test-only secret.
DEPLOY_CHECK_ENV := DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY=ci-only-deploy-check-Xw7Lr2Qp9Nz4Tb6Vh1Ks8Jd3Fm5Gc0Ya-no-real-use \
	DJANGO_ALLOWED_HOSTS=passerelle.example

.DEFAULT_GOAL := help
.PHONY: help install lock-check run migrate messages seed test lint typecheck checks e2e-deps pytest worker beat clean

help:
	@echo "make run      set up and run the platform on SQLite with demo data at http://127.0.0.1:8000"
	@echo "make test     set up and run the whole test suite (lint, types, checks, pytest)"
	@echo "make pytest   only the pytest suite"
	@echo "make e2e-deps the browser tests' Chromium (Debian) and axe-core (npm); make test runs it"
	@echo "make worker   a Celery worker (needs CELERY_BROKER_URL)"
	@echo "make beat     the Celery beat scheduler (needs CELERY_BROKER_URL)"

# The environment is made without pip (setting pip up takes longer than everything uv then
# installs); the pip of $(PYTHON) installs uv into it, or, where $(PYTHON) has no pip, the
# environment's own pip set up for that.
$(BIN)/python:
	$(PYTHON) -m venv --without-pip $(VENV)

$(UV): | $(BIN)/python
	@if $(PYTHON) -m pip --version >/dev/null 2>&1; then \
		echo "$(PYTHON) -m pip --python $(BIN)/python install uv==$(UV_VERSION)"; \
		$(PYTHON) -m pip --python $(BIN)/python install --quiet uv==$(UV_VERSION); \
	else \
		$(BIN)/python -m ensurepip && $(BIN)/python -m pip install --quiet uv==$(UV_VERSION); \
	fi

# psycopg2 is built from source against libpq, which needs pg_config (Debian package
# libpq-dev); installed here when missing, as e2e-deps installs Chromium. uv keeps the built
# wheel in its cache, so the build happens once per machine.
# `--locked` refuses a uv.lock that no longer matches pyproject.toml (run `uv lock`);
# `--inexact` leaves alone what was installed into .venv by hand.
$(STAMP): pyproject.toml uv.lock | $(UV)
	@command -v pg_config >/dev/null 2>&1 || { \
		echo "Installing libpq-dev (pg_config, to build psycopg2)..."; \
		$(APT) update -qq && $(APT) install -y --no-install-recommends libpq-dev gcc; }
	$(UV) sync --locked --inexact --extra dev
	touch $@

install: $(STAMP)

# Fails when uv.lock is out of date with pyproject.toml (make test runs it).
lock-check: $(UV)
	$(UV) lock --check

migrate: $(STAMP)
	$(MANAGE) migrate --noinput

# Translations are compiled only where a locale/ directory exists and msgfmt is installed.
messages: $(STAMP)
	@if [ -z "$$(find . -path ./$(VENV) -prune -o -type d -name locale -print)" ]; then \
		echo "No locale/ directory: no messages to compile."; \
	elif ! command -v msgfmt >/dev/null 2>&1; then \
		echo "msgfmt is not installed (Debian package gettext): messages not compiled."; \
	else \
		$(MANAGE) compilemessages --ignore=$(VENV); \
	fi

seed: migrate
	$(MANAGE) seed_demo

# The server answers as soon as the database is migrated, while seed_demo loads the demo data
# beside it: the accounts first (a few seconds), then the pilot year, the pages filling in as it
# goes (README.md). Stopping the server stops the seeding; the next run completes it. Without
# the reloader, which would start Django twice (`.venv/bin/python manage.py runserver` has it).
run: export PASSERELLE_SQLITE_CONCURRENT := true
# The links the demo prints and e-mails (a volunteer's calendar feed) name the port served.
run: export PASSERELLE_SITE_URL ?= http://127.0.0.1:$(PORT)
run: migrate messages
	@echo "Serving http://127.0.0.1:$(PORT)/ while the demo data loads."
	@$(MANAGE) seed_demo & seeding=$$!; \
		trap 'kill $$seeding 2>/dev/null' EXIT INT TERM; \
		$(MANAGE) runserver --noreload 127.0.0.1:$(PORT)

test: lint typecheck checks e2e-deps pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

checks: $(STAMP) lock-check
	$(MANAGE) makemigrations --check --dry-run
	$(DEPLOY_CHECK_ENV) $(MANAGE) check --deploy --fail-level WARNING

# Installs only what is missing, so it returns at once on a machine that has both.
e2e-deps:
	@if [ -x $(CHROMIUM) ]; then \
		echo "Chromium: $(CHROMIUM) is installed."; \
	else \
		echo "Installing Chromium (Debian package chromium)..."; \
		$(APT) update -qq && $(APT) install -y --no-install-recommends chromium; \
	fi
	@if [ -f $(AXE_JS) ]; then \
		echo "axe-core: $(AXE_JS) is installed."; \
	else \
		if ! command -v npm >/dev/null 2>&1; then \
			$(APT) update -qq && $(APT) install -y --no-install-recommends nodejs npm; \
		fi; \
		npm ci --prefix $(E2E_DIR) --no-audit --no-fund; \
	fi

pytest: $(STAMP) messages e2e-deps
	$(BIN)/pytest $(PYTEST_ARGS)

worker: $(STAMP)
	@test -n "$$CELERY_BROKER_URL" || { echo "CELERY_BROKER_URL is not set: tasks run eagerly in-process, no worker is needed."; exit 1; }
	$(BIN)/celery -A config worker --loglevel=INFO

beat: $(STAMP)
	@test -n "$$CELERY_BROKER_URL" || { echo "CELERY_BROKER_URL is not set: tasks run eagerly in-process, no beat is needed."; exit 1; }
	$(BIN)/celery -A config beat --loglevel=INFO --schedule=$(VENV)/celerybeat-schedule

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache staticfiles
