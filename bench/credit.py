"""Per-journey credit: ``jl.attribute(journeys, [method], level="journey")`` on a preset.

For each method the preset's path table (``generate_paths.py``) is read once, and the
per-journey frame of the method is timed ``--repeats`` times: ``frame_s`` is the whole call
(``jl.attribute(..., level="journey")``, which fits the model for ``shapley``; for ``markov``
``model.attribution(level="journey")`` on a model fitted beforehand), ``core_s`` the C++ call
alone on the fitted model (the model's figures and the credit arrays, before the DataFrame is
built). The best run of each is recorded with the number of entries (journey, channel) and the
entries per second of the core. One JSON line per method is appended to ``--out``,
tagged with the commit (``rev``) and whether tracked files were modified (``dirty``).

Usage::

    python bench/credit.py --preset 1m_x20
    python bench/credit.py --preset tiny --methods linear markov --out /tmp/credit.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import generate_paths  # noqa: E402
from revision import git  # noqa: E402

import journeyloop as jl  # noqa: E402


def best_of(repeats: int, f: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = f()
        seconds = time.perf_counter() - start
        if seconds < best:
            best, result = seconds, out
        del out
    return best, result


def run_method(
    journeys: jl.Journeys, model: jl.MarkovModel | None, method: str, threads: int, repeats: int
) -> dict[str, Any]:
    js = journeys._set
    options = jl._core.heuristic_options()
    core: Callable[[], Any]
    frame: Callable[[], Any] = partial(
        jl.attribute, journeys, [method], level="journey", threads=threads
    )
    if method in ("markov", "shapley"):
        assert model is not None
        if method == "markov":
            core = partial(jl._core.markov_journey_credit, js, model._fitted, None, threads)
            frame = partial(model.attribution, level="journey", threads=threads)
        else:
            core = partial(jl._core.shapley_journey_credit, js, model._fitted, threads)
    elif method == "simplified_shapley":
        core = partial(jl._core.simplified_shapley_journey_credit, js, threads)
    else:
        core = partial(jl._core.heuristic_journey_credit, js, method, options, threads)
    core_s, arrays = best_of(repeats, core)
    entries = len(arrays[0])
    del arrays
    frame_s, out = best_of(repeats, frame)
    rows = len(out)
    del out
    return {
        "method": method,
        "threads": threads,
        "journeys": len(journeys),
        "entries": entries,
        "frame_rows": rows,
        "core_s": round(core_s, 6),
        "frame_s": round(frame_s, 6),
        "entries_per_core_s": round(entries / core_s) if core_s > 0 else None,
        "load_avg_1m": os.getloadavg()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", required=True, choices=list(generate_paths.PRESETS))
    ap.add_argument("--methods", nargs="+", default=[*jl.METHODS])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "credit.jsonl")
    args = ap.parse_args()
    status = git("status", "--porcelain", "--untracked-files=no")
    common = {
        "rev": git("rev-parse", "--short=12", "HEAD"),
        "dirty": bool(status),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "journeyloop": jl.__version__,
        "preset": args.preset,
    }
    df = generate_paths.load(args.preset)
    journeys = jl.Journeys.from_paths(
        df,
        path="path",
        conversions="total_conversions",
        nulls="total_null",
        value="total_conversion_value",
    )
    model = None
    if {"markov", "shapley"} & set(args.methods):
        fitted = jl.MarkovModel().fit(journeys)
        assert isinstance(fitted, jl.MarkovModel)
        model = fitted
    for method in args.methods:
        if method == "shapley" and len(journeys.channels) > jl._core.max_shapley_players:
            continue
        record = {**common, **run_method(journeys, model, method, args.threads, args.repeats)}
        line = json.dumps(record)
        print(line)
        with args.out.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
