# EventScale: `make run` serves everything locally, `make test` checks it all.
# Both build the virtual environment from the lock file when it is missing or
# stale, so a fresh clone needs nothing but Python 3.11+ and make.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced-$(UV_VERSION)

export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# Use the machine's trust store, as pip does (corporate proxies and mirrors).
export UV_SYSTEM_CERTS := 1

.PHONY: run test lint typecheck pytest fuzz bench migrate package clean

run: $(STAMP)
	$(VENV)/bin/eventscale serve

test: lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# A longer fuzzing run than the one `make test` includes.
fuzz: $(STAMP)
	$(VENV)/bin/pytest tests/test_fuzz.py --fuzz-examples=200

migrate: $(STAMP)
	$(VENV)/bin/eventscale migrate

# The purchase storm: pgbench's ceiling beside the HTTP API under wrk (README,
# "Performance"). BENCH_ARGS passes options, e.g. BENCH_ARGS="--seconds 30".
bench: $(STAMP)
	$(VENV)/bin/python -m bench.purchase_storm $(BENCH_ARGS)

# One zip per function in dist/, for serverless.yml (see README, "Deploying").
# RUNTIME_PYTHON names the Python 3.12 that precompiles the modules when it is
# neither on the PATH nor pyenv's; UNCOMPILED=1 builds without (slower starts).
package: $(STAMP)
	$(VENV)/bin/python -m scripts.package --uv $(UV) \
	  $(if $(RUNTIME_PYTHON),--runtime-python $(RUNTIME_PYTHON)) \
	  $(if $(UNCOMPILED),--uncompiled)

$(UV):
	@$(PYTHON) -m venv $(TOOLS) || { \
	  echo "Could not create a virtual environment: on Debian or Ubuntu," \
	       "install python3-venv (apt-get install python3-venv)."; exit 1; }
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check \
	  "uv==$(UV_VERSION)"

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@rm -f $(VENV)/.synced-*
	@touch $@

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache
