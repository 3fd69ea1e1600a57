# Set-up, demo, tests and benchmarks. `make demo` and `make test` work on a fresh Debian machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PKGS := controller devices hw_sim

.PHONY: setup system-deps demo demo-day test lint unit bench soak clean

setup: $(VENV)/.installed system-deps

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[dev,postgres]'
	touch $@

system-deps:
	@bash scripts/system-deps.sh

demo: setup
	$(BIN)/python -m controller demo

lint: $(VENV)/.installed
	$(BIN)/lint-imports
	$(BIN)/ruff check $(PKGS) tests bench
	$(BIN)/mypy $(PKGS)

test: setup lint
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

unit: $(VENV)/.installed
	$(BIN)/python -m pytest -q tests/unit

bench: setup
	$(BIN)/python -m bench $(if $(ONLY),--only $(ONLY))

soak: setup  # SOAK_MINUTES (default 60) of load into bench/results/soak.json, then the long crash/power-cut forms
	SOAK_MINUTES=$(or $(SOAK_MINUTES),60) $(BIN)/python -m tests.reliability.soak && CRASH_CYCLES=$(or $(CRASH_CYCLES),300) POWER_CUTS=$(or $(POWER_CUTS),60) $(BIN)/python -m pytest -q -p no:cacheprovider tests/reliability/test_crash_loop.py tests/reliability/test_power_cut.py

clean:
	rm -rf var/demo var/sim bench/results

demo-day: $(VENV)/.installed
	$(BIN)/python -m hw_sim.demo_day
