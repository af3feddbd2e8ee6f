# Proof-of-authority networks (poa/, tests/poa/, docs/poa.md).
# The clique node (npm @ethereumjs/client 0.10.2) has its own package.json/lock in poa/clique, so the main
# `npm ci` stays small; `make test` installs it (TEST_DEPS): tests/poa runs against it (1-2 min; SKIP_CLIQUE=1 skips).

CLIQUE_STAMP := poa/clique/node_modules/.lock.stamp
CLIQUE_PORT  ?= 8546
CLIQUE_CHAIN_ID ?= 1337
BESU_VALIDATORS ?= 4
BESU_OUT     ?= $(ROOT)/var/besu-network
BESU_CHAIN_ID ?= 2026

TEST_DEPS += $(CLIQUE_STAMP)

.PHONY: clique-setup test-poa clique clique-network bench-clique bench-clique-orders bench-anvil besu-network

$(CLIQUE_STAMP): poa/clique/package.json poa/clique/package-lock.json poa/clique/patch_client.py | check-tools $(VENV_STAMP)
	npm ci --prefix poa/clique --no-audit --no-fund --loglevel=error
	$(PY) -m poa.clique.patch_client
	@touch $@

clique-setup: $(CLIQUE_STAMP) ## install the clique PoA node (ethereumjs client, poa/clique/node_modules)

test-poa: setup compile $(CLIQUE_STAMP) ## PoA tests: contracts deployed and used on a real clique chain, Besu generator
	pytest tests/poa -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

clique: setup $(CLIQUE_STAMP) ## run a single-signer clique chain in the foreground (CLIQUE_PORT, state in var/clique)
	$(PY) -m poa.clique --port $(CLIQUE_PORT) --chain-id $(CLIQUE_CHAIN_ID)

CLIQUE_SIGNERS ?= 3
clique-network: setup $(CLIQUE_STAMP) ## run CLIQUE_SIGNERS clique signers on 127.0.0.1 in the foreground (state and logs in var/clique-network)
	$(PY) -m poa.clique.network --signers $(CLIQUE_SIGNERS) --chain-id $(CLIQUE_CHAIN_ID)

bench-clique: setup compile $(CLIQUE_STAMP) ## throughput of a fresh clique chain (pre-signed transfers) -> reports/bench-clique.json
	$(PY) -m poa.bench --chain clique --txs 3000 --senders 30 --batch 100 --max-pending 600

bench-clique-orders: setup compile $(CLIQUE_STAMP) ## `make bench` (order placements) on a fresh clique chain -> reports/bench-clique-orders.json
	$(PY) -m poa.clique.with_node -- $(PY) -m scripts.bench --txs 3000 --senders 30 --batch 100 --max-pending 600 \
	  --idle-timeout 60 --out reports/bench-clique-orders.json

bench-anvil: setup compile ## the same measurement on anvil (1 s blocks) -> reports/bench-anvil.json
	$(PY) -m poa.bench --chain anvil --txs 30000 --senders 100 --batch 200 --max-pending 8000

besu-network: setup ## write a Besu QBFT network for BESU_VALIDATORS validators into BESU_OUT (see docs/poa.md)
	$(PY) -m poa.besu.generate --validators $(BESU_VALIDATORS) --chain-id $(BESU_CHAIN_ID) --out $(BESU_OUT)
