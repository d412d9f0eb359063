# Two commands do all set-up on a fresh machine:
#   make demo   — create .venv, install gankit, run the default training run with its report
#   make test   — create .venv, install gankit[dev], run the test suite
# PyTorch is pinned to the CPU build by constraints.txt; with a GPU: make test CONSTRAINTS=/dev/null
PYTHON ?= python3
VENV ?= .venv
CONSTRAINTS ?= constraints.txt
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# two test processes (pytest-xdist): each test runs with one torch thread (tests/conftest.py), so
# the 2-core CI machine uses both (790 tests: 2 min 28 s on 2 cores, session 5); WORKERS=0 runs serially
WORKERS ?= 2

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
	$(PY) -m pytest -q -m "not slow" -n $(WORKERS) $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -q -n $(WORKERS) $(PYTEST_ARGS)

bench: setup
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/toy_suite.py --seeds 3

clean:
	rm -rf $(VENV) runs .pytest_cache
