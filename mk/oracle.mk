# Meter oracle (meter_oracle/, tests/oracle/, docs/oracle.md).

ORACLE_METERS   ?= 1000
ORACLE_BACKLOG  ?= 15
ORACLE_REALTIME ?= 2
ORACLE_DIR      ?= $(ROOT)/var/oracle

.PHONY: test-oracle bench-oracle oracle-keystore oracle register-demo-meters

test-oracle: setup compile ## oracle tests: validation, outbox, sources, real Modbus TCP server, submitter and fault test on anvil
	pytest tests/oracle -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

bench-oracle: setup compile ## oracle throughput/lag with 1 000 meters at 60 s -> reports/oracle-bench.json (~3 min)
	$(PY) -m scripts.bench_oracle --meters $(ORACLE_METERS) --backlog $(ORACLE_BACKLOG) --realtime $(ORACLE_REALTIME)

oracle-keystore: setup ## local chain only: the oracle's dev key (account 2) as a keystore in var/oracle
	@test -f $(ORACLE_DIR)/oracle-key.json || $(PY) -m energy_chain.devchain keystore --role oracle \
		--out $(ORACLE_DIR)/oracle-key.json --password-file $(ORACLE_DIR)/oracle-key.pass

register-demo-meters: setup ## register the demo community's meters on RPC_URL (skips registered ones)
	RPC_URL=$(RPC_URL) $(PY) -m scripts.register_meters --community meter_oracle/config/demo-community.json

oracle: setup oracle-keystore ## run the oracle on the simulated demo community against RPC_URL (foreground)
	RPC_URL=$(RPC_URL) $(PY) -m meter_oracle run --simulate meter_oracle/config/demo-community.json \
		--keystore $(ORACLE_DIR)/oracle-key.json --password-file $(ORACLE_DIR)/oracle-key.pass \
		--outbox $(ORACLE_DIR)/outbox.sqlite
