"""Writes the saved files of tests/data/formats with the current code.

Run from the repository root with the package installed:
``.venv/bin/python tests/data/formats/make_files.py``. The files are kept in
the repository: tests/python/test_files.py loads each one and checks its
figures, so that every later version is tested against files this version
saved. Files of a format version are never rewritten once a later version
exists (add new files instead).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import journeyloop as jl

HERE = Path(__file__).resolve().parent

# The funnel worked by hand in tests/cpp/fixtures.hpp.
FUNNEL = pd.DataFrame(
    {
        "path": ["a > b", "b", "a > c"],
        "conversions": [1, 0, 2],
        "nulls": [1, 2, 0],
        "value": [10.0, 0.0, 30.0],
    }
)

# The loop chain of tests/cpp/test_loop_model.cpp.
HISTORIES = pd.DataFrame(
    {
        "history": ["a > purchase > b > purchase", "a > b", "b > purchase"],
        "customers": [1, 1, 2],
        "value": [30.0, 0.0, 60.0],
    }
)

EVENTS = pd.DataFrame(
    {
        "customer": [7, 3, 7, 7, 7, 3],
        "time": [5.5, 1.0, 1.0, 9.0, 12.0, 4.0],
        "channel": ["search", "email", "email", "demo", "email", "search"],
        "conversion": [0, 0, 0, 1, 1, 0],
        "value": [0.0, 0.0, 0.0, 100.5, 20.0, 0.0],
    }
)

TEAMS = {"a": {"team": "marketing", "stage": "top"}, "b": {"team": "sales", "stage": "bottom"}}
FUNNEL_TEAMS = TEAMS | {"c": {"team": "sales", "stage": "bottom"}}


def funnel() -> jl.Journeys:
    return jl.Journeys.from_paths(FUNNEL, conversions="conversions", nulls="nulls", value="value")


def histories() -> jl.Histories:
    return jl.Histories.from_paths(HISTORIES, path="history", count="customers", value="value")


def files() -> dict[str, bytes]:
    named = EVENTS.assign(customer=EVENTS["customer"].map(lambda c: f"customer {c}"))
    return {
        "transition_counts.jl": jl.TransitionCounts.from_journeys(
            funnel(), order=2, padded=True
        ).to_bytes(),
        "markov_model.jl": jl.MarkovModel(order=1, smoothing=0.5, max_states=1000)
        .fit(funnel().with_channels(FUNNEL_TEAMS))
        .to_bytes(),
        "markov_model_no_metadata.jl": jl.MarkovModel(order=2).fit(funnel())._fitted.to_bytes(),
        "loop_model.jl": jl.MarkovModel(order=1).fit(histories().with_channels(TEAMS)).to_bytes(),
        "journeys.jl": jl.Journeys.from_events(EVENTS, conversion="conversion", value="value")
        .with_channels({"email": "marketing", "search": "marketing", "demo": "sales"})
        .to_bytes(),
        "journeys_named_customers.jl": jl.Journeys.from_events(
            named, conversion="conversion", value="value"
        ).to_bytes(),
        "loop_histories.jl": jl.Histories.from_events(
            EVENTS, conversion="conversion", value="value"
        ).to_bytes(),
        "loop_histories_from_paths.jl": histories().to_bytes(),
    }


if __name__ == "__main__":
    for name, data in files().items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
