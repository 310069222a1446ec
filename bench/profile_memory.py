"""Memory of each stage of a fit on a preset: journeys, counts, fit, removal effects.

Usage: ``python bench/profile_memory.py --preset criteo --order 3 [--release-journeys]
[--threads T] [--set-threads N] [--seconds]``.
Before each stage the process resets its peak RSS (``/proc/self/clear_refs``); after it, it
prints what the stage kept (RSS after minus before) and its peak above the RSS before it, in
MB. The stages are those of ``MarkovModel(order=k).fit(journeys)`` followed by the removal
effects. The last line is the peak of the whole pipeline above the RSS before it, and its ratio
to the input table (``df.memory_usage(deep=True)``). With ``--release-journeys`` the journeys
are freed after the fit, as in ``MarkovModel(order=k).fit(Journeys.from_paths(df))``, where
nothing else refers to them. ``--threads`` sets the counting threads (by default
``count_transitions`` chooses); ``--set-threads N`` calls ``jl.set_threads(N)`` first, for every
stage (1: everything on one thread); ``--seconds`` adds each stage's time. On tables under 16 MB
the figures have two decimals. ``--warm-up`` first runs the stages on the table's first 20 rows,
so that the measured stages no longer page in the library's code (as ``run_markov.py
--warm-up``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from generate_paths import load

import journeyloop as jl
from journeyloop import _core


def status_mb(key: str) -> float:
    """A ``/proc/self/status`` figure (``VmRSS``, ``VmHWM``) in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", required=True)
    ap.add_argument("--order", type=int, required=True)
    ap.add_argument(
        "--release-journeys", action="store_true", help="free the journeys after the fit"
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="counting threads (0, the default, lets count_transitions choose)",
    )
    ap.add_argument(
        "--set-threads",
        type=int,
        default=0,
        help="jl.set_threads(N) before the stages (0, the default, keeps each stage's default)",
    )
    ap.add_argument("--seconds", action="store_true", help="also print each stage's time")
    ap.add_argument(
        "--warm-up", action="store_true", help="first run the stages on the table's first 20 rows"
    )
    args = ap.parse_args()
    jl.set_threads(args.set_threads)
    df = load(args.preset)
    input_mb = float(df.memory_usage(deep=True).sum()) / 2**20
    digits = 2 if input_mb < 16 else 0  # MB to two decimals for the small tables
    cols = dict(conversions="total_conversions", nulls="total_null", value="total_conversion_value")
    if args.warm_up:
        small = jl.Journeys.from_paths(df.head(20).reset_index(drop=True), **cols)
        small_counts = _core.count_transitions(small._set, _core.counting_options(order=args.order))
        _core.removal_effects(_core.fit_markov_taking(small_counts))
        del small_counts
        del small
    kept: dict[str, object] = {}
    start = status_mb("VmRSS")
    pipeline_peak = start

    def stage(name: str, run: Callable[[], Any]) -> Any:
        nonlocal pipeline_peak
        before = status_mb("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        t0 = time.perf_counter()
        out = run()
        seconds = time.perf_counter() - t0
        kept[name] = out
        kept_mb, peak_mb = status_mb("VmRSS") - before, status_mb("VmHWM") - before
        pipeline_peak = max(pipeline_peak, status_mb("VmHWM"))
        timing = f"   {seconds:6.2f} s" if args.seconds else ""
        print(f"{name:<16} kept {kept_mb:7.{digits}f} MB   peak {peak_mb:7.{digits}f} MB{timing}")
        return out

    journeys = stage("journeys", lambda: jl.Journeys.from_paths(df, **cols))
    counts = stage(
        "counts",
        lambda: _core.count_transitions(
            journeys._set, _core.counting_options(order=args.order, threads=args.threads)
        ),
    )
    # As MarkovModel.fit does: the counts move into the model (the "fit" line is what the
    # model holds beyond them).
    model = stage("fit", lambda: _core.fit_markov_taking(counts))
    if args.release_journeys:
        before = status_mb("VmRSS")
        del journeys, kept["journeys"]
        print(f"{'release journeys':<16} kept {status_mb('VmRSS') - before:7.{digits}f} MB")
    stage("removal effects", lambda: _core.removal_effects(model))
    extra = pipeline_peak - start
    print(
        f"pipeline peak {extra:.{digits}f} MB above the start: {extra / input_mb:.2f}x the input "
        f"table ({input_mb:.1f} MB)"
    )


if __name__ == "__main__":
    main()
