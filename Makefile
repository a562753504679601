# Two commands matter: `make run` (set up and serve the demo) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
# uv comes from PATH, or is installed from PyPI into .tools/ on a machine that lacks it.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
MANAGE := $(UV) run --frozen python manage.py

# A production-like environment (docs/operations.md) for `check --deploy` in `make lint`:
# DEBUG off, a real-looking key, a host name, TLS at the proxy, Redis for shared counters.
DEPLOY_ENV := DEBUG=0 PORTAL_DATA_DIR=data/deploy-check ALLOWED_HOSTS=portal.example.ru \
	SECRET_KEY=lint-only-3f9a7c1e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9c7e5b3d1f8a6c4e2b0d9f7 \
	CSRF_TRUSTED_ORIGINS=https://portal.example.ru BEHIND_TLS_PROXY=1 \
	CLIENT_IP_HEADER=HTTP_X_REAL_IP TRUSTED_PROXIES=127.0.0.1 \
	REDIS_URL=redis://127.0.0.1:6379/0 ESIA_EMULATOR_ENABLED=0

.PHONY: run test lint install migrate demo screenshots bench bench-cluster bench-peer bench-profile clean fault-pg-restart fault-pg-hang messages fault-worker fault-slow-esia

# Without pip in the venv: pip runs from the wheel that ensurepip would install (Python's
# own, or Debian's in /usr/share/python-wheels), seconds less than installing pip first;
# where there is no such wheel, the venv gets pip as before.
$(UV):
	@wheel=$$(ls $$($(PYTHON) -c 'import ensurepip, os; print(os.path.dirname(ensurepip.__file__))' 2>/dev/null)/_bundled/pip-*.whl \
		/usr/share/python-wheels/pip-*.whl 2>/dev/null | head -n 1); set -x; \
	if [ -n "$$wheel" ]; then \
		$(PYTHON) -m venv --without-pip .tools && \
		.tools/bin/python "$$wheel/pip" install --quiet --disable-pip-version-check uv; \
	else \
		$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv; \
	fi

# System packages the tests use, installed by .ci/run, by hand elsewhere (Debian):
# chromium (browser tests), zbar-tools (zbarimg decodes the ticket's QR code) and nodejs
# with npm (ical.js reads the ticket's calendar file: tests/calendar_js, pinned by its lock).
install: $(UV)
	$(UV) sync --frozen
	@if command -v npm >/dev/null && [ ! -d tests/calendar_js/node_modules ]; then \
		npm ci --prefix tests/calendar_js --silent --no-audit --no-fund; fi

migrate: install
	$(MANAGE) migrate --verbosity 0

demo: migrate
	$(MANAGE) load_demo

# One process migrates, loads the demo (both skip what is already there) and serves it
# with its services (scripts/run.sh, `manage.py serve_demo`); `make migrate` and
# `make demo` do those steps alone.
run: install
	UV="$(UV)" bash scripts/run.sh

# The whole suite on DATABASE_URL's engine (SQLite without it): TEST_WORKERS pytest-xdist
# workers, then, on PostgreSQL, its races (marker postgres_only) alone in one serial
# process, so no other test shares the cores with them. On SQLite every race would skip:
# that second run is left out, not collected for nothing (18 s). PYTEST_ARGS go to both
# (5: PYTEST_ARGS left one of the two with nothing to run).
# CI splits it further (.ci/run, docs/architecture.md "Tests").
TEST_WORKERS ?= 2
test: install
	@# Both runs always run (a failure in the first must not hide the races); exit 5 (no
	@# test collected) is not a failure.
	status=0; \
	$(UV) run --frozen pytest -n $(TEST_WORKERS) --dist worksteal -m "not postgres_only" $(PYTEST_ARGS) || { rc=$$?; [ $$rc = 5 ] || status=$$rc; }; \
	case "$$DATABASE_URL" in \
	  ""|sqlite*) echo "The races (marker postgres_only) need PostgreSQL: set DATABASE_URL=postgres://… to run them." ;; \
	  *) $(UV) run --frozen pytest -m postgres_only $(PYTEST_ARGS) || { rc=$$?; [ $$rc = 5 ] || status=$$rc; } ;; \
	esac; \
	exit $$status

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy portal tests bench
	$(UV) run --frozen lint-imports
	$(MANAGE) makemigrations --check --dry-run
	env -u DATABASE_URL $(DEPLOY_ENV) $(MANAGE) check --deploy --fail-level WARNING

screenshots: install
	SAVE_SCREENSHOTS=docs/screenshots $(UV) run --frozen pytest tests/browser/test_public_pages.py tests/browser/test_journey.py \
		"tests/browser/test_accessibility_version.py::test_a_visitor_switches_the_version_on_and_it_follows_her" -q

# The Russian plural forms (portal/locale/ru/LC_MESSAGES/django.po) compiled into the
# committed django.mo; needs GNU gettext's msgfmt, only when the .po changes.
messages: install
	$(MANAGE) compilemessages --locale ru --ignore ".venv/*"

# Benchmarks on the machine's PostgreSQL (issue 6): builds the region once into the
# portal_bench database, serves it with gunicorn on 127.0.0.1:18400, prints one table
# and keeps it in docs/performance.md. Override with BENCH_DATABASE_URL / BENCH_PORT.
# It also measures the peer, django-appointment, at its own setup beside the portal at the
# same setup (bench/peer.py: its own venv under data/bench, database bench_peer; BENCH_PEER=0
# skips it); `make bench-peer` runs that phase alone.
bench: install
	$(UV) run --frozen python -m bench.run

bench-peer: install
	$(UV) run --frozen python -m bench.peer

clean:
	rm -rf .venv .tools data test-artifacts

# Fault drill (docs/security.md): restarts the machine's PostgreSQL during a booking rush.
# Never part of `make test`: it breaks every other database session on the machine.
fault-pg-restart: install
	$(UV) run --frozen python -m bench.fault_pg_restart

# Fault drill (docs/operations.md, «Degraded mode»): PostgreSQL behind a TCP proxy that the
# drill hangs (accepts, never answers); gunicorn must answer 503s in seconds, lose no
# worker and write nothing by half. Leaves the machine's PostgreSQL alone.
fault-pg-hang: install
	$(UV) run --frozen python -m bench.fault_pg_hang

# Fault drill (docs/notifications.md): kills and restarts the outbox workers during a booking
# burst on PostgreSQL, then checks that no message was lost or sent twice.
fault-worker: install
	$(UV) run --frozen python -m bench.fault_worker

# Fault drill (docs/security.md): a dripping and an 8 s-per-call ESIA against gunicorn
# (3 sync workers, timeout 30). Part of `make test` too; this runs it alone.
fault-slow-esia: install
	$(UV) run --frozen pytest tests/identity/test_slow_esia_gunicorn.py -v

# Several app servers (docs/operations.md, issue 17): two gunicorn nodes behind haproxy,
# a streaming replica of the machine's PostgreSQL on 5433 (pg_basebackup, removed at the
# end), Redis. Installs haproxy if missing. Minutes; never part of `make test`.
bench-cluster: install
	$(UV) run --frozen python -m bench.cluster

# Where one request's time and statements go, in-process (docs/performance.md).
bench-profile: install
	$(UV) run --frozen python -m bench.profile
