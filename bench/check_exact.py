"""journeyloop's removal effects on a benchmark table against an independent exact solve.

Usage::

    python bench/check_exact.py --preset 1m_x20 --orders 1 2 3 4
    python bench/check_exact.py --preset criteo --orders 1 2 3 --channels 8

The independent side shares no code with the library: the transitions are counted in plain
Python by ``tests/python/exact_reference.py`` (``count_chain``, written from DESIGN.md), and
every removal is solved by Jacobi iteration of ``x = r + Q x`` with numpy, the removed states
held at 0, until no value changes by more than 1e-15 of the largest (the iteration converges
because every state reaches absorption; what is left after a sweep that changes by d is at most
d rho / (1 - rho), with rho < 1 the rate it measures). ``--channels N`` checks the N most
frequent channels and N others drawn with a fixed seed instead of all of them (for tables with
hundreds of channels). Prints the largest difference of the conversion rate and of the
removal effects (conversions and value), absolute and relative to the effect, and exits with
status 1 if one is above ``--tolerance`` (1e-9, relative).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from generate_paths import load

import journeyloop as jl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from exact_reference import chain_arrays, split


class SparseChain:
    """The transient chain as numpy arrays (``exact_reference.chain_arrays``), solved by
    Jacobi iteration."""

    def __init__(self, paths: list[list[str]], conv: list[float], nulls: list[float],
                 values: list[float], order: int) -> None:  # fmt: skip
        c = chain_arrays(paths, conv, nulls, values, order)
        self.states, self.start = c.states, c.start
        self.n = len(c.states) + 1
        self.rows, self.cols, self.probs = c.rows, c.cols, c.probs
        self.r, self.r_value = c.r, c.r_value

    def solve(self, removed: np.ndarray) -> tuple[float, float, int]:
        """(conversion probability, expected value) from START with the states in `removed`
        (a boolean mask) sending everything to NULL; and the sweeps taken."""
        keep = ~removed
        b = np.column_stack([self.r * keep, self.r_value * keep])
        x = b.copy()
        for sweep in range(1, 100_000):
            flow = self.probs[:, None] * x[self.cols]
            nxt = np.column_stack(
                [np.bincount(self.rows, flow[:, k], minlength=self.n) for k in range(2)]
            )
            nxt = b + nxt * keep[:, None]
            change = np.abs(nxt - x).max(axis=0)
            x = nxt
            if np.all(change <= 1e-15 * np.maximum(np.abs(x).max(axis=0), 1e-300)):
                return float(x[self.start, 0]), float(x[self.start, 1]), sweep
        raise RuntimeError("Jacobi iteration did not converge")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", required=True)
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--channels", type=int, default=0, help="check 2N channels, not all")
    ap.add_argument("--tolerance", type=float, default=1e-9)
    args = ap.parse_args()
    df = load(args.preset)
    paths = [split(p) for p in df["path"].tolist()]
    conv = df["total_conversions"].astype(float).tolist()
    nulls = df["total_null"].astype(float).tolist()
    values = df["total_conversion_value"].astype(float).tolist()
    journeys = jl.Journeys.from_paths(
        df, conversions="total_conversions", nulls="total_null", value="total_conversion_value"
    )
    worst = 0.0
    for order in args.orders:
        t0 = time.perf_counter()
        model = jl.MarkovModel(order=order).fit(journeys)
        ours = model.removal_effects().set_index("channel")
        t1 = time.perf_counter()
        chain = SparseChain(paths, conv, nulls, values, order)
        t2 = time.perf_counter()
        p, v, _ = chain.solve(np.zeros(chain.n, dtype=bool))
        channels = list(ours.index)
        if args.channels and 2 * args.channels < len(channels):
            by_touches = df["path"].str.split(">").explode().str.strip().value_counts()
            top = [str(c) for c in by_touches.index[: args.channels]]
            rest = sorted(set(channels) - set(top))
            rng = np.random.default_rng(0)
            channels = top + [str(c) for c in rng.choice(rest, args.channels, replace=False)]
        diff_p = abs(p - model.conversion_rate_) / p
        max_abs = max_rel = 0.0
        sweeps = []
        for ch in channels:
            removed = np.zeros(chain.n, dtype=bool)
            for state, i in chain.states.items():
                if ch in state:
                    removed[i] = True
            pc, vc, n_sweeps = chain.solve(removed)
            sweeps.append(n_sweeps)
            for ref, got in ((1 - pc / p, ours.loc[ch, "removal_effect"]),
                             (1 - vc / v, ours.loc[ch, "value_removal_effect"])):  # fmt: skip
                d = abs(float(got) - ref)
                max_abs = max(max_abs, d)
                max_rel = max(max_rel, d / ref if ref > 0 else d)
        t3 = time.perf_counter()
        worst = max(worst, max_rel, diff_p)
        print(
            f"{args.preset} order {order}: {chain.n - 1:,} states, {len(channels)} of "
            f"{len(ours)} channels checked; conversion rate rel. diff {diff_p:.1e}; removal "
            f"effects max abs diff {max_abs:.1e}, max rel diff {max_rel:.1e} "
            f"(Jacobi sweeps {min(sweeps)}-{max(sweeps)}; journeyloop {t1 - t0:.1f} s, "
            f"independent count {t2 - t1:.1f} s, solves {t3 - t2:.1f} s)",
            flush=True,
        )
    if worst > args.tolerance:
        print(f"FAILED: {worst:.1e} > {args.tolerance:.0e}")
        sys.exit(1)
    print(f"all within {args.tolerance:.0e}")


if __name__ == "__main__":
    main()
