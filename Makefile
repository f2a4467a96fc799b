# One target per thing a person wants to do. `make test` and `make demo` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test unit integration e2e faults lint typecheck system-deps redis demo bench bench-quick clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	./scripts/system-deps.sh

redis: $(STAMP)
	PYTHON=$(PY) ./scripts/ensure-redis.sh

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

test: $(STAMP) system-deps redis lint typecheck
	$(PY) -m pytest -m "not slow"

unit: $(STAMP)
	$(PY) -m pytest -m unit

integration: $(STAMP) system-deps redis
	$(PY) -m pytest -m integration

e2e: $(STAMP) system-deps redis
	$(PY) -m pytest -m e2e

# The fault suite (tests/faults, marker `slow`): 1C outages, Redis restarts, killed workers,
# flood limits; figures in tests/artifacts/faults.json, quoted in docs/reliability.md.
faults: $(STAMP) system-deps redis
	$(PY) -m pytest -m slow

# Both emulators, the gateway (worker and web) and the demo page; prints the page's URL; Ctrl-C
# stops it all. Redis: the one at REDIS_URL, else a local redis-server for the duration.
demo: $(STAMP)
	PYTHON=$(PY) ./scripts/demo-deps.sh
	$(PY) -m sandbox demo

# Benchmarks against both emulators and real Redis (docs/performance.md): `bench` runs the
# issue's sizes and writes the table into docs/performance.md; `bench-quick` stays under 2 min.
bench: $(STAMP) system-deps redis
	$(PY) -m bench --update-docs

bench-quick: $(STAMP) system-deps redis
	$(PY) -m bench --quick

# Production install or upgrade on this server, as root (Debian 12/13, Ubuntu 22.04/24.04):
# runtime dependencies only, settings kept; see docs/admin-guide.md.
install:
	./deploy/install.sh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
