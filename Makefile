# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Each installs what it needs (pinned) into .venv (the project) and .tools: SAM CLI and checkov, each in its own
# environment because they pin an older boto3 than moto needs, and the npm packages (asl-validator, and jsonata
# 2.0.6, which the local engine evaluates JSONata with, as AWS Step Functions does).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
SAM := $(TOOLS)/sam/bin/sam
NODE_MODULES := $(TOOLS)/node_modules/.installed
ASL_VALIDATOR := $(TOOLS)/node_modules/.bin/asl-validator
CHECKOV := $(TOOLS)/checkov/bin/checkov
# asl-validator, AWS's amazon-states-language-service and jsonata live here (requirements/package.json, its lock).
NODE_MODULES_DIR := $(TOOLS)/node_modules
# A python3.13 that runs: pyenv's own build first (its shim on PATH fails when 3.13 is not the selected version).
PY313 := $(or $(firstword $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13)),$(shell command -v python3.13))
export AWS_DEFAULT_REGION ?= us-east-1
# The four environments install independently (mostly waiting on the registries): in parallel.
MAKEFLAGS += --jobs=4

.PHONY: install tools demo test lint compile check bench corpus build clean

install: $(VENV)/.installed
$(VENV)/.installed: requirements/dev.txt requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements/lock.txt -r requirements/dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

tools: $(SAM) $(NODE_MODULES) $(CHECKOV)
$(SAM): requirements/sam.txt requirements/sam-lock.txt
	$(PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/pip install -q --disable-pip-version-check -c requirements/sam-lock.txt -r requirements/sam.txt
	touch $@
$(CHECKOV): requirements/checkov.txt requirements/checkov-lock.txt
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install -q --disable-pip-version-check -c requirements/checkov-lock.txt -r requirements/checkov.txt
	touch $@
$(NODE_MODULES): requirements/package.json requirements/package-lock.json
	@command -v node >/dev/null || { echo "Node.js (node, npm) is required: the local engine evaluates JSONata with npm jsonata, as AWS does" >&2; exit 1; }
	mkdir -p $(TOOLS)
	cp requirements/package.json requirements/package-lock.json $(TOOLS)/
	cd $(TOOLS) && npm ci --no-audit --no-fund --silent
	touch $@

# The demo runs the machine in the local engine, which evaluates JSONata with the npm jsonata in .tools.
demo: install $(NODE_MODULES)
	./airbyte-sync demo

# ruff (format check + lint) and mypy, configured in pyproject.toml; over every Python package: the compiler, the
# Lambda code (functions/, whose packages mypy resolves as top-level via mypy_path), the local tools and the bench.
LINT_PATHS := arazzo_sfn functions local_tools bench
lint: install
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy $(LINT_PATHS)

# pytest-xdist runs the test files on TEST_WORKERS processes (a file's tests stay together: they share a deployed
# stack); TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
test: install tools lint
	$(BIN)/arazzo-sfn check
	SAM_CLI=$(SAM) ASL_VALIDATOR=$(ASL_VALIDATOR) ASL_NODE_MODULES=$(NODE_MODULES_DIR) CHECKOV=$(CHECKOV) \
		$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

compile: install
	$(BIN)/arazzo-sfn compile arazzo/airbyte-trigger-sync-and-poll-workflow.yml -o statemachine/airbyte-trigger-sync-and-poll.asl.json
	$(BIN)/arazzo-sfn compile arazzo/airbyte-sync-connections-workflow.yml -o statemachine/airbyte-sync-connections.asl.json

check: install
	$(BIN)/arazzo-sfn check

corpus: install
	$(BIN)/arazzo-sfn corpus $(CORPUS)

bench: install $(NODE_MODULES)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements/lock.txt -r requirements/bench.txt
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.many

# sam build needs the runtime's interpreter (python3.13) on PATH.
build: tools
	PATH="$(dir $(PY313)):$$PATH" $(SAM) build --region $(AWS_DEFAULT_REGION)

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam
