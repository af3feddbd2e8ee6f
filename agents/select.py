"""`python -m agents.select --instance FILE.json [--solver milp|ga|brute] [--seed N] [--evaluate SELECTION.json]`.

Prints one JSON object: the best selection (`chosen`, `objective`, `terms`, `solver`, `time_ms`) or, with
`--evaluate`, the objective, terms and feasibility of the given selection. Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from agents.selection import SOLVERS, Instance, InstanceError, SelectionError, evaluate, parse_chosen, solve

EXIT_BAD_INPUT = 2
EXIT_SOLVER = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too, but with usage noise; keep it to one line
        print(f"agents.select: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def _read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise InstanceError(f"cannot read the {what} file {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InstanceError(f"the {what} file {path} is not valid JSON: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m agents.select", description="Choose the sellers for a buyer (docs/selection.md).")
    parser.add_argument("--instance", required=True, help="instance JSON: demand_wh, weights, offers")
    parser.add_argument("--solver", choices=SOLVERS, default="milp")
    parser.add_argument("--seed", type=int, default=0, help="GA seed")
    parser.add_argument("--evaluate", metavar="SELECTION.json", help="evaluate this selection instead of solving")
    args = parser.parse_args(argv)
    try:
        instance = Instance.from_json_dict(_read_json(args.instance, "instance"))
        if args.evaluate:
            chosen = parse_chosen(_read_json(args.evaluate, "selection"), instance)
            out = evaluate(instance, chosen).to_json_dict(with_feasibility=True)
        else:
            out = solve(instance, solver=args.solver, seed=args.seed).to_json_dict()
    except InstanceError as exc:
        print(f"agents.select: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SelectionError as exc:
        print(f"agents.select: {exc}", file=sys.stderr)
        return EXIT_SOLVER
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
