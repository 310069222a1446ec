"""The loop model: repeat purchases, exactly, against hand-worked values, the
observed means and a Monte-Carlo simulation of the same chain."""

from __future__ import annotations

import pickle
from pathlib import Path

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


def hand_histories() -> jl.Journeys:
    return jl.Journeys.from_paths(
        HAND, path="history", count="customers", value="value", form="loop"
    )


@pytest.fixture
def hand() -> jl.LoopModel:
    model = jl.MarkovModel(order=1).fit(hand_histories())
    assert isinstance(model, jl.LoopModel)
    return model


def test_hand_worked_loop(hand: jl.LoopModel) -> None:
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


def test_attribution_sums_to_totals(hand: jl.LoopModel) -> None:
    a = hand.attribution()
    assert a["purchases"].sum() == pytest.approx(4.0, rel=1e-12)
    assert a["value"].sum() == pytest.approx(90.0, rel=1e-12)
    assert a["first_purchases"].sum() == pytest.approx(3.0, rel=1e-12)
    assert a["repeat_purchases"].sum() == pytest.approx(1.0, rel=1e-12)
    # b alone brings customers back: all repeat purchases are b's.
    assert a.set_index("channel").loc["b", "repeat_purchases"] == pytest.approx(
        1.0, rel=1e-12, abs=1e-12
    )


def test_repeat_purchases_no_channel_brings_are_announced() -> None:
    # a > P > P: the second purchase follows the first with no touch between;
    # removing a changes the first purchases (and so all purchases and value),
    # but not the repeat purchases per buyer, so the one repeat purchase has
    # nothing to be shared by.
    histories = jl.Histories.from_paths(
        ["a > purchase > purchase", "b"], count=[1, 1], value=[20.0, 0.0]
    )
    model = jl.MarkovModel(order=1).fit(histories)
    with pytest.warns(jl.DataWarning, match=r"none of them is attributed: repeat_purchases 1 \("):
        a = model.attribution()
    a = a.set_index("channel")
    assert a["purchases"].sum() == pytest.approx(2.0, rel=1e-12)
    assert a["value"].sum() == pytest.approx(20.0, rel=1e-12)
    assert a["first_purchases"].sum() == pytest.approx(1.0, rel=1e-12)
    assert a["repeat_purchases"].tolist() == [0.0, 0.0]
    assert model.removal_effects()["repeat_purchase_removal_effect"].tolist() == [0.0, 0.0]


def test_a_value_too_small_to_represent_is_announced() -> None:
    # 1e-300 conversions carry all the value beside 1e300 that carry none: the
    # value per journey is below the smallest double, so no channel's removal
    # changes it and none of it is shared out.
    journeys = jl.Journeys.from_paths(
        ["email", "search"], conversions=[1e300, 1e-300], nulls=[0, 0], value=[0.0, 1.0]
    )
    model = jl.MarkovModel(order=1).fit(journeys)
    with pytest.warns(jl.DataWarning, match=r"none of them is attributed: value 1 \("):
        a = model.attribution()
    assert a["value"].tolist() == [0.0, 0.0]
    assert a["conversions"].sum() == pytest.approx(1e300, rel=1e-12)


# The hand-worked splits. START -> a 1/2, b 1/2; a -> PURCHASE 1/2, b 1/2; b -> PURCHASE 3/4,
# exit 1/4; PURCHASE -> b 1/4, exit 3/4: h = 13/16, r = 3/16. Without a: h = 3/8, r = 3/16;
# without b: h = 1/4, r = 0. Removal effects: first purchases a 7/13, b 9/13; repeat purchases
# a 0, b 1; all purchases (E = h / (1 - r) = 1; without a 6/13, without b 1/4) a 7/13, b 3/4;
# value a 19/39, b 5/6. Each total is split in proportion to its removal effects:
# 3 first purchases 21/16 : 27/16, 1 repeat 0 : 1, 4 purchases 112/67 : 156/67 (7/13 : 3/4 =
# 28 : 39), value 90 as 3420/103 : 5850/103 (19/39 : 5/6 = 38 : 65).
HAND_SPLIT = {
    "purchases": (112 / 67, 156 / 67),
    "value": (3420 / 103, 5850 / 103),
    "share": (28 / 67, 39 / 67),
    "first_purchases": (21 / 16, 27 / 16),
    "repeat_purchases": (0.0, 1.0),
}
HAND_EFFECTS = {
    "removal_effect": (7 / 13, 3 / 4),
    "value_removal_effect": (19 / 39, 5 / 6),
    "first_purchase_removal_effect": (7 / 13, 9 / 13),
    "repeat_purchase_removal_effect": (0.0, 1.0),
}


def exact(x: float) -> object:
    return pytest.approx(x, rel=1e-12, abs=1e-12)


def test_hand_worked_splits(hand: jl.LoopModel) -> None:
    a = hand.attribution()
    assert a["channel"].tolist() == ["a", "b"]
    for column, expected in HAND_SPLIT.items():
        assert a[column].tolist() == [exact(x) for x in expected], column
    re = hand.removal_effects()
    assert re["channel"].tolist() == ["a", "b"]
    for column, expected in HAND_EFFECTS.items():
        assert re[column].tolist() == [exact(x) for x in expected], column


def test_teams(hand: jl.LoopModel) -> None:
    teams = {"a": "marketing", "b": "sales"}
    by_team = hand.attribution(by="team", teams=teams)
    assert by_team["purchases"].sum() == pytest.approx(4.0, rel=1e-12)
    # One channel per team: each team gets its channel's exact split (test_hand_worked_splits).
    assert by_team["team"].tolist() == ["marketing", "sales"]
    for column, expected in HAND_SPLIT.items():
        assert by_team[column].tolist() == [exact(x) for x in expected], column
    team_re = hand.removal_effects(by="team", teams=teams)
    assert team_re["team"].tolist() == ["marketing", "sales"]
    for column, expected in HAND_EFFECTS.items():
        assert team_re[column].tolist() == [exact(x) for x in expected], column
    re = hand.removal_effects(by="team", teams={"a": "x", "b": "x"}).set_index("team")
    # Removing every team leaves no purchase, first or repeat, and no value.
    for column in HAND_EFFECTS:
        assert re.loc["x", column] == exact(1.0), column
    both = hand.attribution(by="team", teams={"a": "x", "b": "x"}).set_index("team")
    assert both.loc["x", "purchases"] == exact(4.0)
    assert both.loc["x", "value"] == exact(90.0)
    assert both.loc["x", "first_purchases"] == exact(3.0)
    assert both.loc["x", "repeat_purchases"] == exact(1.0)
    # A team with no channel gets nothing; the others keep their split.
    extra = hand.attribution(by="team", teams={**teams, "c": "service"}).set_index("team")
    assert extra.loc["service"].drop("share").tolist() == [0.0] * 4
    assert extra.loc["sales", "purchases"] == exact(156 / 67)


def test_loyalty_loop_rate(hand: jl.LoopModel) -> None:
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
    # Simulate the fitted loop chain itself (its own transition estimates).
    assert isinstance(model, jl.LoopModel)
    matrix = model.transition_matrix()
    rows: dict[str, dict[str, float]] = {}
    for f, t, p in zip(matrix["from"], matrix["to"], matrix["probability"], strict=True):
        rows.setdefault(f, {})[t] = p
    sim = np.random.default_rng(11)
    counts = []
    for _ in range(20000):
        state, purchases = "START", 0
        while state != "END":
            targets = list(rows[state])
            cum = np.cumsum([rows[state][t] for t in targets])
            state = targets[min(int(np.searchsorted(cum, sim.random())), len(targets) - 1)]
            purchases += state == "PURCHASE"
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


# --- the loop model as its own type ---------------------------------------------


def test_one_entry_point_returns_the_loop_model() -> None:
    funnel_model = jl.MarkovModel(order=1, smoothing=0.5)
    loop = funnel_model.fit(hand_histories())
    assert type(loop) is jl.LoopModel
    assert (loop.order, loop.smoothing, loop.collapse_repeats) == (1, 0.5, True)
    # The MarkovModel it was called on stays unfitted, and says why.
    with pytest.raises(jl.NotFittedError, match=r"fit\(\) returned a LoopModel; write model = "):
        _ = funnel_model.conversion_rate_
    assert "fitted" not in repr(funnel_model)
    # LoopModel fits histories, and refuses funnel journeys.
    direct = jl.LoopModel(order=1).fit(hand_histories())
    assert direct.expected_purchases_ == pytest.approx(1.0, rel=1e-14)
    funnel = jl.Journeys.from_paths(["a > b"], conversions=[1], nulls=[1])
    with pytest.raises(jl.InvalidInputError, match="LoopModel fits loop-form histories"):
        jl.LoopModel().fit(funnel)
    with pytest.raises(jl.InvalidInputError, match="no padded form"):
        jl.MarkovModel(padded=True).fit(hand_histories())
    with pytest.raises(jl.NotFittedError, match="LoopModel is not fitted yet"):
        _ = jl.LoopModel().expected_purchases_


def test_figures_of_the_other_form_are_not_attributes(hand: jl.LoopModel) -> None:
    with pytest.raises(jl.NotApplicableError, match="conversion_rate_ is a figure of the funnel"):
        _ = hand.conversion_rate_
    assert issubclass(jl.NotApplicableError, AttributeError)
    assert issubclass(jl.NotApplicableError, jl.InvalidInputError)
    assert not hasattr(hand, "conversion_rate_")
    assert not hasattr(hand, "counts_")
    assert hasattr(hand, "expected_purchases_")
    assert "conversion_rate_" not in dir(hand)
    assert "expected_purchases_" in dir(hand)
    funnel = jl.MarkovModel().fit(jl.Journeys.from_paths(["a > b"], conversions=[1], nulls=[1]))
    assert not hasattr(funnel, "expected_purchases_")
    assert not hasattr(funnel, "loyalty_loop_rate")
    assert "repeat_probability_" not in dir(funnel)
    assert "conversion_rate_" in dir(funnel)
    with pytest.raises(jl.NotApplicableError, match="figure of the loop model"):
        _ = funnel.expected_purchases_
    # A name of neither form is a plain AttributeError.
    with pytest.raises(AttributeError) as err:
        _ = hand.no_such_figure_
    assert not isinstance(err.value, jl.NotApplicableError)


def test_states_and_transitions(hand: jl.LoopModel) -> None:
    # The chain of tests/cpp/test_loop_model.cpp, state by state.
    assert hand.n_states_ == 5
    assert hand.channels_ == ["a", "b"]
    states = hand.states()
    assert states["state"].tolist() == ["START", "PURCHASE", "END", "a", "b"]
    assert states["purchase_probability"].tolist() == pytest.approx(
        [13 / 16, 3 / 16, 0, 7 / 8, 3 / 4], rel=1e-14
    )
    assert states["expected_visits"].tolist() == pytest.approx([1, 1, 1, 0.5, 1], rel=1e-14)
    t = hand.transition_matrix()
    assert list(t.columns) == ["from", "to", "count", "probability"]
    assert list(zip(t["from"], t["to"], t["count"], strict=True)) == [
        ("START", "a", 2),
        ("START", "b", 2),
        ("PURCHASE", "END", 3),
        ("PURCHASE", "b", 1),
        ("a", "PURCHASE", 1),
        ("a", "b", 1),
        ("b", "PURCHASE", 3),
        ("b", "END", 1),
    ]
    assert t["probability"].tolist() == pytest.approx(
        [0.5, 0.5, 0.75, 0.25, 0.5, 0.5, 0.75, 0.25], rel=1e-15
    )


def test_graph_loops_and_top_paths(hand: jl.LoopModel) -> None:
    assert hand.loops() == [["PURCHASE", "b"]]
    paths = hand.top_paths(5)
    assert paths["path"].tolist() == ["b", "a", "a > b"]
    assert paths["probability"].tolist() == pytest.approx([3 / 8, 1 / 4, 3 / 16], rel=1e-14)
    dot = hand.to_dot()
    assert 'label="PURCHASE", shape=box' in dot
    assert 'label="END", shape=doublecircle' in dot
    assert '<data key="label">PURCHASE</data>' in hand.to_graphml()
    g = hand.to_networkx()
    assert g.nodes["PURCHASE"]["expected_visits"] == pytest.approx(1.0, rel=1e-14)
    assert g.nodes["a"]["purchase_probability"] == pytest.approx(7 / 8, rel=1e-14)
    assert g.edges["PURCHASE", "b"]["probability"] == pytest.approx(0.25, rel=1e-15)


def test_attribution_and_shapley_by_hand(hand: jl.LoopModel) -> None:
    # Removal effects a 7/13, b 3/4 share the 4 purchases: 112/67 and 156/67.
    a = hand.attribution().set_index("channel")
    assert a.loc["a", "purchases"] == pytest.approx(112 / 67, rel=1e-13)
    assert a.loc["b", "share"] == pytest.approx(39 / 67, rel=1e-13)
    assert a.loc["a", "first_purchases"] == pytest.approx(21 / 16, rel=1e-13)
    # v(S) = expected purchases: v({a}) 1/4, v({b}) 6/13, v({a, b}) 1.
    sh = hand.shapley().set_index("channel")
    assert list(sh.columns) == [
        "purchases",
        "value",
        "share",
        "first_purchases",
        "repeat_purchases",
    ]
    assert sh.loc["a", "purchases"] == pytest.approx(41 / 26, rel=1e-13)
    assert sh.loc["b", "purchases"] == pytest.approx(63 / 26, rel=1e-13)
    assert sh["value"].sum() == pytest.approx(90.0, rel=1e-12)
    assert sh["share"].sum() == pytest.approx(1.0, rel=1e-12)
    teams = hand.shapley(by="team", teams={"a": "x", "b": "y"}).set_index("team")
    assert teams.loc["x", "purchases"] == pytest.approx(41 / 26, rel=1e-13)
    with pytest.raises(jl.InvalidInputError, match='not "sequence"'):
        hand.attribution(by="sequence")  # type: ignore[arg-type]


def test_save_load_pickle(hand: jl.LoopModel, tmp_path: Path) -> None:
    hand.stages_ = {"a": "awareness", "b": "evaluation"}
    for again in (
        jl.LoopModel.from_bytes(hand.to_bytes()),
        pickle.loads(pickle.dumps(hand)),
    ):
        assert type(again) is jl.LoopModel
        assert again.expected_purchases_ == hand.expected_purchases_
        assert again.expected_value_ == hand.expected_value_
        assert again.stages_ == hand.stages_
        assert again.loyalty_loop_rate() == hand.loyalty_loop_rate()
        pd.testing.assert_frame_equal(again.transition_matrix(), hand.transition_matrix())
    path = tmp_path / "loop.jl"
    hand.save(path)
    assert jl.LoopModel.load(path).repeat_probability_ == hand.repeat_probability_
    with pytest.raises(jl.InvalidInputError, match="holds a loop_model, expected a markov_model"):
        jl.MarkovModel.load(path)
    with pytest.raises(jl.NotFittedError):
        jl.LoopModel().to_bytes()
    unfitted = pickle.loads(pickle.dumps(jl.LoopModel(order=2)))
    assert repr(unfitted) == "LoopModel(order=2)"


def test_repr_shows_the_fitted_figures(hand: jl.LoopModel) -> None:
    assert repr(hand) == (
        "LoopModel(order=1, fitted: 5 states, expected purchases 1, repeat probability 0.1875)"
    )


def test_attribute_compares_methods_on_funnel_journeys_only() -> None:
    with pytest.raises(jl.InvalidInputError, match="attribute\\(\\) attributes funnel journeys"):
        jl.attribute(hand_histories(), methods=["markov"])


def test_token_lists_refuse_a_channel_holding_the_separator() -> None:
    # Token lists are joined for the core, which splits them again: a channel
    # holding the separator would silently become two.
    h = jl.Histories.from_paths([["a", "purchase"], ["b"]], count=[2, 3])
    assert h.channels == ["a", "b"]
    assert h.total_customers == 5
    with pytest.raises(
        jl.InvalidInputError,
        match=r"row 1, column 'path': the channel 'x > y' holds the separator '>'",
    ):
        jl.Histories.from_paths([["a", "purchase"], ["x > y"]], count=[2, 3])


def test_progress_of_a_loop_fit() -> None:
    rng = np.random.default_rng(3)
    names = ["a", "b", "c", "purchase"]
    paths = [" > ".join(names[i] for i in rng.integers(0, 4, 6)) for _ in range(9000)]
    paths = [p if not p.startswith("purchase") else "a > " + p for p in paths]
    histories = jl.Histories.from_paths(paths, count=np.ones(len(paths)))
    calls: list[tuple[int, int]] = []
    model = jl.LoopModel(order=2).fit(histories, progress=lambda d, t: calls.append((d, t)))
    assert model.expected_purchases_ == jl.LoopModel(order=2).fit(histories).expected_purchases_
    rows = [c for c in calls if c[1] == len(histories)]
    assert rows == [(4096, 9000), (8192, 9000), (9000, 9000)]
    states = calls[len(rows) :]
    total = states[-1][1]
    assert states[-1] == (total, total)
    assert all(t == total for _, t in states)
    assert [d for d, _ in states] == sorted({d for d, _ in states})
    # The same progress through MarkovModel's entry point.
    calls.clear()
    jl.MarkovModel(order=2).fit(histories, progress=lambda d, t: calls.append((d, t)))
    assert calls == rows + states
