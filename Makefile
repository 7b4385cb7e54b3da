# `make run` and `make test` work from a clean clone: each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,faces]'
	touch $(STAMP)

run: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/mlcalc landscape

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_engine.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_checkpoint.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_vmap.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_optimize.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_integrate.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_implicit.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_landscape.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache
