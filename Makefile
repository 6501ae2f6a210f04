# Reproducible evaluation of Danish employment interventions.
# `make report` and `make test` are all a newcomer needs; `make help` lists the rest.

STUDY  ?= demo
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
KERNEL := dream-eval
SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip on this machine warns about each missing local index folder; keep real messages only
PIPQUIET := 2>&1 | { grep -v '^WARNING: Location' || true; }

.DEFAULT_GOAL := help
.PHONY: help report check new-study test data pdf supplement bench simulate lab clean kernel strip env

## help: list the targets
help:
	@echo "Usage: make <target> [STUDY=<name>]   (studies: $(notdir $(basename $(wildcard studies/*.yaml))))"
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip $(PIPQUIET)
	$(PY) -m pip install --quiet -e '.[dev,bench]' $(PIPQUIET)
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (dream-eval)" >/dev/null
	@touch $(STAMP)

## env: create the local virtual environment (.venv) from the pinned dependencies
env: $(STAMP)

## kernel: (re)register the project's Jupyter kernel in .venv
kernel: $(STAMP)
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (dream-eval)"

## report: run every notebook for STUDY (default demo) and render reports/STUDY/report.html (+ PDF if Chromium is present)
report: $(STAMP)
	$(PY) -m helpers.runner --study $(STUDY) --kernel $(KERNEL)

## check: read the whole extract and every form of STUDY, write nothing, print every problem (exit 1 if it cannot run)
check: $(STAMP)
	$(PY) -m helpers.ingest.check --study $(STUDY)

## new-study: write studies/NAME.yaml (commented, # REQUIRED keys marked) and empty form templates in data/raw/NAME/
new-study: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make new-study NAME=<name>"; exit 2; }
	$(PY) -m helpers.config.new_study --name $(NAME)

## data: generate the synthetic data of STUDY into data/raw/STUDY (only if missing; FORCE=1 regenerates)
data: $(STAMP)
	$(PY) -m helpers.synth --study $(STUDY) $(if $(FORCE),--force,)

## pdf: print reports/STUDY/report.html to PDF (installs Debian's chromium-headless-shell if missing)
pdf: $(STAMP)
	@$(PY) -m helpers.report.pdf --ensure-chromium --study $(STUDY)

## supplement: zip the publication supplement of STUDY (refuses if any file holds person-level data)
supplement: $(STAMP)
	$(PY) -m helpers.report.supplement --study $(STUDY)

## test: run the test suite (sets up .venv first)
test: $(STAMP)
	$(PY) -m pytest -n 2 -q

## bench: register-scale benchmarks (50k-1M persons, DuckDB peer, SAS/Stata ingest, whole report on 1M); results in reports/bench/ (BENCH_ARGS="--parts scaling --sizes 50000" for a part)
bench: $(STAMP)
	@command -v readstat >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q --no-install-recommends readstat >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends readstat >/dev/null 2>&1; }; }; } || \
	  echo "note: ReadStat's command-line tool (Debian package readstat) is missing: the SAS7BDAT ingest is not measured"
	$(PY) -m benchmarks $(BENCH_ARGS)

## simulate: Monte Carlo study behind the headline HR and RD (200 replications per scenario, 2 workers); results in reports/simulations/ and docs/headline-estimator.md
simulate: $(STAMP)
	$(PY) -m simulations.headline $(if $(REPLICATIONS),--replications $(REPLICATIONS),)

## lab: JupyterLab on the project's kernel
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

## strip: remove outputs from committed notebooks (nbstripout)
strip: $(STAMP)
	$(VENV)/bin/nbstripout --keep-id notebooks/*.ipynb

## clean: remove generated files (data/processed, reports, caches); never touches data/raw
clean:
	rm -rf data/processed/* reports/* .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	@git checkout -- data/processed/README.md reports/README.md 2>/dev/null || true
