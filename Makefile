# Two commands matter: `make run` (set up and serve the demo) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
# uv comes from PATH, or is installed from PyPI into .tools/ on a machine that lacks it.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
MANAGE := $(UV) run --frozen python manage.py

.PHONY: run test lint install migrate demo screenshots bench clean fault-pg-restart fault-slow-esia

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen

migrate: install
	$(MANAGE) migrate --verbosity 0

demo: migrate
	$(MANAGE) load_demo

run: demo
	$(MANAGE) collectstatic --noinput --verbosity 0
	UV="$(UV)" bash scripts/run.sh

test: install
	$(UV) run --frozen pytest

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy portal

screenshots: install
	SAVE_SCREENSHOTS=docs/screenshots $(UV) run --frozen pytest tests/browser/test_public_pages.py tests/browser/test_journey.py -q

# Benchmarks on the machine's PostgreSQL (issue 6): builds the region once into the
# portal_bench database, serves it with gunicorn on 127.0.0.1:18400, prints one table
# and keeps it in docs/performance.md. Override with BENCH_DATABASE_URL / BENCH_PORT.
bench: install
	$(UV) run --frozen python -m bench.run

clean:
	rm -rf .venv .tools data test-artifacts

# Fault drill (docs/security.md): restarts the machine's PostgreSQL during a booking rush.
# Never part of `make test`: it breaks every other database session on the machine.
fault-pg-restart: install
	$(UV) run --frozen python -m bench.fault_pg_restart

# Fault drill (docs/security.md): a dripping and an 8 s-per-call ESIA against gunicorn
# (3 sync workers, timeout 30). Part of `make test` too; this runs it alone.
fault-slow-esia: install
	$(UV) run --frozen pytest tests/identity/test_slow_esia_gunicorn.py -v
