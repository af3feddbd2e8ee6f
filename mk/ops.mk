# Operations: the demo's supervisor (scripts/supervise.py, tests/ops/) and the soak run (scripts/soak.py).
#   make demo-stop                       stop a running `make demo` from another terminal (by its pid files)
#   make soak SOAK_MINUTES=60 SOAK_USERS=30   demo stack + Locust for an hour -> reports/soak.json, reports/soak.md
#   make bench-anvil-memory BENCH_SECONDS=120  anvil's RSS under order placements, per configuration -> reports/anvil-memory.json

SOAK_MINUTES ?= 60
SOAK_USERS   ?= 30
BENCH_SECONDS ?= 120

.PHONY: demo-stop soak bench-anvil-memory test-ops

demo-stop: setup ## stop a running `make demo` (its supervisor, else its leftover processes) by the pid files in var/demo
	$(PY) -m scripts.supervise stop

soak: setup compile ## demo stack under load for SOAK_MINUTES (60): memory, disk, writes outside the clone, db == chain -> reports/soak.md
	SOAK_MINUTES=$(SOAK_MINUTES) SOAK_USERS=$(SOAK_USERS) $(PY) -m scripts.soak

bench-anvil-memory: setup compile ## anvil's RSS under 20 placements/s for BENCH_SECONDS per configuration -> reports/anvil-memory.json
	$(PY) -m scripts.bench_anvil_memory --seconds $(BENCH_SECONDS)

test-ops: setup ## supervisor tests (stand-in processes; restarts, signals, stale pid files, busy ports)
	pytest tests/ops -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)
