# Order book. `make gas` measures it with everything else into reports/gas.json; see docs/order-book.md.
.PHONY: test-order-book

test-order-book: setup compile ## order-book tests: unit, stateful model (~3 min), Python client on anvil
	pytest tests/contracts/test_order_book.py tests/contracts/test_order_book_stateful.py -p no:cacheprovider $(PYTEST_ARGS)
	pytest tests/chain/test_orders_client.py -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)
