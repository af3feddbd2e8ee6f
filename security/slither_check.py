"""Slither over every contract, offline, with the committed triage list applied.

Slither and crytic-compile live in their own venv (`.venv-audit`, made by `make slither-setup` from
requirements-audit.txt) and are run as a subprocess. They compile through the project's solcjs shim from a Solidity
standard-JSON input built here from brownie-config.yaml (EVM version, optimizer, remappings), so the analysed code is
the code Brownie builds, and nothing is downloaded (no solc-select).

Every High or Medium finding must match an entry of security/slither-triage.json (same detector, same target); an
entry that matches no such finding is stale. Both fail the check. Inline `slither-disable` comments are ignored
(`--show-ignored-findings`): the triage list is the only place a finding is accepted.

    python -m security.slither_check            # prints the findings and the verdict; exit 1 on untriaged/stale
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TRIAGE_PATH = ROOT / "security" / "slither-triage.json"
AUDIT_VENV = Path(os.environ.get("AUDIT_VENV", ROOT / ".venv-audit"))
SOURCE_DIRS = ("contracts", "interfaces")
GATED_IMPACTS = ("High", "Medium")
IMPACTS = ("High", "Medium", "Low", "Informational", "Optimization")
DEFAULT_TIMEOUT_S = 300  # a run takes 40-80 s on the shared 2-core machine


class SlitherError(RuntimeError):
    """Slither could not analyse the contracts (missing tool, compile error, timeout)."""


@dataclass(frozen=True)
class Finding:
    """One slither result, reduced to what triage needs."""

    detector: str
    impact: str
    confidence: str
    target: str  # Contract.function, Contract.stateVar, Contract.function.localVar or Contract
    location: str  # file#first-line of the primary element
    description: str
    ours: bool  # some element lies in contracts/ or interfaces/ (else only in dependencies, e.g. OpenZeppelin)


@dataclass(frozen=True)
class TriageEntry:
    """A finding kept on purpose: which detector, where, and why it is not a vulnerability here."""

    detector: str
    target: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return finding.detector == self.detector and finding.target == self.target


@dataclass
class Verdict:
    """Findings with the triage list applied."""

    findings: list[Finding]
    triaged: list[tuple[Finding, TriageEntry]] = field(default_factory=list)
    untriaged: list[Finding] = field(default_factory=list)
    stale: list[TriageEntry] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.untriaged and not self.stale

    def counts(self, ours: bool | None = None) -> dict[str, int]:
        """Findings per impact (all of them, or only ours / only the dependencies')."""
        c = Counter(f.impact for f in self.findings if ours is None or f.ours == ours)
        return {impact: c.get(impact, 0) for impact in IMPACTS}


# ------------------------------------------------------------------ input


def standard_json_input(root: Path = ROOT) -> dict[str, Any]:
    """Solidity standard-JSON input for every .sol file under contracts/ and interfaces/, with Brownie's settings."""
    config = yaml.safe_load((root / "brownie-config.yaml").read_text())["compiler"]
    solc = config["solc"]
    sources = sorted(p.relative_to(root).as_posix() for d in SOURCE_DIRS for p in (root / d).rglob("*.sol"))
    if not sources:
        raise SlitherError(f"no Solidity files under {', '.join(SOURCE_DIRS)} in {root}")
    settings: dict[str, Any] = {
        "evmVersion": config["evm_version"],
        "optimizer": {"enabled": bool(solc["optimizer"]["enabled"]), "runs": int(solc["optimizer"]["runs"])},
        "remappings": list(solc.get("remappings") or []),
    }
    return {"language": "Solidity", "sources": {s: {"urls": [s]} for s in sources}, "settings": settings}


def solc_binary() -> Path:
    """The solcjs shim `make setup` puts in .solcx (or SOLCX_BINARY_PATH), for the version brownie-config pins."""
    version = yaml.safe_load((ROOT / "brownie-config.yaml").read_text())["compiler"]["solc"]["version"]
    return Path(os.environ.get("SOLCX_BINARY_PATH", ROOT / ".solcx")) / f"solc-v{version}"


def slither_binary() -> Path:
    return AUDIT_VENV / "bin" / "slither"


# ------------------------------------------------------------------ running


def run_slither(root: Path = ROOT, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
    """Slither's JSON output for the project's contracts (raises SlitherError when it could not analyse them)."""
    slither = slither_binary()
    solc = solc_binary()
    if not slither.exists():
        raise SlitherError(f"{slither} is missing: run `make slither-setup`")
    if not solc.exists():
        raise SlitherError(f"{solc} is missing: run `make setup`")
    with tempfile.TemporaryDirectory(prefix="slither-") as tmp:
        input_path = Path(tmp) / "input.json"
        input_path.write_text(json.dumps(standard_json_input(root)))
        out_path = Path(tmp) / "out.json"  # slither never overwrites a --json file: a fresh directory each run
        cmd = [
            str(slither),
            str(input_path),
            "--compile-force-framework",
            "solc-json",
            "--solc",
            str(solc),
            "--show-ignored-findings",  # inline disable comments do not count: the triage list does
            "--fail-none",  # findings are judged below, not by slither's exit code
            "--disable-color",
            "--json",
            str(out_path),
            "--json-types",
            "detectors",
        ]
        try:
            # cwd=root: the sources and remappings are relative to the project (as for Brownie).
            proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SlitherError(f"slither did not finish within {timeout_s:.0f} s (SLITHER_TIMEOUT_S)") from exc
        if not out_path.exists():
            raise SlitherError(f"slither exited {proc.returncode} without output:\n{proc.stderr[-4000:]}")
        raw: dict[str, Any] = json.loads(out_path.read_text())
    if not raw.get("success"):
        raise SlitherError(f"slither failed: {raw.get('error')}\n{proc.stderr[-4000:]}")
    return raw


# ------------------------------------------------------------------ findings


def target_of(element: dict[str, Any]) -> str:
    """Dotted name of a slither result element: Contract, Contract.member or Contract.function.localVariable."""
    name = str(element.get("name", "?"))
    parent = element.get("type_specific_fields", {}).get("parent")
    if element.get("type") == "node":
        return target_of(parent) if parent else name  # a statement stands for the function that holds it
    if element.get("type") == "contract" or not parent:
        return name
    return f"{target_of(parent)}.{name}"


def _in_our_sources(element: dict[str, Any]) -> bool:
    path = str(element.get("source_mapping", {}).get("filename_relative", ""))
    return any(path.startswith(f"{d}/") for d in SOURCE_DIRS)


def findings_from(raw: dict[str, Any]) -> list[Finding]:
    """Findings of a slither JSON output, in its order."""
    findings = []
    for r in raw.get("results", {}).get("detectors", []):
        elements = r.get("elements") or [{}]
        primary = elements[0]
        mapping = primary.get("source_mapping", {})
        lines = mapping.get("lines") or ["?"]
        findings.append(
            Finding(
                detector=r["check"],
                impact=r["impact"],
                confidence=r["confidence"],
                target=target_of(primary),
                location=f"{mapping.get('filename_relative', '?')}#{lines[0]}",
                description=" ".join(str(r.get("description", "")).split()),
                ours=any(_in_our_sources(e) for e in elements),
            )
        )
    return findings


# ------------------------------------------------------------------ triage


def load_triage(path: Path = TRIAGE_PATH) -> list[TriageEntry]:
    """The committed triage list; raises ValueError naming the entry when it is malformed."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of {{detector, target, reason}} objects")
    entries: list[TriageEntry] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or set(item) != {"detector", "target", "reason"}:
            raise ValueError(f"{path}: entry {i} must have exactly the keys detector, target, reason: {item!r}")
        if not all(isinstance(item[k], str) and item[k].strip() for k in item):
            raise ValueError(f"{path}: entry {i} has an empty or non-string field: {item!r}")
        entry = TriageEntry(item["detector"].strip(), item["target"].strip(), item["reason"].strip())
        if any(e.detector == entry.detector and e.target == entry.target for e in entries):
            raise ValueError(f"{path}: entry {i} repeats {entry.detector} {entry.target}")
        entries.append(entry)
    return entries


def apply_triage(findings: list[Finding], triage: list[TriageEntry]) -> Verdict:
    """Sorts the High/Medium findings into triaged and untriaged, and finds triage entries that match none."""
    verdict = Verdict(findings=findings)
    gated = [f for f in findings if f.impact in GATED_IMPACTS]
    for f in gated:
        entry = next((e for e in triage if e.matches(f)), None)
        if entry is None:
            verdict.untriaged.append(f)
        else:
            verdict.triaged.append((f, entry))
    verdict.stale = [e for e in triage if not any(e.matches(f) for f in gated)]
    return verdict


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{impact} {n}" for impact, n in counts.items())


def format_report(verdict: Verdict, triage_path: Path = TRIAGE_PATH) -> str:
    """Human-readable verdict: counts, then every untriaged finding and stale entry."""
    rel = triage_path.relative_to(ROOT) if triage_path.is_relative_to(ROOT) else triage_path
    lines = [
        f"slither: {len(verdict.findings)} findings ({_counts_text(verdict.counts())})",
        f"  in contracts/ and interfaces/: {_counts_text(verdict.counts(ours=True))}",
        f"  only in dependencies:          {_counts_text(verdict.counts(ours=False))}",
        f"  High/Medium: {len(verdict.triaged)} triaged in {rel}, {len(verdict.untriaged)} untriaged; "
        f"{len(verdict.stale)} stale triage entries",
    ]
    for f, _ in verdict.triaged:
        lines.append(f"  triaged  [{f.impact}] {f.detector} {f.target} ({f.location})")
    if verdict.untriaged:
        lines.append(
            f"UNTRIAGED High/Medium findings: fix them, or add {{detector, target, reason}} to {rel} "
            "and explain them in docs/security.md:"
        )
        for f in verdict.untriaged:
            lines.append(f"  [{f.impact}/{f.confidence}] {f.detector}  target={f.target}  at {f.location}")
            lines.append(f"      {f.description[:400]}")
    if verdict.stale:
        lines.append(f"STALE entries in {rel} (they match no High/Medium finding any more: remove them):")
        for e in verdict.stale:
            lines.append(f"  {e.detector}  target={e.target}")
    lines.append("slither triage: OK" if verdict.ok else "slither triage: FAILED")
    return "\n".join(lines)


def check(root: Path = ROOT, triage_path: Path = TRIAGE_PATH, timeout_s: float = DEFAULT_TIMEOUT_S) -> Verdict:
    """Runs slither and applies the triage list."""
    triage = load_triage(triage_path)  # a malformed list fails before a minute of analysis
    return apply_triage(findings_from(run_slither(root, timeout_s)), triage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triage", type=Path, default=TRIAGE_PATH, help="triage list (default: %(default)s)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("SLITHER_TIMEOUT_S", DEFAULT_TIMEOUT_S)),
        help="seconds slither may take (env SLITHER_TIMEOUT_S, default %(default)s)",
    )
    parser.add_argument("--all", action="store_true", help="also list every Low/Informational/Optimization finding")
    args = parser.parse_args(argv)
    try:
        verdict = check(ROOT, args.triage.resolve(), args.timeout)
    except (SlitherError, ValueError) as exc:
        print(f"slither check: {exc}", file=sys.stderr)
        return 2
    if args.all:
        for f in verdict.findings:
            if f.impact not in GATED_IMPACTS:
                print(f"  [{f.impact}] {f.detector} {f.target} ({f.location})")
    print(format_report(verdict, args.triage.resolve()))
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
