# Static analysis of the contracts (security/, tests/security/, docs/security.md).
# Slither + crytic-compile live in .venv-audit (their own pins, apart from brownie's venv), installed from
# requirements-audit.txt; they compile offline through the solcjs shim. `make test` installs them (TEST_DEPS) and runs
# tests/security, which fails on any High/Medium finding missing from security/slither-triage.json.
#   make slither                 findings and the triage verdict (SLITHER_ARGS=--all also lists Low/Informational)

AUDIT_VENV  := $(ROOT)/.venv-audit
AUDIT_STAMP := $(AUDIT_VENV)/.requirements.stamp
export AUDIT_VENV

TEST_DEPS += $(AUDIT_STAMP)

.PHONY: slither-setup slither test-security

$(AUDIT_STAMP): requirements-audit.txt | $(UV)
	@$(call uv-install,$(AUDIT_VENV),requirements-audit.txt)
	@touch $@

slither-setup: $(AUDIT_STAMP) ## install slither + crytic-compile into .venv-audit (pinned, requirements-audit.txt)

slither: setup $(AUDIT_STAMP) ## slither over contracts/ and interfaces/ with security/slither-triage.json applied
	$(PY) -m security.slither_check $(SLITHER_ARGS)

test-security: setup $(AUDIT_STAMP) ## static-analysis tests (slither run + triage logic)
	pytest tests/security -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)
