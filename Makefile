# Two commands do all set-up on a fresh machine:
#   make demo   — create .venv, install gankit, run the default training run with its report
#   make test   — create .venv, install gankit[dev], run the test suite
# PyTorch is pinned to the CPU build by constraints.txt; with a GPU: make test CONSTRAINTS=/dev/null
PYTHON ?= python3
VENV ?= .venv
CONSTRAINTS ?= constraints.txt
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test test-all bench clean

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c $(CONSTRAINTS) -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/gankit train --out runs/demo-$$(date +%Y%m%d-%H%M%S)

test: setup
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/toy_suite.py --seeds 3

clean:
	rm -rf $(VENV) runs .pytest_cache
