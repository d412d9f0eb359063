# Two commands do all set-up on a fresh machine:
#   make demo   — create .venv, install gankit, run the default training run with its report
#   make test   — create .venv, install gankit[dev,lab,search,ray], run the test suite
# constraints.txt pins torch's version (2.13.0), not its build: which build pip picks depends on the
# index. PyPI's Linux x86-64 torch is the CUDA build (it pulls the nvidia-* libraries, several GB);
# for the CPU-only build (a 192 MB wheel) give the PyTorch CPU index:
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu
# PIP_ARGS is passed to every pip install (e.g. PIP_ARGS="--index-url https://my.mirror/simple").
# Other pins: make test CONSTRAINTS=my-constraints.txt (or CONSTRAINTS=/dev/null for the newest torch).
PYTHON ?= python3
VENV ?= .venv
CONSTRAINTS ?= constraints.txt
TORCH_INDEX ?=
PIP_ARGS ?=
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# two test processes (pytest-xdist): each test runs with one torch thread (tests/conftest.py), so
# the 2-core CI machine uses both; WORKERS=0 runs serially
WORKERS ?= 2

.PHONY: setup demo test test-all bench clean

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip $(PIP_ARGS)
	$(if $(TORCH_INDEX),$(PY) -m pip install -q -c $(CONSTRAINTS) $(PIP_ARGS) --index-url $(TORCH_INDEX) torch)
	$(PY) -m pip install -q -c $(CONSTRAINTS) $(PIP_ARGS) -e ".[dev,lab,search,ray]"
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
