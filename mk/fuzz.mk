# Fuzzing the JSON API (scripts/api_fuzz.py, tests/security/test_api_fuzz.py, docs/security.md).
# schemathesis lives in .venv-fuzz (its own pins: it needs a newer hypothesis than eth-brownie's 6.27.3 in .venv),
# installed from requirements-fuzz.txt. `make test` installs it (TEST_DEPS) and runs the fuzz test at FUZZ_EXAMPLES
# examples per operation (default 5, ~2 min); `make fuzz` runs the same at FUZZ_DEEP_EXAMPLES (default 100).
#   make fuzz                    both passes (anonymous, funded user) -> reports/fuzz.json; exit 1 on any failure

FUZZ_VENV  := $(ROOT)/.venv-fuzz
FUZZ_STAMP := $(FUZZ_VENV)/.requirements.stamp
FUZZ_DEEP_EXAMPLES ?= 100
export FUZZ_VENV

TEST_DEPS += $(FUZZ_STAMP)

.PHONY: fuzz-setup fuzz test-fuzz

$(FUZZ_STAMP): requirements-fuzz.txt | $(UV)
	@$(call uv-install,$(FUZZ_VENV),requirements-fuzz.txt)
	@touch $@

fuzz-setup: $(FUZZ_STAMP) ## install schemathesis into .venv-fuzz (pinned, requirements-fuzz.txt)

fuzz: setup compile $(FUZZ_STAMP) ## schemathesis over every API operation, deeper (FUZZ_DEEP_EXAMPLES) -> reports/fuzz.json
	$(PY) -m scripts.api_fuzz --max-examples $(FUZZ_DEEP_EXAMPLES)

test-fuzz: setup compile $(FUZZ_STAMP) ## the API fuzz test alone (FUZZ_EXAMPLES per operation, ~2 min)
	pytest tests/security/test_api_fuzz.py -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)
