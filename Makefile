# The two commands a newcomer needs: `make reproduce` and `make test`. See `make help`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STUDY ?= rumour-replies

.DEFAULT_GOAL := help
.PHONY: help reproduce test lint benchmarks clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,xlsx]"
	touch $@ $(VENV)/.installed

reproduce: $(VENV)/.installed ## create .venv, install, run the default study, write its figures
	$(BIN)/python -m analysis reproduce $(STUDY)

test: $(VENV)/.installed-dev ## install the dev extras and run every test and notebook
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev ## ruff over the package, tests and benchmarks
	$(BIN)/ruff check analysis tests benchmarks conftest.py

benchmarks: $(VENV)/.installed-dev ## rerun every benchmark and update docs/benchmarks.md (minutes)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/ingest_scale.py
	$(BIN)/python benchmarks/reddit_loaders.py
	$(BIN)/python benchmarks/language.py --write
	$(BIN)/python benchmarks/classifiers.py --write
	$(BIN)/python benchmarks/classifier_choices.py --write
	$(BIN)/python benchmarks/prevalence.py
	$(BIN)/python benchmarks/annotate_agreement.py --write

clean: ## remove derived files (data/processed, caches); never touches data/raw or reports
	find data/processed -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name __pycache__ -not -path './$(VENV)/*' -exec rm -rf {} +
