"""python -m solver solve instance.json -o solution.json [--time-limit S --seed N]

Exit codes: 0 a valid solution, 1 the solution fails validation, 2 the input is unusable
(unreadable file, not JSON, not an instance object, no mentors, a competency no mentor holds).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from .decompose import solve
from .schema import Instance, SolverConfig
from .validate import validate


def _load(path: str) -> tuple[Instance, SolverConfig]:
    """The instance and config of a JSON file, or ValueError with a message for the user."""
    try:
        with open(path, encoding="utf-8") as fh:
            data: Any = json.load(fh)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object with 'mentors' and 'mentees', "
                         f"got a JSON {type(data).__name__.replace('dict', 'object')}")
    try:
        cfg = SolverConfig.from_dict(data.get("config"))
        inst = Instance.from_dict({k: v for k, v in data.items() if k != "config"})
    except (TypeError, KeyError, AttributeError) as exc:  # a value of the wrong JSON type
        raise ValueError(f"{path}: malformed instance ({type(exc).__name__}: {exc})") from exc
    errors = inst.input_errors()
    if errors:
        raise ValueError("; ".join(errors))
    return inst, cfg


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m solver")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("solve", help="solve an instance JSON file")
    s.add_argument("instance")
    s.add_argument("-o", "--output", default="-")
    s.add_argument("--time-limit", type=float)
    s.add_argument("--seed", type=int)
    s.add_argument("--exact", action="store_true", help="no pruning (flow over every eligible arc)")
    s.add_argument("--timing", action="store_true",
                   help="add wall-clock figures (the output is then no longer reproducible)")
    args = ap.parse_args(argv)
    try:
        inst, cfg = _load(args.instance)
        if args.time_limit is not None:
            cfg = replace(cfg, time_limit=args.time_limit)
        if args.seed is not None:
            cfg = replace(cfg, seed=args.seed)
        if args.exact:
            cfg = replace(cfg, prune=False)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sol = solve(inst, cfg)
    problems = validate(inst, sol, cfg)
    out = sol.to_dict(timing=args.timing)
    out["violations"] = problems
    text = json.dumps(out, ensure_ascii=False, indent=1)
    if args.output == "-":
        print(text)
    else:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
