"""Refitting a fitted chain with new weights against fitting it afresh.

Usage::

    python bench/refit.py --preset criteo --orders 2 3 4 --replicates 3 \\
        --out bench/results/refit.jsonl

For each order, the preset's table is counted and fitted (``MarkovModel.fit``); then each
replicate draws Poisson(1) weights for the table's rows (the Poisson bootstrap: rows drawn 0 times
leave their states out), counts the reweighted table, and fits those counts twice, alternating
which goes first: from scratch (``MarkovModel.fit(counts)``) and on the fitted chain's structure
(``MarkovModel.refit(counts)``). Both are timed (the counting is not), their conversion rates,
values per journey and conversion probabilities compared, and one JSON line per replicate is
appended to ``--out``, tagged with the commit.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time

import numpy as np
from generate_paths import load
from revision import git

import journeyloop as jl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="criteo")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--orders", type=int, nargs="+", default=[3])
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--out", default=None, help="append one JSON line per replicate here")
    args = ap.parse_args()
    df = load(args.preset, args.seed)
    columns = ["total_conversions", "total_null", "total_conversion_value"]
    journeys = jl.Journeys.from_paths(
        df, conversions=columns[0], nulls=columns[1], value=columns[2]
    )
    facts = {
        "rev": git("rev-parse", "--short=12", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "cpus": os.cpu_count(),
        "journeyloop": jl.__version__,
    }
    rng = np.random.default_rng(args.seed)
    for order in args.orders:
        counts = jl.TransitionCounts.from_journeys(journeys, order)
        t0 = time.perf_counter()
        fitted = jl.MarkovModel(order).fit(counts)
        fit_s = time.perf_counter() - t0
        for r in range(args.replicates):
            drawn = df.copy()
            weights = rng.poisson(1.0, len(df)).astype(float)
            for c in columns:
                drawn[c] = drawn[c] * weights
            replicate = jl.TransitionCounts.from_journeys(
                jl.Journeys.from_paths(
                    drawn, conversions=columns[0], nulls=columns[1], value=columns[2]
                ),
                order,
            )
            timings: dict[str, float] = {}
            models: dict[str, jl.MarkovModel] = {}
            for how in ["fresh", "refit"] if r % 2 == 0 else ["refit", "fresh"]:
                model = jl.MarkovModel(order)
                if how == "refit":
                    model = copy.copy(fitted)
                t = time.perf_counter()
                if how == "refit":
                    model.refit(replicate)
                else:
                    model.fit(replicate)
                timings[how] = time.perf_counter() - t
                models[how] = model
            fresh, refit = models["fresh"], models["refit"]
            x_fresh = fresh.states()["conversion_probability"].to_numpy()
            x_refit = refit.states()["conversion_probability"].to_numpy()
            record = {
                "preset": args.preset,
                "order": order,
                "replicate": r,
                "states": int(counts.n_states),
                "replicate_states": int(replicate.n_states),
                "fit_s": fit_s,
                "fresh_s": timings["fresh"],
                "refit_s": timings["refit"],
                "ratio": timings["refit"] / timings["fresh"],
                "conversion_rate_rel_diff": abs(refit.conversion_rate_ - fresh.conversion_rate_)
                / fresh.conversion_rate_,
                "value_rel_diff": abs(refit.value_per_journey_ - fresh.value_per_journey_)
                / fresh.value_per_journey_,
                "max_abs_diff_x": float(np.abs(x_fresh - x_refit).max()),
                **facts,
            }
            print(
                f"{args.preset} order {order} replicate {r}: fit {fit_s:.3f} s; replicate "
                f"fresh {timings['fresh']:.3f} s, refit {timings['refit']:.3f} s "
                f"(ratio {record['ratio']:.3f}); conversion rate rel. diff "
                f"{record['conversion_rate_rel_diff']:.1e}, max |x diff| "
                f"{record['max_abs_diff_x']:.1e}"
            )
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
