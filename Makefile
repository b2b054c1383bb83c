# gaussmle: the front door. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dask,fast]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gaussmle demo

# The whole suite twice: with the compiled kernels (a test asserts they are active), then
# with the numpy reference path. Both runs always run; the target fails if either failed
# (pytest's exit code: 1 failures, 2 interrupted, 3 internal error, 4 usage, 5 no tests).
PYTEST := $(BIN)/python -m pytest -n 2 -p no:cacheprovider

test: $(STAMP)
	@first=0; second=0; \
	echo "== tests with the compiled kernels (numba)"; \
	$(PYTEST) || first=$$?; \
	echo "== tests with the numpy reference path (GAUSSMLE_NO_NUMBA=1)"; \
	GAUSSMLE_NO_NUMBA=1 $(PYTEST) || second=$$?; \
	echo "== exit codes: compiled $$first, numpy $$second"; \
	if [ $$first -ne 0 ]; then exit $$first; fi; exit $$second

# Writes docs/benchmarks.md (date, CPU, BLAS, the table); the README links to it.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --output docs/benchmarks.md

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) demo-output .pytest_cache .ruff_cache
