# Seller selection for direct trading (agents/selection/, agents/select.py, agents/feeder.py, docs/selection.md).
# SELECTION_BENCH_ARGS e.g. "--instances 50 --brute 300" for a longer benchmark run.

.PHONY: test-selection bench-selection

test-selection: setup ## selection tests: MILP == brute force on random instances, GA gap, constraints, features, feeder, CLI
	pytest tests/selection -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

bench-selection: setup ## GA vs MILP vs brute force on 5/20/100/500 offers -> reports/selection-bench.json (~2 min)
	$(PY) -m scripts.bench_selection $(SELECTION_BENCH_ARGS)
