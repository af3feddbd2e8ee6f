# Peer-to-Peer Energy Trading — every set-up step lives here, so a fresh clone needs only `make demo` / `make test`.
# Area-specific targets live in mk/*.mk (one file per area), included below.

SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT      := $(CURDIR)
VENV      := $(ROOT)/.venv
PY        := $(VENV)/bin/python
PYTHON311 ?= python3.11
SOLC_VERSION := 0.8.28

# Everything the tools need stays inside the clone: compiler shim, npm binaries, venv.
export PATH := $(ROOT)/node_modules/.bin:$(VENV)/bin:$(PATH)
export SOLCX_BINARY_PATH := $(ROOT)/.solcx
export PYTHONPATH := $(ROOT)
export PYTHONDONTWRITEBYTECODE := 1

# uv installs the pinned requirements files (the main venv in ~25 s from PyPI, pip took ~135 s); it comes from PyPI
# into the main venv. uv's and npm's download caches stay in the clone (.cache/), not in HOME.
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
export UV_CACHE_DIR := $(ROOT)/.cache/uv
export npm_config_cache := $(ROOT)/.cache/npm
# $(call uv-install,<venv dir>,<requirements file>): the venv made if missing, the pinned file installed into it (with
# bytecode compiled: PYTHONDONTWRITEBYTECODE above means Python would never write it).
uv-install = test -x $(1)/bin/python || $(PYTHON311) -m venv --without-pip $(1); \
	$(UV) pip install --quiet --python $(1)/bin/python --compile-bytecode -r $(2)

VENV_STAMP := $(VENV)/.requirements.stamp
NPM_STAMP  := node_modules/.lock.stamp
SHIM       := .solcx/solc-v$(SOLC_VERSION)
BUILD_STAMP := build/.compiled.stamp

# Area fragments (one per area) may add targets and append to TEST_DEPS (things `make test` installs first, in
# parallel with each other and the compiler: virtualenvs, npm packages) or to TEST_SYSTEM_DEPS (apt installs, one
# at a time: apt holds one lock). Included here so their variables are set before the rules below.
TEST_DEPS :=
TEST_SYSTEM_DEPS :=
-include mk/*.mk

.PHONY: help setup check-tools system-deps compile test test-contracts lint gas demo chain deploy reset clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

check-tools:
	@missing=""; \
	command -v $(PYTHON311) >/dev/null || missing="$$missing python3.11"; \
	command -v node >/dev/null || missing="$$missing node(>=18)"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then echo "Missing system tools:$$missing — install them (e.g. apt-get install python3.11 python3.11-venv nodejs npm) and run make again." >&2; exit 1; fi

# pip asks `rustc --version` for its user agent, and rustup's rustc writes its settings into RUSTUP_HOME (~/.rustup by
# default): for these two pip runs (ensurepip and uv's install) that stays in the clone too.
PIP_ENV := RUSTUP_HOME=$(ROOT)/.cache/rustup
$(UV): | check-tools
	@test -x $(PY) || $(PIP_ENV) $(PYTHON311) -m venv $(VENV)
	$(PIP_ENV) $(PY) -m pip install --quiet --disable-pip-version-check --no-cache-dir uv==$(UV_VERSION)

$(VENV_STAMP): requirements.txt | $(UV)
	@$(call uv-install,$(VENV),requirements.txt)
	@touch $@

$(NPM_STAMP): package.json package-lock.json | check-tools
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(SHIM): tools/solc-shim.js $(NPM_STAMP)
	@mkdir -p .solcx
	@ln -sf ../tools/solc-shim.js $@
	@$@ --version | grep -q "Version: $(SOLC_VERSION)" || { echo "solc shim does not report $(SOLC_VERSION)" >&2; exit 1; }

setup: $(VENV_STAMP) $(NPM_STAMP) $(SHIM) $(MO_FILES) ## install what is missing (venv, npm packages, solc shim); a no-op when done

$(BUILD_STAMP): $(shell find contracts interfaces -name '*.sol' 2>/dev/null) brownie-config.yaml | setup
	@# Brownie keeps a data folder (and vvm its compilers) in HOME: for the build, one inside the clone.
	@mkdir -p $(ROOT)/var/build-home
	HOME=$(ROOT)/var/build-home brownie compile --all
	@# solcjs can crash (wasm out of memory) without Brownie reporting it: every contract must have its artifact.
	@for f in contracts/*.sol; do n=$$(basename $$f .sol); test -s build/contracts/$$n.json || \
	  { echo "compile failed: no build/contracts/$$n.json for $$f" >&2; exit 1; }; done
	@touch $@

compile: setup $(BUILD_STAMP) ## compile the contracts (offline, solcjs through the shim)

lint: setup ## ruff: lint rules and formatting
	ruff check .
	ruff format --check .

test: check-tools ## install what is missing and run every test
	@$(MAKE) --no-print-directory -j4 system-deps setup compile $(TEST_DEPS)
	@bash tools/run-tests.sh

# apt installs the tests need (TEST_SYSTEM_DEPS), one after the other (apt holds one lock), beside the other installs
system-deps:
	@$(MAKE) --no-print-directory $(TEST_SYSTEM_DEPS)

test-contracts: setup compile ## contract tests only (Brownie + pytest on a private anvil)
	pytest tests/contracts -p no:cacheprovider $(PYTEST_ARGS)

gas: setup compile ## measure gas of every state-changing function into reports/gas.json
	$(PY) -m scripts.gas_report

# ---------------------------------------------------------------- local chain and demo
CHAIN_DIR   ?= $(ROOT)/.chain
CHAIN_PORT  ?= 8545
BLOCK_TIME  ?= 1
GAS_LIMIT   ?= 300000000
RPC_URL     ?= http://127.0.0.1:$(CHAIN_PORT)
export CHAIN_DIR CHAIN_PORT BLOCK_TIME GAS_LIMIT

chain: setup ## run the local anvil chain in the foreground (state kept in .chain/)
	$(PY) -m energy_chain.anvil --port $(CHAIN_PORT) --block-time $(BLOCK_TIME) --gas-limit $(GAS_LIMIT) --state-dir $(CHAIN_DIR)

deploy: setup compile ## deploy (or find) the contracts on RPC_URL and write deployments/<chain-id>.json
	RPC_URL=$(RPC_URL) $(PY) -m scripts.deploy

demo: setup compile ## start chain, deploy, oracle on simulated meters and the dashboard
	@bash tools/demo.sh

reset: ## stop the demo and start again from genesis (deletes chain state and demo databases)
	rm -rf $(CHAIN_DIR) deployments/1337.json var/demo

clean: ## remove build output (keeps venv and node_modules)
	rm -rf build/contracts build/interfaces build/deployments $(BUILD_STAMP) reports/*.tmp

