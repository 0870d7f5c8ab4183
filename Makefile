# The verbs a newcomer needs. Every target uses the environment in .venv/ and creates it when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install browser dev test lint format validate bench migrate simulate worker clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --quiet
	touch $@

install: $(VENV)/.installed ## create .venv/ and install everything

dev: install ## run the whole platform locally (Ctrl+C stops it)
	$(BIN)/python -m local_stack

# Debian's Chromium and Tamil/Devanagari fonts for the browser tests, when we may install them (root).
BROWSER_PACKAGES := chromium fonts-lohit-taml fonts-lohit-deva
browser:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then \
		echo "installing $(BROWSER_PACKAGES) for the browser tests"; \
		apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; }; \
	fi
	@command -v chromium >/dev/null || echo "no Chromium (not root?): the browser tests will be skipped"

test: install browser ## run every test (installs Chromium for the browser tests when root)
	$(BIN)/pytest -q

lint: install ## ruff lint (vendor SDKs only in adapters), format check, mypy, and the import boundaries
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

validate: install ## cfn-lint and sam validate --lint on template.yaml
	$(BIN)/cfn-lint template.yaml
	bash .ci/sam-validate

migrate: install ## apply pending control-plane and tenant migrations to DATABASE_URL
	$(BIN)/python -m mla_core.cli migrate

bench: install ## print the performance figures (see README)
	$(BIN)/python -m bench.provisioning
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.schemas
	$(BIN)/python -m bench.agent_setup
	$(BIN)/python -m bench.agent_memory
	$(BIN)/python -m bench.webhook_ingest
	$(BIN)/python -m bench.complaints_scale
	$(BIN)/python -m bench.pages

simulate: install ## a phone call without a phone: make simulate TO=+91… FROM=+91… SCRIPT=agent_pool/scripts/tamil_complaint.json
	$(BIN)/python -m agent_pool.simulate --to $(TO) --from $(FROM) --script $(SCRIPT)

worker: install ## the LiveKit agent worker against LIVEKIT_URL (dev mode)
	$(BIN)/python -m livekit.agents start agent_pool/worker.py --dev

clean:
	rm -rf $(VENV) .local .aws-sam
