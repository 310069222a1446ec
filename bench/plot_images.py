"""The images of the plots in ``docs/images/``: every function of ``journeyloop.plot`` drawn on
the bundled B2B sample, one PNG each.

The images are deterministic: fixed seeds, the Agg backend, the same size and resolution, and no
software version in the PNG metadata, so that running the script again changes no file unless a
plot changed. With ``--out DIR`` the images go to DIR instead.

A new plot is one entry of ``IMAGES`` (its file name and how to draw it on an ``ax``).

Usage::

    python bench/plot_images.py
    python bench/plot_images.py --out /tmp/images
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import journeyloop as jl

REPO = Path(__file__).resolve().parents[1]


@cache
def b2b_journeys() -> jl.Journeys:
    """The bundled B2B paths, with the channels' teams and stages."""
    return jl.Journeys.from_paths(
        jl.datasets.load_b2b_paths(),
        path="path",
        conversions="conversions",
        nulls="nulls",
        value="value",
    ).with_channels(jl.datasets.load_b2b_channels())


@cache
def b2b_model() -> jl.MarkovModel:
    return jl.MarkovModel(order=1).fit(b2b_journeys())


@cache
def b2b_histories() -> jl.Histories:
    """The bundled B2B customer histories (loop form), with teams and stages."""
    return jl.Histories.from_paths(
        jl.datasets.load_b2b_histories(), path="history", count="customers", value="value"
    ).with_channels(jl.datasets.load_b2b_loop_channels())


@cache
def b2b_loop_model() -> jl.LoopModel:
    return jl.LoopModel(order=1).fit(b2b_histories())


def b2b_stages() -> dict[str, str]:
    """``{channel: stage}`` of the loop channels."""
    table = jl.datasets.load_b2b_loop_channels()
    return dict(zip(table["channel"], table["stage"]))


@cache
def weekly_attribution() -> Any:
    """Markov attribution of each week of a synthetic B2B event log, with intervals."""
    events = jl.synthetic.generate(20_000, regime="b2b", seed=1, truth=False).events
    weekly = jl.PeriodCounts.from_events(
        events, conversion="conversion", value="value", period="W", methods=["last_touch"]
    )
    return weekly.attribution(methods=["markov"], ci=0.9, n_samples=100, seed=0)


METHODS = ["first_touch", "last_touch", "linear", "markov", "shapley"]

# file name (without .png) -> (figure size in inches, how to draw it on the ax given).
IMAGES: dict[str, tuple[tuple[float, float], Callable[[Any], Any]]] = {
    "attribution": (
        (8, 5),
        lambda ax: jl.plot.attribution(jl.attribute(b2b_journeys(), METHODS), ax=ax),
    ),
    "attribution_ci": (
        (7, 4),
        lambda ax: jl.plot.attribution(b2b_model().attribution(ci=0.95, seed=0), ax=ax),
    ),
    "attribution_teams": (
        (8, 4),
        lambda ax: jl.plot.attribution(jl.attribute(b2b_journeys(), METHODS, by="team"), ax=ax),
    ),
    "removal_effects": (
        (7, 4),
        lambda ax: jl.plot.removal_effects(b2b_model().removal_effects(ci=0.95, seed=0), ax=ax),
    ),
    "transition_matrix": ((8, 6), lambda ax: jl.plot.transition_matrix(b2b_model(), ax=ax)),
    "handoffs": ((6, 4.5), lambda ax: jl.plot.handoffs(b2b_journeys().handoffs(), ax=ax)),
    "opener_closer": (
        (6, 4.5),
        lambda ax: jl.plot.opener_closer(b2b_journeys().opener_closer(), ax=ax),
    ),
    "journey_graph": ((9, 6), lambda ax: jl.plot.journey_graph(b2b_model(), ax=ax)),
    "circular_journey": (
        (8, 8),
        lambda ax: jl.plot.circular_journey(b2b_histories(), stages=b2b_stages(), ax=ax),
    ),
    "loop_attribution": (
        (7, 5),
        lambda ax: jl.plot.attribution(
            b2b_loop_model().attribution(), column="repeat_purchases", ax=ax
        ),
    ),
    "attribution_over_time": (
        (9, 5),
        lambda ax: jl.plot.attribution_over_time(weekly_attribution(), column="conversions", ax=ax),
    ),
    "loop_transition_matrix": (
        (9, 7),
        lambda ax: jl.plot.transition_matrix(b2b_loop_model(), ax=ax),
    ),
}


def render(name: str, out: Path) -> Path:
    size, draw = IMAGES[name]
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    try:
        returned = draw(ax)
        if returned is not ax:
            msg = f"{name}: the plot did not return the ax it was given"
            raise RuntimeError(msg)
        path = out / f"{name}.png"
        fig.savefig(path, dpi=100, metadata={"Software": None})
    finally:
        plt.close(fig)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("names", nargs="*", help="only these images (default: all)")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(IMAGES))
    if unknown:
        print(f"unknown images {unknown}; known: {sorted(IMAGES)}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or IMAGES:
        print(f"wrote {render(name, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
