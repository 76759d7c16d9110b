# Tessera: `make run` serves the app on the embedded default; `make serve` serves it for production; `make test`
# runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# How every serving target starts the app: through config/serve/ (no proxy headers believed by a server, no access
# log of a server's own), which client addresses and clean logs depend on. `make run`: uvicorn alone.
SERVE := $(BIN)/python -m config.serve
# Debian's nginx, installed when missing: `make serve` (and so `make bench-race`) puts it in front of the app servers.
INSTALL_NGINX := command -v nginx >/dev/null || test -x /usr/sbin/nginx || { echo "Installing nginx (Debian's package)."; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

.PHONY: run serve test fuzz bench bench-jobs bench-webhooks bench-migrations bench-race check schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What the app needs to run (make run, make check, make schema), and on top of it what the tests need (pytest,
# schemathesis, Playwright...): two stamps, so `make run` never installs the test tools.
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(RUNTIME)

.env:
	@echo "Writing .env for local development (DEBUG on, a fresh SECRET_KEY)."
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env

run: $(RUNTIME) .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo "Serving HTTP and WebSockets on http://$(HOST):$(PORT)/ (docs at /api/docs/, admin at /admin/),"
	@echo "with a django-q2 worker cluster for background jobs. Ctrl-C stops both."
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT INT TERM; \
	$(BIN)/python manage.py qcluster & \
	$(SERVE) --host $(HOST) --port $(PORT) & \
	wait -n

# Production serving (README, "Production serving"): migrate and collectstatic, then nginx on PORT in front of
# granian (HTTP, WSGI, WEB_CONCURRENCY workers) and uvicorn (WebSockets), and a django-q2 cluster; DEBUG off, no
# demo data. SECRET_KEY comes from the environment or .env; without one it refuses to start. nginx is Debian's
# package, installed when missing; its config is written from config/serve/nginx.conf.template at each start.
serve: $(RUNTIME)
	@$(INSTALL_NGINX)
	$(BIN)/python -m config.serve.production --port $(PORT)

# TEST_PROCESSES pytest-xdist processes, each with its own test database, Redis keys and worker cluster: most tests
# wait on servers, workers and browsers, so two processes finish sooner even on two cores. TEST_PROCESSES=0 runs
# in this one process.
TEST_PROCESSES ?= 2
test: $(DEV)
	$(BIN)/pytest -n $(TEST_PROCESSES) --cov=apps --cov=config --cov-report=term-missing:skip-covered --cov-fail-under=90 $(PYTEST_ARGS)

# A long randomized schemathesis run over every operation: FUZZ_EXAMPLES per operation and phase, as a user and as
# a viewer; the seed it prints (FUZZ_SEED=...) replays a failure. `make test` runs a short derandomized sample.
FUZZ_EXAMPLES ?= 200
fuzz: $(DEV)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/api/test_schema_fuzzing.py $(PYTEST_ARGS)

check: $(RUNTIME)
	DEBUG=true $(BIN)/python manage.py check
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=true $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

# The OpenAPI document, validated, for client generators (README: "Generate a client"); the server serves the
# same at /api/schema/.
SCHEMA ?= schema.yml
schema: $(RUNTIME)
	DEBUG=true $(BIN)/python manage.py spectacular --validate --fail-on-warn --file $(SCHEMA)
	@echo "Wrote $(SCHEMA)."

bench: $(RUNTIME)
	$(BIN)/python bench/api.py

# Jobs/second through a real django-q2 cluster, and progress-to-WebSocket latency (about a minute).
bench-jobs: $(RUNTIME)
	$(BIN)/python bench/jobs.py

# A burst of change events (BENCH_EVENTS, default 1,000) delivered as signed webhooks to a local receiver.
bench-webhooks: $(RUNTIME)
	$(BIN)/python bench/webhooks.py

# The migration engine's transfers beside the plain tools: the directory adapter's MB/s against `cp -r` of the
# same ~300 MB tree (BENCH_FILES_MB, BENCH_ROUNDS, BENCH_PARALLEL); `python bench/migrations.py files` runs one section.
bench-migrations: $(RUNTIME)
	$(BIN)/python bench/migrations.py
	@echo "files again, from a cold page cache to durable writes (drops the cache: needs root):"
	BENCH_COLD=1 $(BIN)/python bench/migrations.py files

# Tessera's Task endpoints against hand-written peers (bare DRF, FastAPI, a raw-SQL floor), one server at a time,
# 2 workers each, with wrk (BENCH_SECONDS per run, BENCH_ROUNDS interleaved rounds, BENCH_SERVERS=tessera,floor
# to pick). Tessera runs as `make serve` runs it, from the product's venv; the peers get a venv of their own from
# bench/requirements.txt, so the product's requirements stay clean.
RACE_VENV := bench/.venv-race
$(RACE_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(RACE_VENV)
	$(RACE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RACE_VENV)/bin/pip install --quiet -r bench/requirements.txt
	touch $@

bench-race: $(RUNTIME) $(RACE_VENV)/.installed
	@command -v wrk >/dev/null || { echo "Installing wrk (Debian's package)."; \
		apt-get update -qq && apt-get install -y -qq wrk; }
	@$(INSTALL_NGINX)
	$(BIN)/python bench/race.py

clean:
	rm -rf $(VENV) $(RACE_VENV) .coverage htmlcov staticfiles $(SCHEMA)
