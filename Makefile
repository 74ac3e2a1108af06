# Two entry points, each doing the whole set-up on a fresh machine:
#   make run   -> create .venv, install, run the main job (baseline vs standard scenarios)
#   make test  -> create .venv, install with test extras, run the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test bench setup clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) -m sim $(ARGS)

test: setup
	$(PY) -m pytest $(ARGS)

bench: setup
	$(PY) benchmarks/bench_replication.py

clean:
	rm -rf $(VENV)
