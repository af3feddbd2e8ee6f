"""Settings for every test run. With pytest-xdist (`-n 2 --dist loadgroup`, as tools/run-tests.sh runs the service
tests) each file's tests stay together on one worker (module fixtures are set up once, as in a plain run) and every
test that needs the clique node (tests/poa) shares one worker, so one clique chain serves them all. Every worker is
its own process with its own session fixtures (chains, web servers and PostgreSQL on free ports, temporary dirs).

Files run longest-first so that the two workers finish together (the order within a file is unchanged)."""

from __future__ import annotations

import pytest

# Directories by their share of the run's time (measured; docs/testing.md): scheduled first, so no long file
# starts last. Anything not listed comes after them, in collection order.
HEAVY_FIRST = ("poa", "chain", "webapp", "oracle", "browser", "agents", "discovery", "simulation", "security")


def _directory(item: pytest.Item) -> str:
    parts = item.nodeid.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else ""


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups (and adds "@group" to each id)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if getattr(config.option, "dist", "no") == "no":
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            clique = "clique_node" in getattr(item, "fixturenames", ())  # as tests/poa/conftest.py marks them
            group = "clique" if clique else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(group))
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    position = {id(item): i for i, item in enumerate(items)}
    # A stable sort on the directory's rank only: files and tests keep their order inside a directory.
    items.sort(key=lambda item: (rank.get(_directory(item), len(rank)), position[id(item)]))
