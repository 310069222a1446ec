"""Event logs of DP6's Marketing-Attribution-Models tests (../shared/data/dp6_mam_test_journeys).

The expected values are those of REFERENCE.md (DP6's own assertions). DP6's
conventions and ours agree on journey building (a journey ends at and includes
the converting session, sessions after a conversion start a new journey, a
30-day window before the conversion) and on first touch, last touch, linear and
Markov removal effects with self-loops kept. Where they differ it is said at
the test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

from .conftest import shared_data

COLUMNS = {
    "customer": "user_pseudo_id",
    "time": "event_time",
    "channel": "source_medium",
}

# REFERENCE.md: journeys of test_dataset.csv, in DP6's index order.
PATHS = [
    "direct > google_ads > direct",
    "seo > direct",
    "direct > crm > direct",
    "seo > direct > direct",
    "direct > direct > seo > direct",
]
CONVERTED = [1, 0, 1, 1, 1]

# REFERENCE.md: per-journey credits (one per touch, in time order).
FIRST = {0: [1, 0, 0], 1: [0, 0], 2: [1, 0, 0], 3: [1, 0, 0], 4: [1, 0, 0, 0]}
LAST = {0: [0, 0, 1], 1: [0, 0], 2: [0, 0, 1], 3: [0, 0, 1], 4: [0, 0, 0, 1]}
LINEAR = {0: [1 / 3] * 3, 1: [0.0, 0.0], 2: [1 / 3] * 3, 3: [1 / 3] * 3, 4: [0.25] * 4}
MARKOV_RE = {"crm": 0.1666666666666653, "google_ads": 0.1666666666666653,
             "seo": 0.49999999999999933, "direct": 1.0}  # fmt: skip
MARKOV_MATRIX = {  # (from, to): probability; DP6's "(inicio)" is our START
    ("START", "seo"): 0.4, ("START", "direct"): 0.6,
    ("seo", "direct"): 1.0, ("crm", "direct"): 1.0, ("google_ads", "direct"): 1.0,
    ("direct", "seo"): 0.1, ("direct", "crm"): 0.1, ("direct", "direct"): 0.2,
    ("direct", "google_ads"): 0.1, ("direct", "NULL"): 0.1, ("direct", "CONVERSION"): 0.4,
}  # fmt: skip
MULTI_RE = {"crm": 0.30, "google_ads": 0.125, "seo": 0.375, "direct": 1.0}
MULTI_MATRIX = {
    ("START", "direct"): 0.7142857142857143, ("START", "seo"): 0.2857142857142857,
    ("crm", "direct"): 1.0, ("google_ads", "direct"): 1.0, ("seo", "direct"): 1.0,
    ("direct", "crm"): 0.21428571428571427, ("direct", "direct"): 0.14285714285714285,
    ("direct", "google_ads"): 0.07142857142857142, ("direct", "seo"): 0.07142857142857142,
    ("direct", "NULL"): 0.07142857142857142, ("direct", "CONVERSION"): 0.42857142857142855,
}  # fmt: skip


def read_log(name: str) -> pd.DataFrame:
    path: Path = shared_data(f"dp6_mam_test_journeys/{name}")
    return pd.read_csv(path, parse_dates=["event_time"])


@pytest.fixture(scope="module")
def single() -> jl.Journeys:
    return jl.Journeys.from_events(
        read_log("test_dataset.csv"), **COLUMNS, conversion="is_conversion_purchase",
        lookback="30D",
    )  # fmt: skip


@pytest.fixture(scope="module")
def multiple() -> jl.Journeys:
    # DP6 uses n_purchases as the conversion value and weights a journey's
    # transitions by it; here it is the conversion count of the row.
    return jl.Journeys.from_events(
        read_log("test_dataset_multiple_conversions.csv"), **COLUMNS,
        conversion="n_purchases", lookback="30D",
    )  # fmt: skip


def channel_totals(paths: list[str], credits: dict[int, list[float]]) -> dict[str, float]:
    """DP6's per-journey credits summed by channel."""
    out: dict[str, float] = {}
    for i, path in enumerate(paths):
        for channel, credit in zip(path.split(" > "), credits[i], strict=True):
            out[channel] = out.get(channel, 0.0) + credit
    return out


def test_journeys_match_dp6(single: jl.Journeys) -> None:
    frame = single.to_frame()
    assert frame["path"].tolist() == PATHS
    assert frame["conversions"].tolist() == CONVERTED
    assert frame["nulls"].tolist() == [1 - c for c in CONVERTED]
    assert frame["customer"].tolist() == ["A", "B", "C", "D", "D"]
    r = single.report
    assert r is not None
    # Session 1 of user A lies 184 days before A's conversion.
    assert r.outside_lookback == 1
    assert (r.rows_read, r.rows_used, r.rows_rejected) == (16, 15, 0)
    assert (r.journeys, r.converting_journeys, r.customers) == (5, 4, 4)
    assert r.rows_read == r.rows_used + r.rows_rejected + r.outside_lookback + (
        r.conversions_without_touch
    )
    # time_till_conv of journey 0 is "2.0 > 1.0 > 0.0" hours.
    touches = single.to_touches()
    first = touches[touches["journey"] == 0]
    assert (first["before_end"] / pd.Timedelta(hours=1)).tolist() == [2.0, 1.0, 0.0]


@pytest.mark.parametrize(
    ("method", "credits"), [("first_touch", FIRST), ("last_touch", LAST), ("linear", LINEAR)]
)
def test_heuristics_match_dp6(single: jl.Journeys, method: str, credits: dict) -> None:
    ours = jl.attribute(single, [method]).set_index("channel")["conversions"]
    expected = channel_totals(PATHS, credits)
    for channel, credit in expected.items():
        assert ours[channel] == pytest.approx(credit, abs=1e-12)
    assert ours.sum() == pytest.approx(4.0, abs=1e-12)


def test_time_decay_convention_differs_from_dp6(single: jl.Journeys) -> None:
    """DP6 weighs a touch by 0.5 ** floor(hours before / 24): journey 4 (122, 2,
    1 and 0 hours before) gets 1/97, 32/97, 32/97, 32/97, and the journeys
    within one day split evenly. journeyloop's weight is continuous,
    2 ** (-dt / half_life) (documented), so with a half-life of one day the
    values are these, computed here by hand."""
    ours = jl.attribute(single, ["time_decay"], half_life="1D").set_index("channel")
    expected: dict[str, float] = {}
    hours = {0: [2, 1, 0], 2: [2, 1, 0], 3: [20 / 60, 10 / 60, 0], 4: [122, 2, 1, 0]}
    for i, before in hours.items():
        w = np.exp2(-np.asarray(before, dtype=float) / 24)
        w /= w.sum()
        for channel, x in zip(PATHS[i].split(" > "), w, strict=True):
            expected[channel] = expected.get(channel, 0.0) + x
    for channel, credit in expected.items():
        assert ours.loc[channel, "conversions"] == pytest.approx(credit, rel=1e-12)
    # DP6's floor rule, for the record: journey 4's first touch gets 1/97.
    dp6 = 0.5 ** np.floor(np.asarray([122, 2, 1, 0]) / 24)
    assert dp6[0] / dp6.sum() == pytest.approx(0.010309278350515464, rel=1e-12)


def fit_and_check_markov(
    journeys: jl.Journeys,
    matrix: dict[tuple[str, str], float],
    removal_effects: dict[str, float],
) -> jl.MarkovModel:
    """Fits with self-loops kept (DP6's transition_to_same_state=True) and checks
    the transition matrix and the removal effects against DP6's."""
    model = jl.MarkovModel(order=1, collapse_repeats=False).fit(journeys)
    tm = model.transition_matrix()
    got = {(f, t): p for f, t, p in zip(tm["from"], tm["to"], tm["probability"], strict=True)}
    assert set(got) == set(matrix)
    for edge, p in matrix.items():
        assert got[edge] == pytest.approx(p, abs=1e-12), edge
    re = model.removal_effects().set_index("channel")["removal_effect"]
    for channel, expected in removal_effects.items():
        assert re[channel] == pytest.approx(expected, abs=1e-12)
    return model


def test_markov_matches_dp6(single: jl.Journeys) -> None:
    model = fit_and_check_markov(single, MARKOV_MATRIX, MARKOV_RE)
    assert model.conversion_rate_ == pytest.approx(0.8, abs=1e-12)


def test_multiple_conversions_match_dp6(multiple: jl.Journeys) -> None:
    frame = multiple.to_frame()
    assert frame["path"].tolist() == [*PATHS, "direct > crm > direct"]
    assert frame["conversions"].tolist() == [1, 0, 1, 1, 1, 2]
    fit_and_check_markov(multiple, MULTI_MATRIX, MULTI_RE)
    # First click and last click give journey E's 2 conversions to its first
    # and last touch, as DP6's [2, 0, 0] and [0, 0, 2].
    paths = [*PATHS, "direct > crm > direct"]
    for method, credits in (("first_touch", FIRST), ("last_touch", LAST)):
        expected = channel_totals(paths, {**credits, 5: [2, 0, 0] if method == "first_touch"
                                          else [0, 0, 2]})  # fmt: skip
        ours = jl.attribute(multiple, [method]).set_index("channel")["conversions"]
        for channel, credit in expected.items():
            assert ours[channel] == pytest.approx(credit, abs=1e-12)


def test_value_column_carries_dp6_conversion_value() -> None:
    """With the flag as the conversion and n_purchases as the value, value
    attribution gives DP6's per-journey value credits (linear: E's touches
    2/3 each)."""
    j = jl.Journeys.from_events(
        read_log("test_dataset_multiple_conversions.csv"), **COLUMNS,
        conversion="is_conversion_purchase", value="n_purchases", lookback="30D",
    )  # fmt: skip
    assert j.total_conversions == 5
    assert j.total_value == 6
    linear = jl.attribute(j, ["linear"]).set_index("channel")["value"]
    expected = channel_totals([*PATHS, "direct > crm > direct"], {**LINEAR, 5: [2 / 3] * 3})
    for channel, credit in expected.items():
        assert linear[channel] == pytest.approx(credit, abs=1e-12)
