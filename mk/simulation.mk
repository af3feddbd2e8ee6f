# Community simulator and trading agents (simulation/, agents/, household_model/, docs/simulation.md).
# make simulate HOUSEHOLDS=200 DAYS=1 SEED=7 [DESIGNS=order-book,auction] [STRATEGY=sdr|ramp] [RUN=name]

HOUSEHOLDS ?= 20
DAYS       ?= 1
SEED       ?= 7
DESIGNS    ?= all
STRATEGY   ?= sdr
BENCH_SIZES ?= 20 200 1000

.PHONY: simulate bench-simulate test-simulation test-agents

simulate: setup compile ## simulate HOUSEHOLDS households for DAYS days under every design -> reports/simulation/<run>/ (report.html)
	HOUSEHOLDS=$(HOUSEHOLDS) DAYS=$(DAYS) SEED=$(SEED) DESIGNS=$(DESIGNS) STRATEGY=$(STRATEGY) RUN=$(RUN) \
	  $(PY) -m simulation

bench-simulate: setup compile ## wall time, transactions and peak memory of BENCH_SIZES households x 1 day, all designs -> reports/simulation/bench.json
	$(PY) -m simulation.bench --sizes $(BENCH_SIZES) --days $(DAYS) --seed $(SEED)

test-agents: setup compile ## agent unit tests on a real anvil
	pytest tests/agents -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

test-simulation: setup compile ## the 10-household, 8-interval simulation checked against its chain's events
	pytest tests/simulation -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)
