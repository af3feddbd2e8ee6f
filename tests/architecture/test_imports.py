"""The layering of docs/architecture.md, checked on the real import graph (grimp, which import-linter is built on).

Each rule names importers, what they must not import, and why. A package that does not exist yet (agents,
simulation, household_model, webapp.services on some branches) simply has no modules to check. Imports inside
functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import grimp
import pytest

from energy_chain.config import PROJECT_ROOT

PACKAGES = (
    "energy_chain",
    "household_model",
    "meter_oracle",
    "agents",
    "simulation",
    "webapp",
    "scripts",
    "poa",
    "tests",
)
DEVCHAIN = "energy_chain.devchain"
# Who may hand out the public dev keys: the launcher of the local chain, the demo, and the tools and tests that
# build local chains. Everything else would work on the local chain by accident and be refused elsewhere.
DEVCHAIN_USERS = (
    "energy_chain.devchain",
    "energy_chain.anvil",
    "webapp.services.demo_seed",
    "scripts",
    "poa",
    "simulation",
    "tests",
)
PRODUCTION = ("energy_chain", "household_model", "meter_oracle", "agents", "webapp")


@dataclass(frozen=True)
class Rule:
    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str
    allowed_importers: tuple[str, ...] = ()


RULES = (
    Rule(
        "the SDK depends on no other package of ours",
        ("energy_chain",),
        ("household_model", "meter_oracle", "agents", "simulation", "webapp", "scripts", "poa", "tests"),
        "everything calls energy_chain; it calls nothing back",
    ),
    Rule(
        "the household model is a leaf",
        ("household_model",),
        ("meter_oracle", "agents", "simulation", "webapp", "scripts", "poa", "tests"),
        "the oracle, the meter page and the simulator all import it",
    ),
    Rule(
        "the web app does not import the oracle",
        ("webapp",),
        ("meter_oracle",),
        "the oracle is another process with its own key; shared code lives in energy_chain or household_model",
    ),
    Rule(
        "web services never import views",
        ("webapp.services",),
        ("webapp.views", "webapp.api"),
        "views and the API call services, never the other way round",
    ),
    Rule(
        "scripts do not import tests",
        ("scripts",),
        ("tests",),
        "tools must run from a clone without the test tree; shared helpers belong in energy_chain or scripts",
    ),
    Rule(
        "production code imports no tools",
        PRODUCTION,
        ("scripts", "tests", "poa", "simulation"),
        "what runs in production must not depend on benchmarks, tests or the simulator",
    ),
    Rule(
        "dev-chain keys only in the demo, tools and tests",
        ("energy_chain", "household_model", "meter_oracle", "agents", "webapp", "scripts", "poa", "simulation"),
        (DEVCHAIN,),
        "the dev mnemonic is public: production code must never hold it",
        allowed_importers=DEVCHAIN_USERS,
    ),
    Rule(
        "the market, the oracle and the web app do not import agents",
        ("energy_chain", "household_model", "meter_oracle", "webapp", "poa"),
        ("agents",),
        "agents are clients of the market; the simulator and benchmarks drive them; the market does not depend on them",
    ),
    Rule(
        "nothing imports the simulator",
        ("energy_chain", "household_model", "meter_oracle", "agents", "webapp", "scripts", "poa"),
        ("simulation",),
        "the simulator is the top of the stack: it drives agents on a chain, and nothing runs on top of it",
    ),
)
# Imports that another branch removes, each with that branch; tolerated until then, and flagged once gone.
PENDING: dict[tuple[str, str], str] = {}


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _violations(graph: grimp.ImportGraph, rule: Rule) -> list[tuple[str, str]]:
    found = []
    for importer in sorted(graph.modules):
        if not _within(importer, rule.importers) or _within(importer, rule.allowed_importers):
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if _within(imported, rule.forbidden):
                found.append((importer, imported))
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    present = [p for p in PACKAGES if importlib.util.find_spec(p) is not None]
    assert {"energy_chain", "webapp", "meter_oracle", "scripts"} <= set(present), present
    return grimp.build_graph(*present, cache_dir=None)  # no cache folder written into the clone


def _describe(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    where = ", ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details)
    return f"{importer} -> {imported} ({where})"


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_layering(graph: grimp.ImportGraph, rule: Rule):
    bad = [v for v in _violations(graph, rule) if v not in PENDING]
    assert not bad, f"{rule.name} — {rule.why}:\n" + "\n".join(_describe(graph, *v) for v in bad)


def test_pending_exceptions_are_still_needed(graph: grimp.ImportGraph):
    """An exception whose import is gone must be deleted from PENDING, so exceptions never outlive their reason."""
    stale = [
        f"{a} -> {b} ({why})"
        for (a, b), why in PENDING.items()
        if not graph.direct_import_exists(importer=a, imported=b)
    ]
    assert not stale, "remove from PENDING in tests/architecture/test_imports.py:\n" + "\n".join(stale)


def test_the_rules_see_lazy_imports(graph: grimp.ImportGraph):
    """webapp.chain.service asks webapp.services.demo_seed for the dev operator inside a function: grimp must see it."""
    assert (PROJECT_ROOT / "webapp" / "chain" / "service.py").exists()
    assert graph.direct_import_exists(importer="webapp.chain.service", imported="webapp.services.demo_seed")
