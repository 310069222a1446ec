"""Size of a preset's chain and the cost of one channel removal.

Usage: ``python bench/profile_chain.py --preset criteo --order 2 [--all] [--singles N]``.
Prints the number of states and transitions, the time to count and fit, the number of terminal
states (whose only successors are CONVERSION and NULL: the batched removals hold no solutions for
them), the sizes of the largest strongly connected components and how many channels have a state in
the largest (each of their removals solves it again), where the transitions of its states go
(inside it, to other live states, to terminal states), and the time of the removal of
the most frequent channel (what every channel's removal effect costs on large components); with
``--all``, also the time of every channel's removal effect (the batched solves of
``MarkovModel.attribution()``). With
``--singles N``, also N channels' removals solved one at a time (channels spread evenly over the
channel ids), as an engine without batches would solve them: the mean time of one, what all the
channels would take so on one thread, and the peak memory above the fitted model.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from generate_paths import load
from profile_memory import status_mb

import journeyloop as jl
from journeyloop import _core


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--order", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="also time every channel's removal")
    parser.add_argument(
        "--singles", type=int, default=0, help="also time N removals solved one at a time"
    )
    args = parser.parse_args()
    df: pd.DataFrame = load(args.preset, args.seed)
    t0 = time.perf_counter()
    journeys = jl.Journeys.from_paths(
        df, conversions="total_conversions", nulls="total_null", value="total_conversion_value"
    )
    t1 = time.perf_counter()
    counts = _core.count_transitions(journeys._set, _core.counting_options(order=args.order))
    t2 = time.perf_counter()
    model = _core.fit_markov(counts)
    fitted = time.perf_counter()
    # First, while nothing else has run on the model: its memory peak is then
    # what the removals add to the fitted model.
    singles = _singles(model, len(counts.channels), args.singles) if args.singles > 0 else None
    t3 = time.perf_counter()
    loops = _core.journey_loops(model)
    t4 = time.perf_counter()
    _core.group_removal_effect(model, [0])
    t5 = time.perf_counter()
    print(f"{args.preset} order {args.order}: {counts.num_states:,} states, "
          f"{counts.num_transitions:,} transitions")  # fmt: skip
    print(f"from_paths {t1 - t0:.2f} s, count {t2 - t1:.2f} s, fit {fitted - t2:.2f} s")
    print(f"terminal states (no successor but CONVERSION or NULL): {_terminal(model):,}")
    print(f"largest components: {[len(c) for c in loops[:3]]} (found in {t4 - t3:.2f} s)")
    if loops:
        # A channel with a state in the largest component changes the whole
        # component when it is removed: every removal of such a channel
        # solves it again.
        last = {counts.state_label(s).rsplit(" > ", 1)[-1] for s in loops[0]}
        print(
            f"channels with a state in the largest component: {len(last)} of {len(counts.channels)}"
        )
        print(_component_split(model, loops[0]))
    print(f"removal of channel {counts.channels[0]!r}: {t5 - t4:.2f} s")
    if args.all:
        t6 = time.perf_counter()
        _core.removal_effects(model)
        t7 = time.perf_counter()
        print(f"removal effects of all {len(counts.channels)} channels: {t7 - t6:.2f} s")
    if singles is not None:
        print(singles)


def _terminal(model: _core.markov_model) -> int:
    """Channel states whose only successors are CONVERSION and NULL (states 1 and 2)."""
    src, dst, _ = model.transitions()
    sources, targets = np.asarray(src), np.asarray(dst)
    live = np.zeros(model.counts.num_states, dtype=bool)
    live[sources[targets > 2]] = True
    return int((~live[3:]).sum())


def _component_split(model: _core.markov_model, states: list[int]) -> str:
    """Where the transitions of a component's states go: inside it, to the other live states
    (whose solutions a batched sweep gathers again every sweep) or to terminal states."""
    src, dst, _ = model.transitions()
    sources, targets = np.asarray(src), np.asarray(dst)
    n = model.counts.num_states
    inside = np.zeros(n, dtype=bool)
    inside[np.asarray(states, dtype=np.int64)] = True
    live = np.zeros(n, dtype=bool)
    live[sources[targets > 2]] = True
    mask = inside[sources] & (targets > 2)
    to = targets[mask]
    within = int(inside[to].sum())
    other_live = int((~inside[to] & live[to]).sum())
    terminal = int((~live[to]).sum())
    return (
        f"transitions of the largest component's states: {within:,} inside it, {other_live:,} to "
        f"other live states, {terminal:,} to terminal states"
    )


def _singles(model: _core.markov_model, channels: int, n: int) -> str:
    """Times n channels' removals solved one at a time; the line that reports them."""
    picked = sorted({i * channels // n for i in range(n)})
    rss_model = status_mb("VmRSS")  # the journeys, the counts and the model
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    t0 = time.perf_counter()
    for c in picked:
        _core.group_removal_effect(model, [c])
    each = (time.perf_counter() - t0) / len(picked)
    peak = status_mb("VmHWM") - rss_model
    return (
        f"{len(picked)} removals one at a time: {each:.2f} s each; all {channels} channels "
        f"so: {each * channels:,.0f} s on one thread; peak {peak:.0f} MB above the fitted model"
    )


if __name__ == "__main__":
    main()
