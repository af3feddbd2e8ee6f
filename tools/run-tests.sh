#!/usr/bin/env bash
# Every test of the project, in two pytest runs at once (Brownie's plugin only for contract tests), then one total
# line and each directory's summed test time (docs/testing.md).
# Called by `make test` (which sets PATH, SOLCX_BINARY_PATH and PYTHONPATH and installs what is missing).
set -uo pipefail
cd "$(dirname "$0")/.."
out=var/test-results
rm -rf "$out" && mkdir -p "$out"
# The tests' HOME is a fresh folder in the clone: what tools keep in HOME (Brownie's data folder, Chromium's and
# matplotlib's config and caches, solc-select's compilers, gunicorn's socket folder) is never written outside it.
export HOME="$PWD/var/test-home"
rm -rf "$HOME" && mkdir -p "$HOME"
status=0

echo "== ruff"
ruff check . || status=1
ruff format --check . || status=1

# The contract tests (one Brownie process, CPU-bound) run in the background while the service tests run on
# TEST_WORKERS pytest-xdist workers (default 2; 0 runs them in this process; 3 measured no faster on 2 cores,
# docs/testing.md): every test starts its own chains and servers on free ports, so nothing is shared between workers.
# Each part's output is printed whole when that part ends.
workers=${TEST_WORKERS:-2}
echo "== contract tests (Brownie + pytest on a private anvil), in the background"
(
  pytest tests/contracts -p no:cacheprovider --junitxml="$out/contracts.xml" ${PYTEST_ARGS:-} >"$out/contracts.log" 2>&1
  echo $? >"$out/contracts.rc"
) &
contracts_pid=$!

# Service, browser and chain-compatibility tests: plain pytest, no Brownie plugin (it would compile and connect).
mapfile -t service_dirs < <(find tests -mindepth 1 -maxdepth 1 -type d ! -name contracts ! -name load ! -name '__pycache__' | sort)
if [ ${#service_dirs[@]} -gt 0 ]; then
  parallel=()
  [ "$workers" -gt 0 ] && parallel=(-n "$workers" --dist loadgroup)   # groups: tests/conftest.py
  echo "== service tests (${workers} workers): ${service_dirs[*]}"
  pytest "${service_dirs[@]}" -p no:pytest-brownie -p no:cacheprovider "${parallel[@]}" --junitxml="$out/services.xml" ${PYTEST_ARGS:-}
  rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 5 ] || status=1   # 5: that run collected nothing; the total below still counts
fi

wait "$contracts_pid"
echo "== contract tests (output)"
cat "$out/contracts.log"
[ "$(cat "$out/contracts.rc" 2>/dev/null)" = 0 ] || status=1

python - "$out" <<'PY'
import sys, pathlib, collections, xml.etree.ElementTree as ET
tests = failed = skipped = 0
seconds = collections.Counter()
for f in pathlib.Path(sys.argv[1]).glob("*.xml"):
    for s in ET.parse(f).getroot().iter("testsuite"):
        tests += int(s.get("tests", 0)); skipped += int(s.get("skipped", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
        for case in s.iter("testcase"):  # classname: tests.<dir>.<module>[.<class>]
            parts = case.get("classname", "").split(".")
            seconds[parts[1] if len(parts) > 1 and parts[0] == "tests" else "?"] += float(case.get("time", 0))
print("test time by directory (summed, s): " + ", ".join(f"{d} {t:.0f}" for d, t in seconds.most_common()))
print(f"total: {tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if tests - skipped == 0 else 0)
PY
[ $? -eq 0 ] || { echo "no test ran" >&2; status=1; }
exit $status
