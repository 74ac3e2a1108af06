# Two entry points, each doing the whole set-up on a fresh machine:
#   make run   -> create .venv, install, run the main job (baseline vs standard scenarios)
#   make test  -> create .venv, install with test extras, run the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench setup browser clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) -m sim $(ARGS)

# Debian's chromium for the report's browser test (tests/pipeline/test_report.py, driven by playwright from
# pip; `playwright install` is never used: it downloads a browser of its own). Installed with apt-get as
# root; where that is impossible the test skips with the reason - except under CI=true, where this fails.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the report's browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || { \
	    echo "could not install chromium (needs apt-get as root on Debian)" >&2; [ "$${CI:-}" != "true" ]; }; }

test: setup browser
	$(PY) -m pytest $(ARGS)

bench: setup
	$(PY) benchmarks/bench_replication.py

clean:
	rm -rf $(VENV)
