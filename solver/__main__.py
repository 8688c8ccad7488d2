"""python -m solver solve instance.json -o solution.json [--time-limit S --seed N]"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from .model import solve
from .schema import Instance, SolverConfig
from .validate import validate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m solver")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("solve", help="solve an instance JSON file")
    s.add_argument("instance")
    s.add_argument("-o", "--output", default="-")
    s.add_argument("--time-limit", type=float)
    s.add_argument("--seed", type=int)
    s.add_argument("--exact", action="store_true", help="no pruning (flow over every eligible arc)")
    args = ap.parse_args(argv)
    try:
        with open(args.instance, encoding="utf-8") as fh:
            data = json.load(fh)
        cfg = SolverConfig.from_dict(data.get("config") if isinstance(data, dict) else None)
        inst = Instance.from_dict({k: v for k, v in data.items() if k != "config"})
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.time_limit is not None:
        cfg = replace(cfg, time_limit=args.time_limit)
    if args.seed is not None:
        cfg = replace(cfg, seed=args.seed)
    if args.exact:
        cfg = replace(cfg, prune=False)
    sol = solve(inst, cfg)
    problems = validate(inst, sol, cfg)
    out = sol.to_dict()
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
