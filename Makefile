# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each installs what it needs (pinned) into .venv (the project) and .tools (SAM CLI and asl-validator,
# kept apart because SAM CLI pins an older boto3 than moto needs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
SAM := $(TOOLS)/sam/bin/sam
ASL_VALIDATOR := $(TOOLS)/node_modules/.bin/asl-validator
# asl-validator and AWS's amazon-states-language-service live here (requirements/package.json and its lock).
NODE_MODULES := $(TOOLS)/node_modules
# A python3.13 that runs: pyenv's own build first (its shim on PATH fails when 3.13 is not the selected version).
PY313 := $(or $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13)),$(shell command -v python3.13))
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: install tools demo test lint compile check bench corpus build clean

install: $(VENV)/.installed
$(VENV)/.installed: requirements/dev.txt requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements/lock.txt -r requirements/dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

tools: $(SAM) $(ASL_VALIDATOR)
$(SAM): requirements/sam.txt requirements/sam-lock.txt
	$(PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/pip install -q --disable-pip-version-check -c requirements/sam-lock.txt -r requirements/sam.txt
	touch $@
$(ASL_VALIDATOR): requirements/package.json requirements/package-lock.json
	mkdir -p $(TOOLS)
	cp requirements/package.json requirements/package-lock.json $(TOOLS)/
	cd $(TOOLS) && npm ci --no-audit --no-fund --silent
	touch $@

demo: install
	./airbyte-sync demo

# ruff (format check + lint) and mypy, configured in pyproject.toml; over the compiler package.
LINT_PATHS := arazzo_sfn
lint: install
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy $(LINT_PATHS)

test: install tools lint
	$(BIN)/arazzo-sfn check
	SAM_CLI=$(SAM) ASL_VALIDATOR=$(ASL_VALIDATOR) ASL_NODE_MODULES=$(NODE_MODULES) $(BIN)/pytest -q

compile: install
	$(BIN)/arazzo-sfn compile arazzo/airbyte-trigger-sync-and-poll-workflow.yml -o statemachine/airbyte-trigger-sync-and-poll.asl.json

check: install
	$(BIN)/arazzo-sfn check

corpus: install
	$(BIN)/arazzo-sfn corpus $(CORPUS)

bench: install
	$(BIN)/pip install -q --disable-pip-version-check -c requirements/lock.txt -r requirements/bench.txt
	$(BIN)/python -m bench.run

# sam build needs the runtime's interpreter (python3.13) on PATH.
build: tools
	PATH="$(dir $(PY313)):$$PATH" $(SAM) build --region $(AWS_DEFAULT_REGION)

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam
