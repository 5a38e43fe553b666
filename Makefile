# The course's grader. `make install` sets everything up (torch included), `make test` tests it.
PYTHON ?= python3
VENV ?= .venv
# The torch a course grades with; override with `make install TORCH=torch==2.14.1`.
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help install test test-fast verify bench lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

install: ## create .venv with torch, the grader and its test tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[dev,dask,instructor]"
	@# bytecode now, so that `grade` does not compile itself on every run where
	@# PYTHONDONTWRITEBYTECODE is set (CI images often set it)
	$(BIN)/python -m compileall -q grader
	@echo "installed: activate with 'source $(VENV)/bin/activate', then run 'grade --help'"

test: ## run the grader's own tests (GPU tests skip without CUDA)
	$(BIN)/python -m pytest tests -q

test-fast: ## the tests without the slow end-to-end ones
	$(BIN)/python -m pytest tests -q -m "not slow"

verify: ## prove every homework: solutions pass, stubs score 0, mutants are caught
	$(BIN)/grade verify

bench: ## benchmarks, measured side by side in one run
	$(BIN)/python bench/bench_check.py
	$(BIN)/python bench/bench_watch.py
	$(BIN)/python bench/bench_forbidden.py
	$(BIN)/python bench/bench_batch.py
	$(BIN)/python bench/bench_suites.py

lint: ## ruff, mypy --strict and the import contracts (the trust boundary, the layers)
	$(BIN)/ruff check grader
	$(BIN)/mypy grader
	$(BIN)/lint-imports --no-cache
