"""Per-journey credit (level="journey"), position weights, simplified_shapley in attribute()."""

from __future__ import annotations

import pickle
from fractions import Fraction as F

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

# The abc example (tests/cpp/fixtures.hpp): "a > b" 1 conversion (10), "b" none,
# "a > c" 2 conversions (30). Removal effects a 5/6, b 1/3, c 2/3; value removal
# effects a 7/8, b 1/4, c 3/4. Markov Shapley a 5/24, b 1/8, c 1/6; on value
# a 105/36, b 45/36, c 90/36.
HAND = {
    "first_touch": {(0, "a"): (1, 10), (0, "b"): (0, 0), (2, "a"): (2, 30), (2, "c"): (0, 0)},
    "last_touch": {(0, "a"): (0, 0), (0, "b"): (1, 10), (2, "a"): (0, 0), (2, "c"): (2, 30)},
    "linear": {(0, "a"): (0.5, 5), (0, "b"): (0.5, 5), (2, "a"): (1, 15), (2, "c"): (1, 15)},
    "position_based": {
        (0, "a"): (0.5, 5),
        (0, "b"): (0.5, 5),
        (2, "a"): (1, 15),
        (2, "c"): (1, 15),
    },
    "time_decay": {
        (0, "a"): (F(1, 3), F(10, 3)),
        (0, "b"): (F(2, 3), F(20, 3)),
        (2, "a"): (F(2, 3), 10),
        (2, "c"): (F(4, 3), 20),
    },
    "simplified_shapley": {
        (0, "a"): (0.5, 5),
        (0, "b"): (0.5, 5),
        (2, "a"): (1, 15),
        (2, "c"): (1, 15),
    },
    "markov": {
        (0, "a"): (F(5, 7), F(70, 9)),
        (0, "b"): (F(2, 7), F(20, 9)),
        (2, "a"): (F(10, 9), F(210, 13)),
        (2, "c"): (F(8, 9), F(180, 13)),
    },
    "shapley": {
        (0, "a"): (F(5, 8), 7),
        (0, "b"): (F(3, 8), 3),
        (2, "a"): (F(10, 9), F(210, 13)),
        (2, "c"): (F(8, 9), F(180, 13)),
    },
}


def as_dict(
    frame: pd.DataFrame, key: str = "channel"
) -> dict[tuple[int, str], tuple[float, float]]:
    return {
        (int(r.journey), str(getattr(r, key))): (float(r.conversions), float(r.value))
        for r in frame.itertuples()
    }


def assert_credit(frame: pd.DataFrame, want: dict, key: str = "channel") -> None:
    got = as_dict(frame, key)
    assert set(got) == set(want)
    for k, (conv, value) in want.items():
        assert got[k][0] == pytest.approx(float(conv), rel=1e-13, abs=1e-13), k
        assert got[k][1] == pytest.approx(float(value), rel=1e-13, abs=1e-13), k


@pytest.mark.parametrize("method", list(HAND))
def test_every_method_by_hand(abc_journeys: jl.Journeys, method: str) -> None:
    out = jl.attribute(abc_journeys, [method], level="journey")
    assert list(out.columns) == ["method", "journey", "path", "channel", "conversions", "value"]
    assert set(out["method"]) == {method}
    # Row 1 ("b") has no conversion and no value: it does not appear.
    assert out["journey"].tolist() == [0, 0, 2, 2]
    assert out["path"].tolist() == ["a > b", "a > b", "a > c", "a > c"]
    assert_credit(out, HAND[method])


def test_default_methods_and_sums(abc_journeys: jl.Journeys) -> None:
    out = jl.attribute(abc_journeys, level="journey")
    assert list(pd.unique(out["method"])) == list(jl.METHODS)
    rows = abc_journeys.to_frame()
    for _, g in out.groupby("method"):
        sums = g.groupby("journey")[["conversions", "value"]].sum()
        for j, s in sums.iterrows():
            assert s["conversions"] == pytest.approx(rows["conversions"][j], rel=1e-13)
            assert s["value"] == pytest.approx(rows["value"][j], rel=1e-13)


def test_markov_journey_sums_differ_from_the_aggregate(abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    journey = model.attribution(level="journey")
    assert list(journey.columns) == ["journey", "path", "channel", "conversions", "value"]
    assert_credit(journey, HAND["markov"])
    summed = journey.groupby("channel")["conversions"].sum()
    # Over the journeys: a 115/63, b 18/63, c 56/63; the aggregate: a 15/11, b 6/11, c 12/11.
    assert summed.to_dict() == pytest.approx({"a": 115 / 63, "b": 18 / 63, "c": 56 / 63}, rel=1e-13)
    aggregate = model.attribution().set_index("channel")["conversions"]
    assert aggregate.to_dict() == pytest.approx(
        {"a": 15 / 11, "b": 6 / 11, "c": 12 / 11}, rel=1e-12
    )
    assert summed.sum() == pytest.approx(aggregate.sum(), rel=1e-14)


def test_heuristics_and_simplified_shapley_sum_to_their_aggregates() -> None:
    rng = np.random.default_rng(5)
    channels = ["a", "b", "c", "d", "e", "f"]
    paths = [" > ".join(rng.choice(channels, size=rng.integers(1, 7))) for _ in range(500)]
    conv = rng.integers(0, 3, size=500)
    nulls = rng.integers(1, 4, size=500)
    value = conv * rng.uniform(1, 100, size=500)
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=nulls, value=value)
    weights = (0.25, 0.6)
    journey = jl.attribute(j, level="journey", position_weights=weights, threads=2)
    total = jl.attribute(j, position_weights=weights)
    for method in [
        "first_touch",
        "last_touch",
        "linear",
        "position_based",
        "time_decay",
        "simplified_shapley",
    ]:
        summed = journey[journey["method"] == method].groupby("channel")[["conversions", "value"]]
        s = summed.sum()
        t = total[total["method"] == method].set_index("channel")
        for column in ("conversions", "value"):
            assert s[column].to_dict() == pytest.approx(t[column].to_dict(), rel=1e-11, abs=1e-9), (
                method,
                column,
            )
    # Every method: each journey's credit is its conversions and value.
    frame = j.to_frame()
    for _, g in journey.groupby("method"):
        sums = g.groupby("journey")[["conversions", "value"]].sum()
        assert np.allclose(sums["conversions"], frame["conversions"][sums.index], rtol=1e-12)
        assert np.allclose(sums["value"], frame["value"][sums.index], rtol=1e-12)
        # Every journey with conversions or value appears, no other.
        credited = frame.index[(frame["conversions"] > 0) | (frame["value"] > 0)]
        assert sorted(sums.index) == sorted(credited)
    # The same on one thread.
    one = jl.attribute(j, level="journey", position_weights=weights, threads=1)
    pd.testing.assert_frame_equal(one, journey)


def test_by_team(abc_journeys: jl.Journeys) -> None:
    teams = {"a": "marketing", "b": "sales", "c": "sales"}
    out = jl.attribute(
        abc_journeys,
        ["linear", "markov", "simplified_shapley"],
        by="team",
        teams=teams,
        level="journey",
    )
    assert "team" in out.columns
    lin = out[out["method"] == "linear"]
    assert_credit(
        lin,
        {
            (0, "marketing"): (0.5, 5),
            (0, "sales"): (0.5, 5),
            (2, "marketing"): (1, 15),
            (2, "sales"): (1, 15),
        },
        key="team",
    )
    # Team removal effects: marketing (a) 5/6; sales (b and c) 1 - (0)/p = 1.
    re = jl.MarkovModel().fit(abc_journeys).removal_effects("team", teams=teams)
    assert dict(zip(re["team"], re["removal_effect"])) == pytest.approx(
        {"marketing": 5 / 6, "sales": 1.0}, rel=1e-12
    )
    markov = out[out["method"] == "markov"]
    assert_credit(
        markov,
        {
            (0, "marketing"): (5 / 11, 10 * (7 / 8) / (7 / 8 + 1)),
            (0, "sales"): (6 / 11, 10 / (7 / 8 + 1)),
            (2, "marketing"): (10 / 11, 30 * (7 / 8) / (7 / 8 + 1)),
            (2, "sales"): (12 / 11, 30 / (7 / 8 + 1)),
        },
        key="team",
    )
    model = jl.MarkovModel().fit(abc_journeys)
    pd.testing.assert_frame_equal(
        model.attribution("team", teams, level="journey"),
        markov.drop(columns="method").reset_index(drop=True),
    )


def test_customers_from_events() -> None:
    events = pd.DataFrame(
        {
            "customer": [7, 7, 7, 9, 9],
            "time": [0.0, 1.0, 2.0, 0.0, 1.0],
            "channel": ["a", "b", None, "b", "c"],
            "conversion": [0, 0, 1, 0, 0],
            "value": [0.0, 0.0, 50.0, 0.0, 0.0],
        }
    )
    j = jl.Journeys.from_events(events, time="time", conversion="conversion", value="value")
    out = jl.attribute(j, ["last_touch"], level="journey")
    assert list(out.columns) == [
        "method",
        "journey",
        "customer",
        "path",
        "channel",
        "conversions",
        "value",
    ]
    assert out["customer"].tolist() == [7, 7]
    assert out["channel"].tolist() == ["a", "b"]
    assert out["conversions"].tolist() == [0.0, 1.0]
    assert out["value"].tolist() == [0.0, 50.0]


def test_model_attribution_needs_its_journeys(abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    clone = pickle.loads(pickle.dumps(model))
    assert "_fit_journeys" not in clone.__dict__
    with pytest.raises(jl.InvalidInputError, match="pass journeys="):
        clone.attribution(level="journey")
    pd.testing.assert_frame_equal(
        clone.attribution(level="journey", journeys=abc_journeys),
        model.attribution(level="journey"),
    )
    counts_model = jl.MarkovModel().fit(model.counts_)
    with pytest.raises(jl.InvalidInputError, match="pass journeys="):
        counts_model.attribution(level="journey")
    with pytest.raises(jl.InvalidInputError, match="level must be"):
        model.attribution(level="row")  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match='"channel" or "team"'):
        model.attribution("group", groups={"g": ["a"]}, level="journey")
    other = jl.Journeys.from_paths(["a > z"], conversions=[1])
    with pytest.raises(jl.UnknownChannelError, match="'z'"):
        model.attribution(level="journey", journeys=other)


def test_position_weights(abc_journeys: jl.Journeys) -> None:
    j = jl.Journeys.from_paths(["a > b > c > d", "b > c"], conversions=[1, 2], value=[100.0, 0])
    out = jl.attribute(j, ["position_based"], position_weights=(0.3, 0.5))
    # Row 0: 0.3, 0.1, 0.1, 0.5; row 1 (two touches): 2 * 0.375, 2 * 0.625.
    assert out["conversions"].tolist() == pytest.approx([0.3, 0.85, 1.35, 0.5], rel=1e-14)
    assert out["value"].tolist() == pytest.approx([30, 10, 10, 50], rel=1e-14)
    per = jl.attribute(j, ["position_based"], position_weights=(0.3, 0.5), level="journey")
    assert per["conversions"].tolist() == pytest.approx([0.3, 0.1, 0.1, 0.5, 0.75, 1.25])
    # (0.4, 0.4) is the default, to the last bit.
    pd.testing.assert_frame_equal(
        jl.attribute(j, ["position_based"], position_weights=(0.4, 0.4)),
        jl.attribute(j, ["position_based"]),
        check_exact=True,
    )
    # The other methods ignore it.
    pd.testing.assert_frame_equal(
        jl.attribute(j, ["linear"], position_weights=(0.0, 1.0)), jl.attribute(j, ["linear"])
    )
    assert jl._core.heuristic_options(first_share=0.2).last_share is None


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ((0.6, 0.5), "first \\+ last must be at most 1"),
        ((-0.1, 0.5), "the first share must be a number in \\[0, 1\\]"),
        ((0.1, 1.5), "the last share must be a number in \\[0, 1\\]"),
        ((0.1, float("nan")), "the last share"),
        ((0.1, "x"), "the last share"),
        ((0.1,), "a pair \\(first, last\\), got 1 values"),
        ("0.4", "position_weights must be a pair"),
        (0.4, "position_weights must be a pair"),
    ],
)
def test_position_weights_errors(abc_journeys: jl.Journeys, weights: object, match: str) -> None:
    with pytest.raises(jl.InvalidInputError, match=match):
        jl.attribute(abc_journeys, ["position_based"], position_weights=weights)  # type: ignore[arg-type]


def test_core_checks_the_shares(abc_journeys: jl.Journeys) -> None:
    with pytest.raises(jl.InvalidInputError, match="first_share \\+ last_share"):
        jl._core.heuristic_attribution(
            abc_journeys._set,
            "position_based",
            jl._core.heuristic_options(first_share=0.7, last_share=0.4),
        )
    with pytest.raises(jl.InvalidInputError, match="last_share must be in \\[0, 1\\]"):
        jl._core.heuristic_journey_credit(
            abc_journeys._set, "position_based", jl._core.heuristic_options(last_share=-1.0)
        )


def test_bad_arguments(abc_journeys: jl.Journeys) -> None:
    with pytest.raises(jl.InvalidInputError, match="level must be"):
        jl.attribute(abc_journeys, level="rows")  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="threads must be a positive integer"):
        jl.attribute(abc_journeys, ["linear"], level="journey", threads=0)
    with pytest.raises(jl.InvalidInputError, match="finite and non-negative"):
        jl._core.proportional_journey_credit(abc_journeys._set, [1.0, -1.0, 1.0], [1.0] * 3)
    with pytest.raises(jl.InvalidInputError, match="2 weights for 3 channels"):
        jl._core.proportional_journey_credit(abc_journeys._set, [1.0, 1.0], [1.0] * 3)


def test_simplified_shapley_joins_attribute(abc_journeys: jl.Journeys) -> None:
    assert jl.METHODS[-1] == "simplified_shapley"
    out = jl.attribute(abc_journeys, ["simplified_shapley"])
    pd.testing.assert_frame_equal(out.drop(columns="method"), jl.simplified_shapley(abc_journeys))
    teams = {"a": "m", "b": "s", "c": "s", "x": "t"}
    by_team = jl.attribute(abc_journeys, ["simplified_shapley"], by="team", teams=teams)
    pd.testing.assert_frame_equal(
        by_team.drop(columns="method"),
        jl.simplified_shapley(abc_journeys, by="team", teams=teams),
    )


def test_no_crediting_rows() -> None:
    j = jl.Journeys.from_paths(["a > b", "b"], conversions=[0, 0], nulls=[1, 2])
    out = jl.attribute(j, ["linear", "simplified_shapley"], level="journey")
    assert len(out) == 0
    assert list(out.columns) == ["method", "journey", "path", "channel", "conversions", "value"]


def test_time_decay_by_time_by_hand() -> None:
    # a at 0, b at 4, the conversion at 8; half-life 4: weights 2**-2 and 2**-1, so a 1/3, b 2/3.
    events = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2],
            "time": [0.0, 4.0, 8.0, 0.0, 1.0],
            "channel": ["a", "b", None, "b", None],
            "conversion": [0, 0, 1, 0, 1],
            "value": [0.0, 0.0, 30.0, 0.0, 6.0],
        }
    )
    j = jl.Journeys.from_events(events, time="time", conversion="conversion", value="value")
    out = jl.attribute(j, ["time_decay"], half_life=4, level="journey")
    assert out["customer"].tolist() == [1, 1, 2]
    assert out["channel"].tolist() == ["a", "b", "b"]
    assert out["conversions"].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0], rel=1e-14)
    assert out["value"].tolist() == pytest.approx([10.0, 20.0, 6.0], rel=1e-14)
    total = jl.attribute(j, ["time_decay"], half_life=4).set_index("channel")
    summed = out.groupby("channel")[["conversions", "value"]].sum()
    assert summed["value"].to_dict() == pytest.approx(total["value"].to_dict(), rel=1e-14)
