# AgentZone: `make synth` and `make test` install what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export PATH := $(abspath $(BIN)):$(PATH)

# Extra arguments, e.g. `make synth ARGS="--tenant claims"` or `make test ARGS="-k config"`.
# `make test` runs on every core (pytest-xdist: pyproject.toml's addopts, grouping in tests/conftest.py).
# ARGS="-n 0" runs it in one process (-p no:xdist does not work: addopts pass -n); --pdb does that by itself.
# ARGS="--snapshot-update" works in parallel too: syrupy merges the workers' reports, rewrites the changed
# snapshots and deletes only those no selected test used.
ARGS ?=

.PHONY: install synth test validate schema bench clean

install: $(VENV)/.installed node_modules/.installed .venv-checkov/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# checkov pins an old boto3, so it gets a virtualenv of its own.
.venv-checkov/.installed:
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check 'checkov==3.3.30'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install
	$(BIN)/agentzone synth $(ARGS)

test: install
	$(BIN)/python -m pytest $(ARGS)

validate: $(VENV)/.installed
	$(BIN)/agentzone validate $(ARGS)

schema: $(VENV)/.installed
	$(BIN)/agentzone schema

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/synth_scale.py $(ARGS)

clean:
	rm -rf cdk.out cdk.out.staging cdk.out.rejected .pytest_cache
