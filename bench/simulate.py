"""Simulated touches per second: ``model.simulate(n)`` on a fitted preset model.

For each case (preset, Markov order) the preset's path table (``generate_paths.py``) is read,
the model is fitted (not timed), then ``model.simulate(n, seed=0, threads=...)`` is timed
``--repeats`` times; the best run gives ``touches_per_s`` (touches drawn, over the wall time of
the call, returned journeys included) and ``touches_per_cpu_s`` (over the CPU time of every
thread; with the machine's load average beside it). One JSON line per case is appended to
``--out``, tagged with the commit (``rev``) and whether tracked files were modified (``dirty``).

Usage::

    python bench/simulate.py --preset 1m_x20 --orders 1 3 --walks 20000000
    python bench/simulate.py --preset criteo --orders 1 3 --walks 20000000
    python bench/simulate.py --preset tiny --orders 1 --walks 100000 --out /tmp/sim.jsonl
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


def run_case(preset: str, order: int, walks: int, threads: int, repeats: int) -> dict[str, Any]:
    df = generate_paths.load(preset)
    journeys = jl.Journeys.from_paths(
        df,
        path="path",
        conversions="total_conversions",
        nulls="total_null",
        value="total_conversion_value",
    )
    start = time.perf_counter()
    model = jl.MarkovModel(order=order).fit(journeys)
    fit_s = time.perf_counter() - start
    del journeys
    best = float("inf")
    best_cpu = 0.0
    touches = 0
    conversions = 0.0
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        sim = model.simulate(walks, seed=0, threads=threads)
        seconds = time.perf_counter() - start
        if seconds < best:
            best = seconds
            best_cpu = time.process_time() - cpu
            touches = int(sim._set.total_touches)
            conversions = float(sim.total_conversions)
        del sim
    return {
        "preset": preset,
        "order": order,
        "walks": walks,
        "threads": threads,
        "states": model.n_states_,
        "fit_s": round(fit_s, 4),
        "simulate_s": round(best, 4),
        "touches": touches,
        "touches_per_s": round(touches / best),
        # CPU time of the process over the call (every thread): on a machine shared with other
        # work, touches per CPU second tell what the code does apart from what it was given.
        "simulate_cpu_s": round(best_cpu, 4),
        "touches_per_cpu_s": round(touches / best_cpu) if best_cpu > 0 else None,
        "load_avg_1m": os.getloadavg()[0],
        "simulated_conversion_rate": conversions / walks if walks else 0.0,
        "conversion_rate": model.conversion_rate_,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", required=True, choices=list(generate_paths.PRESETS))
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--walks", type=int, default=20_000_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "simulate.jsonl")
    args = ap.parse_args()
    status = git("status", "--porcelain", "--untracked-files=no")
    common = {
        "rev": git("rev-parse", "--short=12", "HEAD"),
        "dirty": bool(status),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "journeyloop": jl.__version__,
    }
    for order in args.orders:
        record = {**common, **run_case(args.preset, order, args.walks, args.threads, args.repeats)}
        line = json.dumps(record)
        print(line)
        with args.out.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
