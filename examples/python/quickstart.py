"""The Python quickstart of the README: attribution of the bundled B2B sample."""

from __future__ import annotations

import journeyloop as jl

df = jl.datasets.load_b2b_paths()  # columns: path, conversions, nulls, value
journeys = jl.Journeys.from_paths(
    df, path="path", conversions="conversions", nulls="nulls", value="value"
)
model = jl.MarkovModel(order=1).fit(journeys)
print(f"conversion rate {model.conversion_rate_:.6f}")
print(model.attribution().round(3).to_string(index=False))
teams = model.attribution(by="team", teams=jl.datasets.b2b_teams(), ci=0.95, seed=0)
# ci=0.95: 95% bootstrap intervals from 1,000 resamples of the journeys.
columns = ["team", "conversions", "conversions_lower", "conversions_upper"]
print(teams[columns].round(1).to_string(index=False))

observed = journeys.total_conversions / (journeys.total_conversions + journeys.total_nulls)
# Checked with explicit tests, not assert: python -O drops asserts.
if abs(model.conversion_rate_ - observed) >= 1e-12:
    raise SystemExit("the conversion rate does not reproduce the data")
if abs(model.attribution()["conversions"].sum() - journeys.total_conversions) >= 1e-6:
    raise SystemExit("the attribution does not sum to the total conversions")
