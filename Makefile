# Set-up and the two jobs. `make demo` and `make test` each create .venv on
# first use: torch's CPU wheel first (pinned so pip takes the wheel on this
# machine instead of a multi-GB CUDA build), then the package with its extras.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
# Test processes (pytest-xdist); tests/conftest.py gives each one torch thread, so on
# two cores two processes keep both busy without oversubscribing them.
TEST_WORKERS ?= 2
BIN := $(VENV)/bin

.PHONY: setup demo test test-benchmarks lint benchmark

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/python -m benchmarks demo

# The package's tests; the benchmark scripts' end-to-end runs (two minutes of CPU) are
# test-benchmarks, which CI runs too.
test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not benchmarks"

test-benchmarks: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m benchmarks

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

benchmark: setup
	$(BIN)/python -m pip install --quiet -e ".[benchmark]"
	for name in synthetic task_groups weak_supervision adult adult_tuned defaults label_scarcity esmm linear linear_cv default_alpha weighting throughput out_of_core scaling serving; do \
		$(BIN)/python -m benchmarks run $$name --full || exit 1; \
	done
