# Every target creates .venv itself, so a fresh clone needs only Python >= 3.11.
# `make demo` installs the package alone; `make test`, `lint` and `bench` add the test extras.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench readme-chart clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/syncbot demo

# Each run gets a temporary folder of its own: pytest cleans up old runs' folders, which races
# with another suite running on the same machine.
test: $(BIN)/.installed-test
	TMPDIR="$$(mktemp -d)" $(BIN)/python -m pytest -q

lint: $(BIN)/.installed-test
	$(BIN)/ruff check syncbot tests bench config/demo
	$(BIN)/ruff format --check syncbot tests bench config/demo
	$(BIN)/mypy
	$(BIN)/mypy --config-file tests/mypy.ini tests
	$(BIN)/lint-imports

# `make bench BENCH_ARGS=--quick` (or SYNCBOT_BENCH_QUICK=1): the scale benchmark at smaller sizes.
bench: $(BIN)/.installed-test
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_failover.py
	$(BIN)/python bench/bench_scale.py $(BENCH_ARGS)

# The trend chart README.md shows: the demo replayed week by week (config/demo/replay.py).
readme-chart: $(BIN)/.installed
	$(BIN)/python config/demo/replay.py docs/demo-trend.png acme client

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .syncbot
