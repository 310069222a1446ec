"""Order selection: ``jl.select_order`` on a preset path table.

For each case (preset, folds, orders) the preset's path table (``generate_paths.py``) is read
and ``jl.select_order(journeys, orders, folds, seed=0, threads=...)`` is timed ``--repeats``
times; the best run is kept, with the CPU time of every thread and the machine's load average
beside it, and the figures of each order (held-out log-likelihood per symbol, held-out AUC,
states, ChannelAttribution's penalised AUC) and the recommended order. One JSON line per case is
appended to ``--out``, tagged with the commit (``rev``) and whether tracked files were modified
(``dirty``).

Usage::

    python bench/select_order.py --preset data --orders 1 2 3 4 5 6 7 8
    python bench/select_order.py --preset 1m_x20 --orders 1 2 3 4
    python bench/select_order.py --preset tiny --orders 1 2 3 --out /tmp/order.jsonl
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


def run_case(
    preset: str, orders: list[int], folds: int, threads: int, repeats: int
) -> dict[str, Any]:
    df = generate_paths.load(preset)
    journeys = jl.Journeys.from_paths(
        df,
        path="path",
        conversions="total_conversions",
        nulls="total_null",
        value="total_conversion_value",
    )
    best = float("inf")
    best_cpu = 0.0
    frame = None
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        frame = jl.select_order(journeys, orders=orders, folds=folds, seed=0, threads=threads)
        seconds = time.perf_counter() - start
        if seconds < best:
            best = seconds
            best_cpu = time.process_time() - cpu
    assert frame is not None
    return {
        "preset": preset,
        "rows": len(journeys),
        "journeys": int(journeys.total_conversions + journeys.total_nulls),
        "folds": folds,
        "orders": orders,
        "threads": threads,
        "select_order_s": round(best, 4),
        # CPU time of the process over the call (every thread): on a machine shared with other
        # work it tells what the code does apart from what it was given.
        "select_order_cpu_s": round(best_cpu, 4),
        "load_avg_1m": os.getloadavg()[0],
        "log_likelihood": [round(x, 6) for x in frame["log_likelihood"]],
        "auc": [round(x, 6) for x in frame["auc"]],
        "states": [int(x) for x in frame["states"]],
        "ca_pauc": [None if x != x else round(x, 6) for x in frame["ca_pauc"]],
        "recommended": frame.attrs["recommended"],
        "ca_suggested": frame.attrs["ca_suggested"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", required=True, choices=list(generate_paths.PRESETS))
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "select_order.jsonl")
    args = ap.parse_args()
    status = git("status", "--porcelain", "--untracked-files=no")
    common = {
        "rev": git("rev-parse", "--short=12", "HEAD"),
        "dirty": bool(status),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "journeyloop": jl.__version__,
    }
    record = {
        **common,
        **run_case(args.preset, args.orders, args.folds, args.threads, args.repeats),
    }
    line = json.dumps(record)
    print(line)
    with args.out.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
