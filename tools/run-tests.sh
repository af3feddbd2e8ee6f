#!/usr/bin/env bash
# Every test of the project, in two pytest runs (Brownie's plugin only for contract tests), then one total line.
# Called by `make test` (which sets PATH, SOLCX_BINARY_PATH and PYTHONPATH and installs what is missing).
set -uo pipefail
cd "$(dirname "$0")/.."
out=var/test-results
rm -rf "$out" && mkdir -p "$out"
status=0

echo "== ruff"
ruff check . || status=1
ruff format --check . || status=1

echo "== contract tests (Brownie + pytest on a private anvil)"
pytest tests/contracts -p no:cacheprovider --junitxml="$out/contracts.xml" ${PYTEST_ARGS:-} || status=1

# Service, browser and chain-compatibility tests: plain pytest, no Brownie plugin (it would compile and connect).
mapfile -t service_dirs < <(find tests -mindepth 1 -maxdepth 1 -type d ! -name contracts ! -name load ! -name '__pycache__' | sort)
if [ ${#service_dirs[@]} -gt 0 ]; then
  echo "== service tests: ${service_dirs[*]}"
  pytest "${service_dirs[@]}" -p no:pytest-brownie -p no:cacheprovider --junitxml="$out/services.xml" ${PYTEST_ARGS:-}
  rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 5 ] || status=1   # 5: that run collected nothing; the total below still counts
fi

python - "$out" <<'PY'
import sys, pathlib, xml.etree.ElementTree as ET
tests = failed = skipped = 0
for f in pathlib.Path(sys.argv[1]).glob("*.xml"):
    for s in ET.parse(f).getroot().iter("testsuite"):
        tests += int(s.get("tests", 0)); skipped += int(s.get("skipped", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
print(f"total: {tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if tests - skipped == 0 else 0)
PY
[ $? -eq 0 ] || { echo "no test ran" >&2; status=1; }
exit $status
