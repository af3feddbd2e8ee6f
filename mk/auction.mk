# Periodic double auction (contracts/DoubleAuction.sol, energy_chain/auction.py + clearing.py, docs/auction.md).
# AUCTION_PROPERTY_EXAMPLES sets how many random books the contract-vs-reference property test clears (default 60 in `make test`, sealed rounds half as many; 200 or more for a deeper run).

.PHONY: test-auction gas-auction

test-auction: setup compile ## auction tests: Brownie unit/phase-error tests, reference tests, contract == reference on random books, 1 000/side round
	pytest tests/contracts/test_double_auction.py tests/contracts/test_double_auction_sealed.py -p no:cacheprovider $(PYTEST_ARGS)
	pytest tests/chain/test_clearing_reference.py tests/chain/test_auction_vs_reference.py tests/chain/test_auction_large_round.py \
	  tests/chain/test_auction_client.py \
	  -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

gas-auction: setup compile ## auction gas only (10/100/1 000 orders per side), printed; `make gas` writes all rows to reports/gas.json
	$(PY) -m scripts.gas_cases.double_auction
