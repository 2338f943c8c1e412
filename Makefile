# The two commands of the README: `make run` (the main job) and `make test`.
# Both do their own set-up, idempotently, on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-16)
CONFIG ?= configs/torino-local.toml
BUNDLE ?= data/torino
PLAN   ?= configs/plan-torino.toml

.PHONY: run test setup system-deps lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

run: setup
	$(BIN)/territorio build --config $(CONFIG)
	$(BIN)/territorio access $(BUNDLE)
	$(BIN)/territorio plan $(BUNDLE) --config $(PLAN)
	$(BIN)/territorio maps $(BUNDLE)

lint: setup
	$(BIN)/ruff check territorio tests bench
	$(BIN)/ruff format --check territorio tests bench
	$(BIN)/mypy

test: setup system-deps lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
