# Direct trading of signed offers (issue 13.1, 13.4): OfferSettlement, its client, the agents' direct flow.
# `make gas` measures it with everything else into reports/gas.json; see docs/offers.md.
.PHONY: test-offers gas-offers

test-offers: setup compile ## offer settlement: unit + stateful contract tests, client on anvil, direct-trading e2e
	pytest tests/contracts/test_offer_settlement.py tests/contracts/test_offer_settlement_stateful.py -p no:cacheprovider $(PYTEST_ARGS)
	pytest tests/chain/test_offer_settlement_client.py tests/agents/test_direct_e2e.py tests/agents/test_service_direct.py tests/discovery/test_agent_records.py -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

gas-offers: setup compile ## print OfferSettlement's gas figures (its cases only, no report written)
	$(PY) -m scripts.gas_cases.offer_settlement
