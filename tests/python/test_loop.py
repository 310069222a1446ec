"""The loop model: repeat purchases, exactly, against hand-worked values, the
observed means and a Monte-Carlo simulation of the same chain."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

# The chain of tests/cpp/test_loop_model.cpp (P is a purchase):
#   a > P > b > P   1 customer, value 30 (15 per purchase)
#   a > b           1 customer
#   b > P           2 customers, value 60
HAND = pd.DataFrame(
    {
        "history": ["a > purchase > b > purchase", "a > b", "b > purchase"],
        "customers": [1, 1, 2],
        "value": [30.0, 0.0, 60.0],
    }
)


@pytest.fixture
def hand() -> jl.MarkovModel:
    histories = jl.Journeys.from_paths(
        HAND, path="history", count="customers", value="value", form="loop"
    )
    return jl.MarkovModel(order=1).fit(histories)


def test_hand_worked_loop(hand: jl.MarkovModel) -> None:
    assert hand.is_loop_
    # h = 13/16, r = 3/16, E[purchases] = h / (1 - r) = 1 (4 purchases, 4 customers).
    assert hand.first_purchase_probability_ == pytest.approx(13 / 16, rel=1e-14)
    assert hand.repeat_probability_ == pytest.approx(3 / 16, rel=1e-14)
    assert hand.expected_purchases_ == pytest.approx(1.0, rel=1e-14)
    assert hand.expected_value_ == pytest.approx(22.5, rel=1e-14)
    assert hand.touches_to_first_purchase_ == pytest.approx(16 / 13, rel=1e-14)
    assert hand.touches_between_purchases_ == pytest.approx(1.0, rel=1e-14)
    re = hand.removal_effects().set_index("channel")
    assert re.loc["a", "removal_effect"] == pytest.approx(7 / 13, rel=1e-13)
    assert re.loc["b", "removal_effect"] == pytest.approx(3 / 4, rel=1e-13)
    assert re.loc["b", "repeat_purchase_removal_effect"] == pytest.approx(1.0, rel=1e-13)
    assert re.loc["a", "value_removal_effect"] == pytest.approx(19 / 39, rel=1e-13)
    text = hand.summary()
    assert "expected purchases per customer   1" in text
    with pytest.raises(jl.InvalidInputError, match="loop-form histories"):
        _ = hand.conversion_rate_
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(hand)


def test_attribution_sums_to_totals(hand: jl.MarkovModel) -> None:
    a = hand.attribution()
    assert a["purchases"].sum() == pytest.approx(4.0, rel=1e-12)
    assert a["value"].sum() == pytest.approx(90.0, rel=1e-12)
    assert a["first_purchases"].sum() == pytest.approx(3.0, rel=1e-12)
    assert a["repeat_purchases"].sum() == pytest.approx(1.0, rel=1e-12)
    # b alone brings customers back: all repeat purchases are b's.
    assert a.set_index("channel").loc["b", "repeat_purchases"] == pytest.approx(1.0)


def test_teams(hand: jl.MarkovModel) -> None:
    teams = {"a": "marketing", "b": "sales"}
    by_team = hand.attribution(by="team", teams=teams).set_index("team")
    assert by_team["purchases"].sum() == pytest.approx(4.0, rel=1e-12)
    re = hand.removal_effects(by="team", teams={"a": "x", "b": "x"}).set_index("team")
    # Removing every team leaves no purchase.
    assert re.loc["x", "removal_effect"] == pytest.approx(1.0, rel=1e-13)
    # A team with no channel gets nothing.
    extra = hand.attribution(by="team", teams={**teams, "c": "service"}).set_index("team")
    assert extra.loc["service", "purchases"] == 0


def test_loyalty_loop_rate(hand: jl.MarkovModel) -> None:
    assert hand.loyalty_loop_rate({"a": "evaluation"}) == pytest.approx(3 / 16, rel=1e-14)
    assert hand.loyalty_loop_rate({"b": "evaluation"}) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(jl.InvalidInputError, match="stages"):
        hand.loyalty_loop_rate()


def simulate_histories(rng: np.random.Generator, n: int) -> list[str]:
    """Customers walking a known loop chain over channels x, y, z."""
    # Transition probabilities from START, each channel and PURCHASE.
    table = {
        "START": {"x": 0.6, "y": 0.4},
        "x": {"y": 0.3, "z": 0.2, "P": 0.2, "END": 0.3},
        "y": {"x": 0.1, "z": 0.3, "P": 0.4, "END": 0.2},
        "z": {"x": 0.2, "y": 0.2, "P": 0.3, "END": 0.3},
        "P": {"x": 0.3, "z": 0.15, "P": 0.05, "END": 0.5},
    }
    steps = {s: (list(t), np.cumsum(list(t.values()))) for s, t in table.items()}
    out = []
    for _ in range(n):
        state, path = "START", []
        while True:
            targets, cum = steps[state]
            state = targets[int(np.searchsorted(cum, rng.random()))]
            if state == "END":
                break
            path.append("purchase" if state == "P" else state)
        out.append(" > ".join(path) if path else "")
    return out


def test_agrees_with_monte_carlo() -> None:
    """The exact expected purchases of a fitted loop chain lie within 4
    standard errors of a simulation of the same fitted chain."""
    rng = np.random.default_rng(7)
    histories = [h for h in simulate_histories(rng, 4000) if h]
    model = jl.MarkovModel(order=1, collapse_repeats=False).fit(
        jl.Journeys.from_paths(histories, form="loop")
    )
    # The exact value equals the observed mean of the data it was fitted on.
    observed = np.mean([h.split(" > ").count("purchase") for h in histories])
    assert model.expected_purchases_ == pytest.approx(observed, rel=1e-12)
    # Simulate the fitted chain itself (its own transition estimates).
    loop = model._loop_fit
    first = jl.MarkovModel._from_core(loop.first).transition_matrix()
    assert loop.repeat is not None
    repeat = jl.MarkovModel._from_core(loop.repeat).transition_matrix()
    rows: dict[str, dict[str, float]] = {}
    for f, t, p in zip(first["from"], first["to"], first["probability"], strict=True):
        rows.setdefault(f, {})[t] = p
    for f, t, p in zip(repeat["from"], repeat["to"], repeat["probability"], strict=True):
        if f == "START":
            rows.setdefault("PURCHASE", {})[t] = p
    sim = np.random.default_rng(11)
    counts = []
    for _ in range(20000):
        state, purchases = "START", 0
        while True:
            targets = list(rows[state])
            cum = np.cumsum([rows[state][t] for t in targets])
            nxt = targets[min(int(np.searchsorted(cum, sim.random())), len(targets) - 1)]
            if nxt == "CONVERSION":
                purchases += 1
                state = "PURCHASE"
            elif nxt == "NULL":
                break
            else:
                state = nxt
        counts.append(purchases)
    mean = float(np.mean(counts))
    se = float(np.std(counts, ddof=1) / np.sqrt(len(counts)))
    assert abs(mean - model.expected_purchases_) < 4 * se


def test_loop_from_events_equals_loop_from_paths() -> None:
    events = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2, 3],
            "time": [0, 1, 2, 0, 1, 0],
            "channel": ["a", "b", None, "b", "a", "a"],
            "conversion": [0, 1, 1, 0, 0, 1],
            "value": [0, 10.0, 5.0, 0, 0, 7.0],
        }
    )
    from_events = jl.Journeys.from_events(
        events, conversion="conversion", value="value", form="loop"
    )
    assert from_events.to_frame()["path"].tolist() == [
        "a > b > purchase > purchase",
        "b > a",
        "a > purchase",
    ]
    model = jl.MarkovModel().fit(from_events)
    assert model.expected_purchases_ == pytest.approx(3 / 3, rel=1e-12)
    assert model.expected_value_ == pytest.approx(22 / 3, rel=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_expected_figures_equal_observed_means(order: int) -> None:
    rng = np.random.default_rng(order)
    histories = [h for h in simulate_histories(rng, 500) if h]
    values = rng.integers(1, 50, len(histories)).astype(float)
    values = np.where([("purchase" in h) for h in histories], values, 0.0)
    model = jl.MarkovModel(order=order).fit(
        jl.Journeys.from_paths(histories, value=list(values), form="loop")
    )
    purchases = sum(h.split(" > ").count("purchase") for h in histories)
    assert model.expected_purchases_ == pytest.approx(purchases / len(histories), rel=1e-10)
    assert model.expected_value_ == pytest.approx(values.sum() / len(histories), rel=1e-10)
