"""Scoring benchmark: open journeys scored per second by ``model.score``.

Example::

    python bench/score.py --preset 1m_x20 --orders 1 3 --open 1000000 \\
        --out bench/results/score.jsonl
    python bench/score.py --preset tiny --orders 1 3 --open 20000     # a quick check

The model is fitted on the preset's path table (``bench/generate_paths.py``; generated first if it
is not cached). The open journeys are made from the table's paths: path ``i mod rows`` cut after
a number of touches drawn uniformly from 1 to its length, and half of them (at random) followed by
one more touch of a channel drawn uniformly (``numpy`` ``Generator(PCG64(seed))``), so that at
orders above 1 some reach states never seen in fitting and back off (prefixes shorter than the
order are scored through START's successors). They are built once (``jl.Journeys.from_paths``,
timed apart as ``build_s``). ``score_s`` is the best of ``--repeat`` calls of
``model.score(journeys)``, the DataFrame included, and ``score_core_s`` the best of the core call
alone (``_core.score_journeys``, the lookups without the DataFrame). ``next_touch_s`` times
``model.next_touch`` on the first ``--touch`` open journeys against every channel
(``touch_pairs_per_s``: journeys x channels per second).

One JSON line per preset and order is appended to ``--out``, tagged with the commit (``rev``,
``dirty``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.random import PCG64, Generator

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import generate_paths  # noqa: E402

import journeyloop as jl  # noqa: E402
from journeyloop import _core  # noqa: E402


def _rev() -> tuple[str, bool]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_DIR, capture_output=True, text=True, check=False
        ).stdout.strip()

    # The results file this script appends to does not make the tree dirty.
    status = git("status", "--porcelain", "--", ".", ":(exclude)bench/results")
    return git("rev-parse", "--short=12", "HEAD"), bool(status)


def open_paths(paths: pd.Series, n: int, seed: int) -> list[str]:
    """``n`` open journeys made from the table's paths (see the module docstring)."""
    rng = Generator(PCG64(seed))
    tokens = paths.str.split(" > ").tolist()
    channels = sorted({c for t in tokens for c in t})
    lengths = np.array([len(t) for t in tokens])
    rows = np.arange(n) % len(tokens)
    cut = 1 + (rng.random(n) * lengths[rows]).astype(np.int64)
    extra = rng.integers(0, len(channels), n)
    more = rng.random(n) < 0.5
    return [
        " > ".join(tokens[r][:c] + ([channels[e]] if m else []))
        for r, c, e, m in zip(rows, cut, extra, more)
    ]


def best_of(repeat: int, f: Any) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def run(preset: str, order: int, n_open: int, n_touch: int, repeat: int, seed: int) -> dict:
    table = pd.read_parquet(generate_paths.build(preset, quiet=True))
    journeys = jl.Journeys.from_paths(
        table, conversions="total_conversions", nulls="total_null", value="total_conversion_value"
    )
    t0 = time.perf_counter()
    model = jl.MarkovModel(order=order).fit(journeys)
    fit_s = time.perf_counter() - t0
    del journeys
    paths = open_paths(table["path"], n_open, seed)
    t0 = time.perf_counter()
    open_journeys = jl.Journeys.from_paths(paths, conversions=np.zeros(len(paths)))
    build_s = time.perf_counter() - t0
    options = _core.score_options()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.DataWarning)
        scores = model.score(open_journeys)
        score_s = best_of(repeat, lambda: model.score(open_journeys))
        core_s = best_of(
            repeat, lambda: _core.score_journeys(model._fitted, open_journeys._set, options)
        )
        few = open_journeys if n_touch >= n_open else paths[:n_touch]
        touch_n = min(n_touch, n_open)
        next_touch_s = best_of(1, lambda: model.next_touch(few))
    channels = len(model.channels_)
    rev, dirty = _rev()
    return {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "preset": preset,
        "order": order,
        "seed": seed,
        "open_journeys": n_open,
        "n_states": model.n_states_,
        "channels": channels,
        "fit_s": round(fit_s, 4),
        "build_s": round(build_s, 4),
        "score_s": round(score_s, 4),
        "score_core_s": round(core_s, 4),
        "journeys_per_s": round(n_open / score_s),
        "journeys_per_s_core": round(n_open / core_s),
        "exact": scores.attrs["backoff"]["exact"],
        "backed_off": scores.attrs["backoff"]["backed_off"],
        "unknown": scores.attrs["backoff"]["unknown"],
        "touch_journeys": touch_n,
        "next_touch_s": round(next_touch_s, 4),
        "touch_pairs_per_s": round(touch_n * channels / next_touch_s),
        "threads": jl.get_threads(),
        "repeat": repeat,
        "rev": rev,
        "dirty": dirty,
        "host": platform.node(),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "journeyloop": jl.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="1m_x20", choices=sorted(generate_paths.PRESETS))
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--open", type=int, default=1_000_000, help="open journeys to score")
    parser.add_argument("--touch", type=int, default=100_000, help="journeys for next_touch")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="append one JSON line per case")
    args = parser.parse_args()
    for order in args.orders:
        record = run(args.preset, order, args.open, args.touch, args.repeat, args.seed)
        line = json.dumps(record)
        print(line, flush=True)
        if args.out is not None:
            with args.out.open("a", encoding="utf-8") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
