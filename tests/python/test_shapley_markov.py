"""Markov Shapley values beyond exact enumeration (sampled orderings with
standard errors), the loop model's first and repeat purchase Shapley values,
and the skip removal rule, against hand-worked values and the exact values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl
from journeyloop import _core

# P: START -> a 2/3, b 1/3; a -> b 1/2, c 1/2; b -> CONVERSION 1/4, NULL 3/4;
# c -> CONVERSION 1. p = 1/2; value per journey 20/3 (10 through b, 15 through c).
ABC = jl.Journeys.from_paths(
    ["a > b", "b", "a > c"], conversions=[1, 0, 2], nulls=[1, 2, 0], value=[10, 0, 30]
)

# The loop chain of tests/python/test_loop.py (P is a purchase).
HAND = jl.Journeys.from_paths(
    ["a > purchase > b > purchase", "a > b", "b > purchase"],
    count=[1, 1, 2],
    value=[30.0, 0.0, 60.0],
    form="loop",
)


def random_paths(channels: int, rows: int, seed: int) -> jl.Journeys:
    rng = np.random.default_rng(seed)
    paths = [
        " > ".join(f"c{rng.integers(channels)}" for _ in range(rng.integers(1, 5)))
        for _ in range(rows)
    ]
    conv = rng.integers(0, 4, rows)
    return jl.Journeys.from_paths(
        paths,
        conversions=conv,
        nulls=rng.integers(1, 6, rows),
        value=conv * rng.integers(5, 25, rows),
    )


@pytest.fixture(scope="module")
def ten() -> jl.MarkovModel:
    model = jl.MarkovModel().fit(random_paths(10, 300, 2024))
    assert len(model.channels_) == 10
    return model


def test_sampled_agrees_with_exact_on_ten_players(ten: jl.MarkovModel) -> None:
    exact = ten.shapley(method="exact").set_index("channel")
    assert exact.attrs == {"method": "exact", "permutations": 0}
    assert list(exact.columns) == ["conversions", "value", "share"]
    s = ten.shapley(method="sampled", permutations=400, seed=5).set_index("channel")
    assert s.attrs == {"method": "sampled", "permutations": 400}
    assert list(s.columns) == ["conversions", "value", "share", "conversions_se", "value_se"]
    assert (s["conversions_se"] > 0).all()
    for col in ("conversions", "value"):
        gap = (s[col] - exact.loc[s.index, col]).abs()
        assert (gap < 4 * s[f"{col}_se"]).all(), (gap, s[f"{col}_se"])
    # Efficiency: the sampled values sum to the totals.
    assert s["conversions"].sum() == pytest.approx(exact["conversions"].sum(), rel=1e-12)
    assert s["value"].sum() == pytest.approx(exact["value"].sum(), rel=1e-12)
    assert s["share"].sum() == pytest.approx(1.0, rel=1e-12)
    # Ten players are fewer than the automatic limit? Then auto is exact.
    auto = ten.shapley()
    expected = "exact" if 10 <= _core.auto_exact_players else "sampled"
    assert auto.attrs["method"] == expected


def test_sampled_is_the_same_on_any_number_of_threads(ten: jl.MarkovModel) -> None:
    one = ten.shapley(method="sampled", permutations=40, seed=3, threads=1)
    two = ten.shapley(method="sampled", permutations=40, seed=3, threads=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    other = ten.shapley(method="sampled", permutations=40, seed=4, threads=2)
    assert not np.array_equal(one["conversions"], other["conversions"])


def test_progress_is_reported_per_pair(ten: jl.MarkovModel) -> None:
    calls: list[tuple[int, int]] = []
    ten.shapley(method="sampled", permutations=8, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_many_channels_are_sampled_by_default() -> None:
    # 30 channels, each on journeys of its own: the game is additive (v(S) sums
    # the conversion probabilities of S's journeys), so every ordering gives
    # each channel its own conversions, with no sampling error.
    paths = [f"c{i}" for i in range(30)]
    conv = list(range(1, 31))
    model = jl.MarkovModel().fit(jl.Journeys.from_paths(paths, conversions=conv, nulls=[1] * 30))
    s = model.shapley(permutations=4)
    assert s.attrs["method"] == "sampled"
    np.testing.assert_allclose(s["conversions"], conv, rtol=1e-12)
    np.testing.assert_allclose(s["conversions_se"], 0.0, atol=1e-12)
    with pytest.raises(jl.InvalidInputError, match="2\\^n"):
        model.shapley(method="exact")


def test_hand_worked_exact_and_sampled_abc() -> None:
    model = jl.MarkovModel().fit(ABC)
    exact = model.shapley(method="exact").set_index("channel")
    assert exact["conversions"].tolist() == pytest.approx([1.25, 0.75, 1.0], rel=1e-12)
    assert exact["value"].tolist() == pytest.approx([17.5, 7.5, 15.0], rel=1e-12)
    # With three players every antithetic pair is exact: a player first in one ordering is
    # last in its reverse (coalition sizes 0 and 2, each of Shapley weight 1/3), and in the
    # middle it meets each of the other two as its one predecessor (size 1, 1/6 each).
    s = model.shapley(method="sampled", permutations=200, seed=1).set_index("channel")
    np.testing.assert_allclose(s["conversions"], exact["conversions"], rtol=1e-12)
    np.testing.assert_allclose(s["value"], exact["value"], rtol=1e-12)
    assert (s["conversions_se"] < 1e-12).all()
    # By team: a player of two channels.
    teams = model.shapley(
        by="team", teams={"a": "x", "b": "y", "c": "x"}, method="sampled", permutations=4
    )
    # Two players: a pair of orderings is every ordering, so the values are exact.
    exact_teams = model.shapley(by="team", teams={"a": "x", "b": "y", "c": "x"})
    np.testing.assert_allclose(teams["conversions"], exact_teams["conversions"], rtol=1e-12)


def test_loop_shapley_has_first_and_repeat_columns() -> None:
    model = jl.MarkovModel().fit(HAND)
    assert isinstance(model, jl.LoopModel)
    sh = model.shapley().set_index("channel")
    assert list(sh.columns) == [
        "purchases",
        "value",
        "share",
        "first_purchases",
        "repeat_purchases",
    ]
    # Purchases: v(a) 1/4, v(b) 6/13, v(ab) 1 (tests/python/test_loop.py).
    assert sh.loc["a", "purchases"] == pytest.approx(41 / 26, rel=1e-13)
    # First purchases: v(a) = 1/4, v(b) = 3/8, v(ab) = 13/16; phi_a = 11/32,
    # phi_b = 15/32, scaled to the 3 buyers.
    assert sh.loc["a", "first_purchases"] == pytest.approx(33 / 26, rel=1e-12)
    assert sh.loc["b", "first_purchases"] == pytest.approx(45 / 26, rel=1e-12)
    # Repeat purchases: only b brings a customer back.
    assert sh.loc["a", "repeat_purchases"] == pytest.approx(0.0, abs=1e-13)
    assert sh.loc["b", "repeat_purchases"] == pytest.approx(1.0, rel=1e-12)
    s = model.shapley(method="sampled", permutations=4).set_index("channel")
    assert list(s.columns) == [
        "purchases",
        "value",
        "share",
        "first_purchases",
        "repeat_purchases",
        "purchases_se",
        "value_se",
        "first_purchases_se",
        "repeat_purchases_se",
    ]
    for col in ("purchases", "value", "first_purchases", "repeat_purchases"):
        np.testing.assert_allclose(s[col], sh[col], rtol=1e-12, atol=1e-13)


def test_skip_rule_by_hand() -> None:
    model = jl.MarkovModel().fit(ABC)
    null = model.removal_effects().set_index("channel")
    same = model.removal_effects(rule="null").set_index("channel")
    pd.testing.assert_frame_equal(null, same)
    skip = model.removal_effects(rule="skip").set_index("channel")
    # Skipping b loses only START -> b -> CONVERSION (1/12 of p = 1/2), a or c alone nothing.
    assert skip.loc["b", "removal_effect"] == pytest.approx(1 / 6, rel=1e-12)
    assert skip.loc["b", "value_removal_effect"] == pytest.approx(1 / 8, rel=1e-12)
    assert skip.loc["a", "removal_effect"] == pytest.approx(0.0, abs=1e-13)
    assert skip.loc["c", "removal_effect"] == pytest.approx(0.0, abs=1e-13)
    assert null.loc["b", "removal_effect"] == pytest.approx(1 / 3, rel=1e-12)
    team = model.removal_effects(by="team", teams={"a": "x", "b": "y", "c": "x"}, rule="skip")
    assert team.set_index("team").loc["x", "removal_effect"] == pytest.approx(2 / 3, rel=1e-12)
    seq = model.removal_effects(by="sequence", sequences=["b"], rule="skip")
    assert seq["removal_effect"].iloc[0] == pytest.approx(1 / 6, rel=1e-12)
    # Attribution under skip: b takes everything (the only channel with an effect).
    a = model.attribution(rule="skip").set_index("channel")
    assert a.loc["b", "conversions"] == pytest.approx(3.0, rel=1e-12)
    assert a["value"].sum() == pytest.approx(40.0, rel=1e-12)
    by_seq = model.attribution(by="sequence", sequences=["b", "a"], rule="skip")
    assert by_seq["conversions"].tolist() == pytest.approx([3.0, 0.0], abs=1e-12)
    with pytest.raises(jl.InvalidInputError, match='rule must be "null"'):
        model.removal_effects(rule="reconnect")  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match='rule must be "null"'):
        model.attribution(rule="drop")  # type: ignore[arg-type]


def test_skip_rule_in_the_loop_model() -> None:
    model = jl.MarkovModel().fit(HAND)
    e = model.removal_effects(rule="skip").set_index("channel")
    # h = 13/16: START -> b -> P (3/8) is lost without b, START -> a -> P (1/4) without a.
    assert e.loc["b", "first_purchase_removal_effect"] == pytest.approx(6 / 13, rel=1e-12)
    assert e.loc["a", "first_purchase_removal_effect"] == pytest.approx(4 / 13, rel=1e-12)
    # Every repeat goes PURCHASE -> b -> P: skipping b loses them all.
    assert e.loc["b", "repeat_purchase_removal_effect"] == pytest.approx(1.0, rel=1e-12)
    a = model.attribution(rule="skip")
    assert a["purchases"].sum() == pytest.approx(4.0, rel=1e-12)
    assert a["first_purchases"].sum() == pytest.approx(3.0, rel=1e-12)
    pd.testing.assert_frame_equal(model.attribution(rule="null"), model.attribution())


def test_bad_arguments(ten: jl.MarkovModel) -> None:
    with pytest.raises(jl.InvalidInputError, match="method must be"):
        ten.shapley(method="bootstrap")  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="even number >= 4"):
        ten.shapley(method="sampled", permutations=5)
    with pytest.raises(jl.InvalidInputError, match="permutations must be an integer"):
        ten.shapley(method="sampled", permutations=2)
    with pytest.raises(jl.InvalidInputError, match="seed must be"):
        ten.shapley(method="sampled", seed=-1)
    with pytest.raises(jl.InvalidInputError, match="threads must be"):
        ten.shapley(method="sampled", threads=1.5)  # type: ignore[arg-type]
    with pytest.raises(jl.UnknownChannelError):
        ten.shapley(by="group", groups={"g": ["nope"]})


def test_skip_rule_shapley_equals_null_rule_shapley_at_order_1() -> None:
    # Under skip, v(S) = p (1 - RE_skip(players outside S)); at order 1 its Shapley
    # values are those of the NULL-rule game (the dual game, shifted): brute force.
    from itertools import combinations, permutations

    model = jl.MarkovModel().fit(ABC)
    players = model.channels_
    p = model.conversion_rate_
    subsets = [frozenset(c) for k in range(4) for c in combinations(players, k)]
    groups = {",".join(sorted(t)) or "-": sorted(t) for t in subsets}
    effects = model.removal_effects(by="group", groups=groups, rule="skip").set_index("group")

    def v(s: frozenset[str]) -> float:
        outside = sorted(set(players) - s)
        return p * (1 - effects.loc[",".join(outside) or "-", "removal_effect"])

    phi = dict.fromkeys(players, 0.0)
    orders = list(permutations(players))
    for order in orders:
        s: frozenset[str] = frozenset()
        for c in order:
            phi[c] += (v(s | {c}) - v(s)) / len(orders)
            s = s | {c}
    total = float(ABC.total_conversions)
    exact = model.shapley().set_index("channel")["conversions"]
    for c in players:
        assert phi[c] / p * total == pytest.approx(exact[c], rel=1e-12)
