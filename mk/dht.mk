# Offer discovery over the kademlia DHT (agents/discovery/, tests/discovery/, docs/discovery.md).

DHT_BENCH_NODES ?= 50 200

.PHONY: test-dht bench-dht

test-dht: setup compile ## discovery tests: 20 real kademlia nodes on 127.0.0.1, forged/stale/oversized records, anvil balances
	pytest tests/discovery -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

bench-dht: setup compile ## DHT with 50 and 200 nodes on 127.0.0.1 vs the same query on anvil -> reports/dht-bench.json
	$(PY) -m scripts.bench_dht --nodes $(DHT_BENCH_NODES)
