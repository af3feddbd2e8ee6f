"""Settings for every test run. With pytest-xdist (`-n 2 --dist loadgroup`, as tools/run-tests.sh runs the service
tests) each file's tests stay together on one worker (module fixtures are set up once, as in a plain run) and every
test that needs the clique node (tests/poa) shares one worker, so one clique chain serves them all. Every worker is
its own process with its own session fixtures (chains, web servers and PostgreSQL on free ports, temporary dirs).

Groups are handed out longest-first (`LongestFirst`, by the measured seconds in `GROUP_SECONDS`) so that the two
workers finish together: xdist itself hands out the group with the most tests first, which left the few long browser,
clique-network and load files to the end of the run. The order within a group is unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from xdist.remote import Producer
    from xdist.scheduler.protocol import Scheduling
    from xdist.workermanage import WorkerController

# Summed seconds of each xdist group (a file, or "clique") in a fresh-clone run (var/test-results/services.xml;
# docs/testing.md shows how to print them); only the order matters. Unlisted groups count as 0 and follow the listed
# ones in xdist's order. Re-measure when a file's time changes a lot.
GROUP_SECONDS = {
    "tests/browser/test_phone_and_a11y.py": 189,
    "tests/chain/test_auction_vs_reference.py": 110,
    "tests/browser/test_trading_in_browser.py": 149,
    "tests/poa/test_clique_network.py": 131,
    "clique": 114,
    "tests/security/test_api_fuzz.py": 100,
    "tests/chain/test_auction_keeper.py": 92,
    "tests/load_smoke/test_load_smoke.py": 81,
    "tests/ops/test_demo_stack.py": 63,
    "tests/webapp/test_pages.py": 60,
    "tests/chain/test_auction_large_round.py": 57,
    "tests/browser/test_offers_in_browser.py": 49,
    "tests/webapp/test_auth_security.py": 46,
    "tests/browser/test_autotrade_in_browser.py": 45,
    "tests/browser/test_language_switch.py": 44,
    "tests/simulation/test_simulation_run.py": 38,
    "tests/security/test_slither.py": 35,
    "tests/poa/test_besu_generate.py": 34,
    "tests/oracle/test_fault.py": 34,
    "tests/ops/test_supervise.py": 31,
    "tests/webapp/test_history.py": 23,
    "tests/webapp/test_offers.py": 21,
    "tests/webapp/test_new_user_bugs.py": 21,
    "tests/oracle/test_submitter.py": 20,
    "tests/oracle/test_cli.py": 20,
    "tests/webapp/test_autotrade.py": 19,
    "tests/webapp/test_api.py": 17,
    "tests/discovery/test_network.py": 15,
    "tests/webapp/test_i18n.py": 13,
    "tests/webapp/test_indexer.py": 12,
    "tests/agents/test_service.py": 12,
    "tests/webapp/test_robustness.py": 11,
    "tests/webapp/test_sweep.py": 11,
    "tests/selection/test_solvers.py": 10,
    "tests/webapp/test_sealed.py": 10,
    "tests/webapp/test_profile.py": 10,
    "tests/simulation/test_report.py": 9,
    "tests/webapp/test_market.py": 8,
    "tests/agents/test_service_direct.py": 8,
    "tests/webapp/test_auction.py": 8,
    "tests/simulation/test_checks.py": 8,
}


@pytest.hookimpl(optionalhook=True)  # xdist's hook: no error where xdist is not loaded (-p no:xdist)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> Scheduling | None:
    """`--dist loadgroup`, handing out the longest remaining group (GROUP_SECONDS) whenever a worker asks."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class LongestFirst(LoadGroupScheduling):
        def _assign_work_unit(self, node: WorkerController) -> None:
            # max() keeps the first of equal costs, so unlisted groups go in xdist's own order
            scope = max(self.workqueue, key=lambda group: GROUP_SECONDS.get(group, 0))
            self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return LongestFirst(config, log)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups (and adds "@group" to each id)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # On an xdist worker `dist` is always "no"; xdist keeps the choice in `loadgroup` (xdist/remote.py setup_config).
    # Testing `dist` alone here left every test ungrouped: each file's module fixtures started on both workers.
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            clique = "clique_node" in getattr(item, "fixturenames", ())  # as tests/poa/conftest.py marks them
            group = "clique" if clique else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(group))
