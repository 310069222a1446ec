"""Markov Shapley benchmark: sampled Shapley values of every channel, exact Shapley values of
16 players, and the measurement behind the player limit of ``method="auto"``.

Example::

    python bench/shapley.py --preset criteo --cases sampled exact16
    python bench/shapley.py --preset 1m_x20 --cases sampled exact16 limit
    python bench/shapley.py --preset criteo --paths 2000 --permutations 20   # a small run

The table comes from ``bench/generate_paths.py`` (generated first if missing; ``--paths N``
generates the preset's shape with N distinct paths instead, a small run). The model is fitted
once at ``--order`` (not timed). Cases:

- ``sampled``: ``model.shapley(method="sampled", permutations=P)`` with every channel a player
  (675 on ``criteo``, 20 on ``1m_x20``); records the time, the largest standard error relative
  to the total conversions, and whether the credits sum to the total.
- ``exact16``: ``model.shapley(by="group", method="exact")`` over 16 players: the 15 most
  visited channels, each a player, and the other channels together as the 16th.
- ``limit``: for n = 6 .. 16 players built the same way, the time of the exact values (2^n
  coalitions) and of the sampled values with ``--permutations`` orderings; the automatic limit
  (``journeyloop._core.auto_exact_players``) is the largest n at which exact enumeration costs
  no more than sampling.

One JSON line per case is appended to ``--out``, tagged with the commit of the checkout
(``git rev-parse --short HEAD``, with ``+dirty`` when the tree has changes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate_paths  # noqa: E402

import journeyloop as jl  # noqa: E402


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=HERE, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def players(model: jl.MarkovModel, n: int) -> dict[str, list[str]]:
    """n players: the n - 1 most visited channels, each a player, and the rest as one."""
    states = model.states()
    channels = set(model.channels_)
    ranked = [
        s for s in states.sort_values("expected_visits", ascending=False)["state"] if s in channels
    ]
    out: dict[str, list[str]] = {c: [c] for c in ranked[: n - 1]}
    rest = ranked[n - 1 :]
    if rest:
        out["other channels"] = rest
    return out


def timed(model: jl.MarkovModel, **kwargs: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    frame = model.shapley(**kwargs)
    return time.perf_counter() - t0, frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="criteo", choices=list(generate_paths.PRESETS))
    ap.add_argument("--order", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--permutations", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--cases",
        nargs="+",
        default=["sampled", "exact16"],
        choices=["sampled", "exact16", "limit"],
    )
    ap.add_argument(
        "--paths",
        type=int,
        default=None,
        help="generate the preset's shape with this many distinct paths instead (not cached): "
        "a small run of a large preset",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "shapley.jsonl")
    args = ap.parse_args()

    if args.paths is None:
        df = generate_paths.load(args.preset)
    else:
        params = {**generate_paths.DEFAULTS, **generate_paths.PRESETS[args.preset]}
        params.pop("csv", None)
        params["n_paths"] = args.paths
        df = generate_paths.generate(seed=0, **params)
    journeys = jl.Journeys.from_paths(
        df,
        path="path",
        conversions="total_conversions",
        nulls="total_null",
        value="total_conversion_value",
    )
    model = jl.MarkovModel(order=args.order).fit(journeys)
    assert isinstance(model, jl.MarkovModel)
    total = float(journeys.total_conversions)
    del journeys
    base = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "preset": args.preset,
        "paths": len(df),
        "order": args.order,
        "states": model.n_states_,
        "channels": len(model.channels_),
        "threads": args.threads,
    }
    records = []
    if "sampled" in args.cases:
        wall, frame = timed(
            model,
            method="sampled",
            permutations=args.permutations,
            seed=args.seed,
            threads=args.threads,
        )
        records.append(
            base
            | {
                "case": "sampled",
                "players": len(frame),
                "permutations": args.permutations,
                "wall_s": wall,
                "max_se_over_total": float(frame["conversions_se"].max()) / total,
                "sum_over_total": float(frame["conversions"].sum()) / total,
            }
        )
    if "exact16" in args.cases:
        groups = players(model, 16)
        wall, frame = timed(model, by="group", groups=groups, method="exact")
        records.append(
            base
            | {
                "case": "exact16",
                "players": len(groups),
                "wall_s": wall,
                "sum_over_total": float(frame["conversions"].sum()) / total,
            }
        )
    if "limit" in args.cases:
        for n in range(6, 17):
            groups = players(model, n)
            if len(groups) < n:
                break
            exact_s, _ = timed(model, by="group", groups=groups, method="exact")
            sampled_s, _ = timed(
                model,
                by="group",
                groups=groups,
                method="sampled",
                permutations=args.permutations,
                seed=args.seed,
                threads=args.threads,
            )
            records.append(
                base
                | {
                    "case": "limit",
                    "players": n,
                    "permutations": args.permutations,
                    "exact_s": exact_s,
                    "sampled_s": sampled_s,
                }
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    for r in records:
        times = (
            f"exact {r['exact_s']:.4f} s, sampled {r['sampled_s']:.4f} s"
            if r["case"] == "limit"
            else f"{r['wall_s']:.4f} s"
        )
        print(f"{r['case']:8} players {r['players']:4}  {times}")


if __name__ == "__main__":
    main()
