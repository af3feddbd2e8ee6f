# Load tests and throughput (tests/load/, scripts/loadtest.py, scripts/bench.py, docs/load.md).
# Both targets start their own chain (and web servers) on free ports unless pointed at running ones:
#   make loadtest SCENARIO=seed-1000 RPC_URL=http://node:8545 WEB_URL=https://dashboard.example
#   make bench RPC_URL=http://node:8545
# RPC_URL has a default in the main Makefile (the demo chain); only an RPC_URL given on the command line or in
# the environment is passed on, so a bare `make bench` measures a fresh chain, never the demo's.

SCENARIO      ?= smoke
WEB_INSTANCES ?= 2
# Threads per load-test web server (its own name: `make serve` has WEB_THREADS, 16, in mk/webapp.mk).
LOAD_WEB_THREADS ?= 12
LOAD_TARGET = $(if $(filter command line environment,$(origin RPC_URL)),--rpc-url $(RPC_URL)) \
              $(if $(WEB_URL),--web-url $(WEB_URL))

.PHONY: loadtest bench

loadtest: setup compile ## Locust scenario headless: SCENARIO=seed-150|seed-500|seed-1000|max (-> reports/loadtest/)
	$(PY) -m scripts.loadtest --scenario $(SCENARIO) --web-instances $(WEB_INSTANCES) \
	  --web-threads $(LOAD_WEB_THREADS) $(LOAD_TARGET)

bench: setup compile ## chain-direct ceiling: pre-signed order placements in JSON-RPC batches -> reports/bench.json
	$(PY) -m scripts.bench $(if $(filter command line environment,$(origin RPC_URL)),--rpc-url $(RPC_URL))
