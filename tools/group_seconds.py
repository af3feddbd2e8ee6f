"""Print each xdist group's summed test seconds from a service-test JUnit file, as `GROUP_SECONDS` in
tests/conftest.py wants them (docs/testing.md): `python tools/group_seconds.py [var/test-results/services.xml]`.

A group is a test file, except the files whose tests use the clique node, which share the group "clique"."""

from __future__ import annotations

import collections
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

CLIQUE_FILES = {"test_clique_chain", "test_clique_order_book", "test_clique_oracle", "test_clique_webapp"}


def group_seconds(junit: Path) -> collections.Counter[str]:
    seconds: collections.Counter[str] = collections.Counter()
    for case in ET.parse(junit).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")  # tests.<dir>.<module>[.<class>]
        if len(parts) < 3 or parts[0] != "tests":
            continue
        group = "clique" if parts[1] == "poa" and parts[2] in CLIQUE_FILES else f"tests/{parts[1]}/{parts[2]}.py"
        seconds[group] += float(case.get("time", 0))
    return seconds


def main(argv: list[str]) -> int:
    junit = Path(argv[1] if len(argv) > 1 else "var/test-results/services.xml")
    for group, total in group_seconds(junit).most_common():
        if total >= 8:
            print(f'    "{group}": {round(total)},')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
