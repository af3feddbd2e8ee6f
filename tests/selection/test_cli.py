"""`python -m agents.select` as a user runs it: JSON out, --evaluate, bad input -> one stderr line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "agents" / "config" / "selection-example.json"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "agents.select", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


def test_solve_the_example_with_both_solvers_and_evaluate_the_answer(tmp_path) -> None:
    instance = json.loads(EXAMPLE.read_text())
    answers = {}
    for solver in ("milp", "ga"):
        out = _run("--instance", str(EXAMPLE), "--solver", solver)
        assert out.returncode == 0, out.stderr
        got = json.loads(out.stdout)  # stdout is exactly one JSON document (no solver banner)
        assert set(got) == {"chosen", "objective", "terms", "solver", "time_ms"} and got["solver"] == solver
        assert sum(c["amount_wh"] for c in got["chosen"]) == instance["demand_wh"]
        assert set(got["terms"]) == set(instance["weights"])
        answers[solver] = got
    assert answers["ga"]["objective"] >= answers["milp"]["objective"] - 1e-9
    selection = tmp_path / "selection.json"
    selection.write_text(json.dumps(answers["milp"]))
    out = _run("--instance", str(EXAMPLE), "--evaluate", str(selection))
    assert out.returncode == 0, out.stderr
    ev = json.loads(out.stdout)
    assert ev["feasible"] is True and ev["violations"] == []
    assert ev["objective"] == pytest.approx(answers["milp"]["objective"])


def test_evaluate_an_infeasible_selection(tmp_path) -> None:
    first = json.loads(EXAMPLE.read_text())["offers"][0]
    selection = tmp_path / "s.json"
    selection.write_text(json.dumps({"chosen": [{"id": first["id"], "amount_wh": first["amount_wh"] + 1}]}))
    out = _run("--instance", str(EXAMPLE), "--evaluate", str(selection))
    assert out.returncode == 0, out.stderr
    ev = json.loads(out.stdout)
    assert ev["feasible"] is False and ev["terms"]["availability"] > 0


def _bad_instance(tmp_path, content: str) -> str:
    path = tmp_path / "bad.json"
    path.write_text(content)
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda t: ["--instance", str(t / "missing.json")], "cannot read the instance file"),
        (lambda t: ["--instance", _bad_instance(t, "{not json")], "not valid JSON"),
        (lambda t: ["--instance", _bad_instance(t, '{"demand_wh": 5, "weights": {}, "offers": []}')], "weights lack"),
        (lambda t: ["--instance", str(EXAMPLE), "--solver", "simplex"], "invalid choice"),
        (lambda t: ["--instance", str(EXAMPLE), "--evaluate", _bad_instance(t, '{"chosen": [{}]}')], "amount_wh"),
        (lambda t: [], "required: --instance"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, args, message: str) -> None:
    out = _run(*args(tmp_path))
    assert out.returncode == 2
    assert out.stdout == ""
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert message in out.stderr
