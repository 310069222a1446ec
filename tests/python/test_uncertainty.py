"""Intervals: bootstrap and Bayesian replicates of the fitted figures (docs/uncertainty.md)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl


def journeys() -> jl.Journeys:
    return jl.Journeys.from_paths(
        ["a > b", "b", "a > c", "c > b", "a"],
        conversions=[30, 0, 20, 10, 5],
        nulls=[30, 20, 0, 25, 40],
        value=[300, 0, 400, 50, 20],
    )


def test_order1_bootstrap_rate_is_the_resampled_rate_and_intervals_bracket_the_estimate() -> None:
    model = jl.MarkovModel().fit(journeys())
    f = model.figures(ci=0.95, n_boot=400, seed=1)
    assert f["figure"].tolist() == ["conversion_rate", "value_per_journey"]
    assert f["estimate"][0] == pytest.approx(65 / 180, abs=1e-12)
    # Each replicate's rate is its resampled conversions over 180: a binomial
    # proportion, whose 95% interval is about +-1.96 sd wide.
    sd = np.sqrt(65 / 180 * (1 - 65 / 180) / 180)
    lower, upper = f["estimate_lower"][0], f["estimate_upper"][0]
    assert lower < 65 / 180 < upper
    assert (upper - lower) == pytest.approx(2 * 1.96 * sd, rel=0.15)
    # The replicate rates are multiples of 1/180.
    assert lower * 180 == pytest.approx(round(lower * 180), abs=1e-9)
    assert f.attrs["ci"] == 0.95


def test_attribution_intervals_hold_the_estimate_and_the_same_seed_repeats() -> None:
    model = jl.MarkovModel().fit(journeys())
    a = model.attribution(ci=0.9, n_boot=300, seed=5)
    assert list(a.columns) == [
        "channel",
        "conversions",
        "conversions_lower",
        "conversions_upper",
        "value",
        "value_lower",
        "value_upper",
        "share",
    ]
    plain = model.attribution()
    pd.testing.assert_series_equal(a["conversions"], plain["conversions"])
    assert (a["conversions_lower"] <= a["conversions"] + 1e-9).all()
    assert (a["conversions"] <= a["conversions_upper"] + 1e-9).all()
    assert (a["conversions_lower"] >= 0).all()
    assert (a["conversions_upper"] <= 65 + 1e-9).all()
    again = model.attribution(ci=0.9, n_boot=300, seed=5)
    pd.testing.assert_frame_equal(a, again)
    other = model.attribution(ci=0.9, n_boot=300, seed=6)
    assert not np.allclose(a["conversions_lower"], other["conversions_lower"])


def test_removal_effects_and_teams_and_shapley_get_intervals() -> None:
    model = jl.MarkovModel().fit(journeys())
    re = model.removal_effects(ci=0.95, n_boot=200)
    assert {"removal_effect_lower", "removal_effect_upper", "value_removal_effect_lower"} <= set(
        re.columns
    )
    assert (re["removal_effect_lower"] <= re["removal_effect_upper"]).all()
    assert ((re["removal_effect_lower"] >= 0) & (re["removal_effect_upper"] <= 1)).all()
    teams = {"a": "marketing", "b": "sales", "c": "sales"}
    t = model.attribution("team", teams, ci=0.95, n_boot=200)
    assert t["team"].tolist() == ["marketing", "sales"]
    # Two teams share all conversions in every replicate: their bounds mirror.
    assert t["conversions_lower"][0] == pytest.approx(65 - t["conversions_upper"][1], abs=1e-9)
    s = model.shapley(ci=0.95, n_boot=200)
    assert (s["conversions_lower"] <= s["conversions"] + 1e-9).all()
    assert (s["conversions"] <= s["conversions_upper"] + 1e-9).all()


def test_bayes_needs_only_counts_and_bootstrap_needs_the_journeys() -> None:
    model = jl.MarkovModel().fit(journeys())
    restored = pickle.loads(pickle.dumps(model))
    with pytest.raises(jl.InvalidInputError, match="uncertainty='bayes'"):
        restored.attribution(ci=0.95, n_boot=50)
    b = restored.attribution(ci=0.95, n_boot=200, uncertainty="bayes", prior=1.0)
    assert (b["conversions_lower"] <= b["conversions_upper"]).all()
    counts = jl.TransitionCounts.from_journeys(journeys(), 1)
    from_counts = jl.MarkovModel().fit(counts)
    f = from_counts.figures(ci=0.95, n_boot=200, uncertainty="bayes")
    assert f["estimate_lower"][0] < f["estimate"][0] < f["estimate_upper"][0]


def test_event_journeys_resample_customers() -> None:
    events = pd.DataFrame(
        {
            "customer": [1, 1, 1, 1, 1, 2, 3, 3],
            "time": [0, 1, 2, 3, 4, 0, 0, 1],
            "channel": ["a", "b", None, "a", None, "b", "c", None],
            "conversion": [0, 0, 1, 0, 1, 0, 0, 1],
        }
    )
    j = jl.Journeys.from_events(
        events, customer="customer", time="time", channel="channel", conversion="conversion"
    )
    model = jl.MarkovModel().fit(j)
    f = model.figures(ci=0.95, n_boot=300)
    # Three customers are drawn: the rate of a replicate is a ratio of their
    # journeys (customer 1: two conversions; 2: a null; 3: a conversion).
    possible = set()
    for n1 in range(4):
        for n2 in range(4 - n1):
            n3 = 3 - n1 - n2
            total = 2 * n1 + n2 + n3
            possible.add(round((2 * n1 + n3) / total, 12))
    assert round(f["estimate_lower"][0], 12) in possible
    assert round(f["estimate_upper"][0], 12) in possible


def test_attribute_gives_lower_and_upper_for_every_method() -> None:
    j = journeys()
    out = jl.attribute(j, ["first_touch", "linear", "markov", "shapley"], ci=0.95, n_boot=200)
    assert {"lower", "upper", "value_lower", "value_upper"} <= set(out.columns)
    assert (out["lower"] <= out["conversions"] + 1e-9).all()
    assert (out["conversions"] <= out["upper"] + 1e-9).all()
    # First touch of a replicate: the credit of "a" is the resampled
    # conversions of rows starting with a, over the replicate's conversions.
    ft = out[out["method"] == "first_touch"].set_index("channel")
    assert ft.loc["a", "lower"] < 55 < ft.loc["a", "upper"]
    teams = {"a": "marketing", "b": "sales", "c": "sales"}
    by_team = jl.attribute(j, ["linear", "markov"], by="team", teams=teams, ci=0.9, n_boot=100)
    lin = by_team[by_team["method"] == "linear"]
    assert lin["lower"].iloc[0] == pytest.approx(65 - lin["upper"].iloc[1], abs=1e-9)
    with pytest.raises(jl.InvalidInputError, match="heuristics do not"):
        jl.attribute(j, ["linear"], ci=0.9, uncertainty="bayes")
    bayes = jl.attribute(j, ["markov"], ci=0.9, uncertainty="bayes", n_boot=100)
    assert (bayes["lower"] <= bayes["upper"]).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ci": 1.5}, "between 0 and 1"),
        ({"ci": "95%"}, "a number such as 0.95"),
        ({"ci": 0.9, "n_boot": 1}, "n_boot"),
        ({"ci": 0.9, "uncertainty": "jackknife"}, "bootstrap' or 'bayes"),
        ({"ci": 0.9, "prior": -1.0}, "prior"),
        ({"ci": 0.9, "seed": -1}, "seed"),
    ],
)
def test_bad_interval_arguments(kwargs: dict[str, object], match: str) -> None:
    model = jl.MarkovModel().fit(journeys())
    with pytest.raises(jl.InvalidInputError, match=match):
        model.attribution(**kwargs)  # type: ignore[arg-type]


def test_progress_reports_replicates_and_sequences_are_refused() -> None:
    model = jl.MarkovModel(order=2).fit(journeys())
    calls: list[tuple[int, int]] = []
    model.figures(ci=0.9, n_boot=20, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (20, 20)
    assert len(calls) == 20
    with pytest.raises(jl.InvalidInputError, match="sequences"):
        model.attribution("sequence", sequences=["a > b"], ci=0.9)


def histories() -> jl.Histories:
    return jl.Histories.from_paths(
        [
            "a > b > purchase > c > purchase",
            "b > purchase > a",
            "a > c",
            "c > purchase > purchase > b",
            "b > a > b > purchase > c",
        ],
        count=[30, 50, 70, 20, 40],
        value=[600, 250, 0, 300, 400],
    )


def test_loop_model_intervals_by_customer_and_by_posterior() -> None:
    loop = jl.MarkovModel().fit(histories())
    assert isinstance(loop, jl.LoopModel)
    f = loop.figures(ci=0.95, n_boot=300, seed=2)
    assert f["figure"].tolist() == [
        "expected_purchases",
        "expected_value",
        "first_purchase_probability",
        "repeat_probability",
    ]
    assert f["estimate"][0] == pytest.approx(loop.expected_purchases_, abs=1e-12)
    assert (f["estimate_lower"] <= f["estimate"] + 1e-12).all()
    assert (f["estimate"] <= f["estimate_upper"] + 1e-12).all()
    a = loop.attribution(ci=0.9, n_boot=200)
    for column in ("purchases", "value", "first_purchases", "repeat_purchases"):
        assert (a[f"{column}_lower"] <= a[column] + 1e-9).all()
        assert (a[column] <= a[f"{column}_upper"] + 1e-9).all()
    re = loop.removal_effects(ci=0.9, n_boot=200, uncertainty="bayes")
    assert {"first_purchase_removal_effect_lower", "repeat_purchase_removal_effect_upper"} <= set(
        re.columns
    )
    s = loop.shapley(ci=0.9, n_boot=100)
    assert (s["purchases_lower"] <= s["purchases_upper"]).all()
    restored = pickle.loads(pickle.dumps(loop))
    with pytest.raises(jl.InvalidInputError, match="uncertainty='bayes'"):
        restored.figures(ci=0.9, n_boot=10)
    assert len(restored.figures(ci=0.9, n_boot=10, uncertainty="bayes")) == 4


def test_a_backed_off_model_backs_off_every_bootstrap_replicate() -> None:
    j = jl.Journeys.from_paths(
        ["a > b > c", "b > a > b", "a > b > a", "c", "c > a > b > c", "a > c > b"],
        conversions=[10, 0, 10, 10, 20, 1],
        nulls=[10, 10, 0, 10, 10, 2],
    )
    backed = jl.MarkovModel(order=2, min_count=5).fit(j)
    plain = jl.MarkovModel(order=2).fit(j)
    assert backed.n_states_ < plain.n_states_
    a = backed.attribution(ci=0.9, n_boot=200, seed=3)
    assert (a["conversions_lower"] <= a["conversions"] + 1e-9).all()
    assert (a["conversions"] <= a["conversions_upper"] + 1e-9).all()
    b = plain.attribution(ci=0.9, n_boot=200, seed=3)
    assert not np.allclose(a["conversions_lower"], b["conversions_lower"])


def test_simplified_shapley_intervals_and_journey_level_refusal() -> None:
    j = journeys()
    out = jl.attribute(j, ["simplified_shapley"], ci=0.9, n_boot=200)
    assert (out["lower"] <= out["conversions"] + 1e-9).all()
    assert (out["conversions"] <= out["upper"] + 1e-9).all()
    teams = {"a": "marketing", "b": "sales", "c": "sales"}
    t = jl.attribute(j, ["simplified_shapley"], by="team", teams=teams, ci=0.9, n_boot=100)
    assert t["team"].tolist() == ["marketing", "sales"]
    assert t["lower"].iloc[0] == pytest.approx(65 - t["upper"].iloc[1], abs=1e-9)
    with pytest.raises(jl.InvalidInputError, match="level='total'"):
        jl.attribute(j, ["linear"], level="journey", ci=0.9)
