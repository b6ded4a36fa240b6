# Two commands from a fresh clone: `make run` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000
export PORT

.PHONY: install instance run test lint lock lock-check unit bench browser-deps test-tools clean

# Installs exactly what requirements-dev.lock pins (with hashes), then the app itself.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# After changing dependencies in pyproject.toml: rewrite requirements.lock (the image's) and
# requirements-dev.lock, keeping the versions already pinned; `make lock UPGRADE=1` moves
# every package to the newest version pyproject.toml allows.
lock: install
	$(BIN)/python scripts/lock.py $(if $(UPGRADE),--upgrade)

lock-check: install
	$(BIN)/python scripts/lock.py --check

instance: install
	$(BIN)/companion db upgrade
	$(BIN)/companion init-instance

run: instance
	./scripts/run.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy server/domain server/services

# Debian's Chromium for the browser tests (never a downloaded browser) and axe-core from npm.
browser-deps:
	test -x /usr/bin/chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }
	test -d tests/browser/node_modules/axe-core || npm ci --prefix tests/browser --no-audit --no-fund

# the sqlite3 shell, for the test of the README's SQLite backups
test-tools:
	command -v sqlite3 >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q sqlite3; }

test: lint lock-check browser-deps test-tools
	$(BIN)/python -m pytest

# The benchmarks print figures (README, Performance); they need PostgreSQL on 127.0.0.1:5432.
bench: install
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "make bench needs PostgreSQL on 127.0.0.1:5432"; exit 1; }
	$(BIN)/python -m benchmarks.api
	$(BIN)/python -m benchmarks.time_rules
	$(BIN)/python -m benchmarks.reminders
	$(BIN)/python -m benchmarks.escalations
	$(BIN)/python -m benchmarks.exports
	$(BIN)/python -m benchmarks.care_pulse
	$(BIN)/python -m benchmarks.lighthouse

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
