# Two commands on a fresh machine:
#   make report   set up .venv, then tgap report: ingest if stale, fit (or load the cached fit),
#                 forensic checks, charts, tables, index.html -> reports/$(SCENARIO)/
#   make test     set up .venv, then run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= baseline
# pytest-xdist workers (0: one process); tests/conftest.py keeps each file in one worker
TEST_WORKERS ?= 2
export PYTENSOR_FLAGS ?= base_compiledir=$(CURDIR)/.cache/pytensor
export MPLBACKEND ?= Agg

.PHONY: setup report notebooks test lint ingest fit forensics clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,fast]'
	touch $(STAMP)

ingest: $(STAMP)
	$(BIN)/tgap check
	$(BIN)/tgap ingest

fit: ingest
	$(BIN)/tgap fit --scenario $(SCENARIO)

forensics: ingest
	$(BIN)/tgap forensics --out reports/forensics

report: $(STAMP)
	$(BIN)/tgap report --scenario $(SCENARIO)

notebooks: $(STAMP)
	$(BIN)/tgap notebooks --scenario $(SCENARIO)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check analysis tests

clean:
	rm -rf data/derived/observations.csv data/derived/manifest.json reports/*/ .cache
