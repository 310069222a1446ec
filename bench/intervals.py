"""Bootstrap intervals: the time of ``n_boot`` replicates of a preset's model.

For each case (preset, Markov order, statistic) the preset's path table (``generate_paths.py``)
is read and the model fitted (not timed). Then the replicate plan (the journeys' states looked up
once) is made and timed (``plan_s``), and ``model.removal_effects(ci=0.95, n_boot=N)`` (every
channel's removal effect in every replicate; ``--statistic attribution`` for the attribution, or
``figures`` for the conversion rate alone) is timed with the plan made (``replicates_s``), with
the CPU time of every thread and the load average beside it. One JSON line per case is appended
to ``--out``, tagged with the commit (``rev``) and whether tracked files were modified
(``dirty``).

Usage::

    python bench/intervals.py --preset 1m_x20 --orders 2 --replicates 1000
    python bench/intervals.py --preset tiny --orders 1 2 --replicates 50 --out /tmp/iv.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import generate_paths  # noqa: E402
from revision import git  # noqa: E402

import journeyloop as jl  # noqa: E402
from journeyloop import _uncertainty  # noqa: E402


def run_case(
    preset: str, order: int, replicates: int, statistic: str, method: str
) -> dict[str, Any]:
    df = generate_paths.load(preset)
    journeys = jl.Journeys.from_paths(
        df,
        path="path",
        conversions="total_conversions",
        nulls="total_null",
        value="total_conversion_value",
    )
    model = jl.MarkovModel(order=order).fit(journeys)
    start = time.perf_counter()
    if method == "bootstrap":
        _uncertainty.replicate_plan(model)
    plan_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    args = {"ci": 0.95, "n_boot": replicates, "seed": 0, "uncertainty": method}
    if statistic == "removal_effects":
        out = model.removal_effects(**args)  # type: ignore[arg-type]
    elif statistic == "attribution":
        out = model.attribution(**args)  # type: ignore[arg-type]
    else:
        out = model.figures(**args)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    cpu_s = time.process_time() - cpu
    return {
        "preset": preset,
        "order": order,
        "statistic": statistic,
        "method": method,
        "replicates": replicates,
        "rows": len(df),
        "journeys": float(journeys.total_conversions + journeys.total_nulls),
        "states": model.n_states_,
        "channels": len(model.channels_),
        "plan_s": round(plan_s, 3),
        "replicates_s": round(seconds, 3),
        "cpu_s": round(cpu_s, 3),
        "figures": len(out),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", nargs="+", default=["1m_x20"])
    parser.add_argument("--orders", nargs="+", type=int, default=[2])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument(
        "--statistic",
        choices=["removal_effects", "attribution", "figures"],
        default="removal_effects",
    )
    parser.add_argument("--method", choices=["bootstrap", "bayes"], default="bootstrap")
    parser.add_argument("--out", default=str(BENCH_DIR / "results" / "intervals.jsonl"))
    args = parser.parse_args()
    for preset in args.preset:
        for order in args.orders:
            line = run_case(preset, order, args.replicates, args.statistic, args.method)
            line.update(
                {
                    "rev": git("rev-parse", "--short=12", "HEAD"),
                    "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
                    "nproc": os.cpu_count(),
                    "python": platform.python_version(),
                    "journeyloop": jl.__version__,
                }
            )
            print(json.dumps(line), flush=True)
            with open(args.out, "a") as f:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
