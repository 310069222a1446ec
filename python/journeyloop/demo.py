"""The main job on the bundled B2B sample: every method side by side.

Run it with ``python -m journeyloop.demo`` (or ``make demo``).
"""

from __future__ import annotations

import pandas as pd

import journeyloop as jl


def main() -> None:
    """Print the channel and team attribution of every method on the B2B sample."""
    df = jl.datasets.load_b2b_paths()
    journeys = jl.Journeys.from_paths(
        df, path="path", conversions="conversions", nulls="nulls", value="value"
    )
    model = jl.MarkovModel(order=1).fit(journeys)
    print(journeys)
    print(
        f"order-1 Markov model: {model.n_states_} states, exact conversion rate "
        f"{model.conversion_rate_:.6f} "
        f"(observed {journeys.total_conversions:g} / "
        f"{journeys.total_conversions + journeys.total_nulls:g})"
    )
    tidy = jl.attribute(journeys)
    conversions = tidy.pivot(index="channel", columns="method", values="conversions")
    conversions = conversions.loc[journeys.channels, list(jl.METHODS)]
    with pd.option_context("display.width", 120, "display.float_format", "{:,.1f}".format):
        print("\nConversions attributed to each channel, by method:")
        print(conversions.to_string())
        value = tidy.pivot(index="channel", columns="method", values="value")
        value = value.loc[journeys.channels, list(jl.METHODS)] / 1000.0
        print("\nRevenue attributed to each channel, by method (thousands):")
        print(value.to_string())
        teams = jl.attribute(journeys, by="team", teams=jl.datasets.b2b_teams())
        share = teams.pivot(index="team", columns="method", values="share")[list(jl.METHODS)]
        print("\nShare of conversions by team, by method (%):")
        print((share * 100).to_string())
    print("\nMarkov removal effects (order 1):")
    print(model.removal_effects().to_string(index=False, float_format="{:.4f}".format))


if __name__ == "__main__":
    main()
