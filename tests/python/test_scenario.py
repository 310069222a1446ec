"""What-if scenarios (jl.Scenario, model.apply, jl.compare) and sensitivities.

The small chains are worked by hand (see tests/cpp/test_scenario.cpp):

funnel ``abc``: START -> a 2/3, START -> b 1/3; a -> b 1/2, a -> c 1/2;
b -> CONVERSION 1/4 (value 10), b -> NULL 3/4; c -> CONVERSION 1 (value 15).
x(b) = 1/4, x(c) = 1, x(a) = 5/8, p = 1/2, value per journey 20/3, 6 journeys.

loop: START -> a 1/2, START -> b 1/2; a -> PURCHASE 1/2, a -> b 1/2;
b -> PURCHASE 3/4, b -> END 1/4; PURCHASE -> b 1/4, PURCHASE -> END 3/4.
h = 13/16, r = 3/16, E = 1, 4 customers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

TIGHT = 1e-12


def abc(order: int = 1) -> jl.MarkovModel:
    j = jl.Journeys.from_paths(
        ["a > b", "b", "a > c"], conversions=[1, 0, 2], nulls=[1, 2, 0], value=[10, 0, 30]
    )
    return jl.MarkovModel(order=order).fit(j)  # type: ignore[return-value]


def loop() -> jl.LoopModel:
    h = jl.Histories.from_paths(
        ["a > purchase > b > purchase", "a > b", "b > purchase"], count=[1, 1, 2], value=[30, 0, 60]
    )
    return jl.LoopModel().fit(h)


def test_empty_scenario_reproduces_the_model() -> None:
    m = abc()
    same = m.apply(jl.Scenario("nothing"))
    assert type(same) is jl.MarkovModel
    assert same.conversion_rate_ == pytest.approx(0.5, abs=TIGHT)
    assert same.value_per_journey_ == pytest.approx(20 / 3, abs=TIGHT)
    a, b = m.removal_effects(), same.removal_effects()
    assert a["channel"].tolist() == b["channel"].tolist()
    np.testing.assert_allclose(b["removal_effect"], a["removal_effect"], atol=TIGHT, rtol=0)
    np.testing.assert_allclose(
        b.filter(like="value").to_numpy(), a.filter(like="value").to_numpy(), atol=1e-11, rtol=0
    )
    np.testing.assert_allclose(
        m.attribution()["conversions"], same.attribution()["conversions"], atol=1e-11, rtol=0
    )
    back = jl.MarkovModel.from_bytes(same.to_bytes())
    assert back.conversion_rate_ == pytest.approx(0.5, abs=TIGHT)
    lp = loop()
    lsame = lp.apply(jl.Scenario())
    assert type(lsame) is jl.LoopModel
    assert lsame.expected_purchases_ == pytest.approx(1.0, abs=TIGHT)
    assert lsame.expected_value_ == pytest.approx(lp.expected_value_, abs=1e-11)
    assert lsame.repeat_probability_ == pytest.approx(3 / 16, abs=TIGHT)
    assert jl.LoopModel.from_bytes(lsame.to_bytes()).expected_purchases_ == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("scenario", "p"),
    [
        (jl.Scenario().remove("c"), 1 / 6),
        (jl.Scenario().scale("a", "c", 1.5), 5 / 8),
        (jl.Scenario().set("b", "CONVERSION", 0.5), 2 / 3),
        (jl.Scenario().set("b", "c", 0.5), 2 / 3 * 13 / 16 + 5 / 24),
        (jl.Scenario().redirect("b", "c", 0.5), 3 / 4),
        (jl.Scenario().redirect("c", "NULL", 1), 1 / 6),
        (jl.Scenario().add_channel("d", {"START": 0.2}, {"CONVERSION": 0.8, "NULL": 0.2}), 0.56),
        (jl.Scenario().scale_value(2), 0.5),
        (jl.Scenario().scale("a", "c", 1.5) + jl.Scenario().remove("b"), 0.5),
    ],
)
def test_every_change_by_hand(scenario: jl.Scenario, p: float) -> None:
    changed = abc().apply(scenario)
    assert changed.conversion_rate_ == pytest.approx(p, abs=TIGHT)
    expected = jl.compare(abc(), [scenario])["expected_conversions"].iloc[1]
    assert expected == pytest.approx(6 * p, abs=TIGHT)


def test_values_by_hand() -> None:
    m = abc()
    assert m.apply(jl.Scenario().set("b", "CONVERSION", 0.5)).value_per_journey_ == pytest.approx(
        25 / 3, abs=TIGHT
    )
    assert m.apply(jl.Scenario().scale_value(2)).value_per_journey_ == pytest.approx(
        40 / 3, abs=TIGHT
    )
    assert m.apply(jl.Scenario().set_value(5, "c")).value_per_journey_ == pytest.approx(
        10 / 3, abs=TIGHT
    )
    added = m.apply(
        jl.Scenario().add_channel("d", {"START": 0.2}, {"CONVERSION": 0.8, "NULL": 0.2})
    )
    assert added.value_per_journey_ == pytest.approx(112 / 15, abs=TIGHT)
    assert "d" in added.channels_


def test_remove_equals_the_removal_effect() -> None:
    for order in (1, 2):
        m = abc(order)
        effects = m.removal_effects().set_index("channel")["removal_effect"]
        for channel in m.channels_:
            p = m.apply(jl.Scenario().remove(channel)).conversion_rate_
            assert 1 - p / m.conversion_rate_ == pytest.approx(effects[channel], abs=TIGHT)
    lp = loop()
    effects = lp.removal_effects().set_index("channel")
    for channel in lp.channels_:
        e = lp.apply(jl.Scenario().remove(channel)).expected_purchases_
        assert 1 - e / lp.expected_purchases_ == pytest.approx(
            effects.loc[channel].iloc[0], abs=TIGHT
        )


def test_remove_a_team() -> None:
    m = abc()
    teams = {"a": "marketing", "c": "marketing", "b": "sales"}
    assert m.apply(jl.Scenario().remove("sales"), teams=teams).conversion_rate_ == pytest.approx(
        1 / 3, abs=TIGHT
    )
    with pytest.raises(jl.InvalidInputError, match=r"change 0 \(remove\): 'sales' is no channel"):
        m.apply(jl.Scenario().remove("sales"))


def test_loop_scenarios_by_hand() -> None:
    lp = loop()
    more = lp.apply(jl.Scenario().scale("PURCHASE", "b", 2))
    assert more.repeat_probability_ == pytest.approx(3 / 8, abs=TIGHT)
    assert more.expected_purchases_ == pytest.approx(1.3, abs=TIGHT)
    assert lp.apply(jl.Scenario().remove("b")).expected_purchases_ == pytest.approx(0.25, abs=TIGHT)
    # Every purchase worth twice as much: the expected value doubles.
    assert lp.apply(jl.Scenario().scale_value(2)).expected_value_ == pytest.approx(
        2 * lp.expected_value_, abs=1e-11
    )
    with pytest.raises(jl.NumericalError, match="repeat probability is 1"):
        lp.apply(jl.Scenario().set("PURCHASE", "PURCHASE", 1))


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        (jl.Scenario("s").remove("zzz"), r"scenario 's', change 0 \(remove\): 'zzz' is no channel"),
        (jl.Scenario().scale("a", "c", 1).scale("zzz", "c", 2), r"change 1 \(scale\): from 'zzz'"),
        (jl.Scenario().scale("a", "zzz", 2), "to 'zzz'"),
        (jl.Scenario().scale("a", "c", -1), "factor must be a finite number >= 0"),
        (jl.Scenario().scale("a", "c", math.nan), "factor must be a finite number >= 0"),
        (jl.Scenario().scale("a", "c", 3), "more than 1"),
        (jl.Scenario().set("a", "c", 1.5), r"\(set\): the probability must be a probability"),
        (jl.Scenario().set("a", "c", -0.1), "must be a probability in"),
        (jl.Scenario().set("c", "CONVERSION", 0.5), "cannot be renormalised"),
        (jl.Scenario().set("a", "a", 0.5), "self-loop"),
        (jl.Scenario().redirect("a", "b", 2), r"\(redirect\): the share"),
        (jl.Scenario().redirect("zzz", "b", 0.5), "from 'zzz' is no channel"),
        (jl.Scenario().add_channel("a", {}, {"NULL": 1}), r"\(add_channel\): the new channel"),
        (jl.Scenario().add_channel("d", {}, {"NULL": 0.5}), "sum to"),
        (jl.Scenario().add_channel("d", {"zzz": 0.5}, {"NULL": 1}), "inbound from 'zzz'"),
        (jl.Scenario().scale_value(-2), r"\(scale_value\): the factor"),
        (jl.Scenario().set_value(1, "zzz"), r"\(set_value\): 'zzz' is no channel"),
        (jl.Scenario().set("a", "b", 1).set("b", "a", 1), "cannot reach CONVERSION or NULL"),
    ],
)
def test_invalid_changes_name_the_change(scenario: jl.Scenario, message: str) -> None:
    with pytest.raises(jl.InvalidInputError, match=message):
        abc().apply(scenario)


def test_builder_refuses_wrong_types() -> None:
    with pytest.raises(jl.InvalidInputError, match=r"change 0 \(scale\): factor must be a number"):
        jl.Scenario().scale("a", "b", "2")  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match=r"change 1 \(set\): to must be a string"):
        jl.Scenario().remove("a").set("a", 3, 0.5)  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="give at least one"):
        jl.Scenario().remove()
    with pytest.raises(jl.InvalidInputError, match="inbound must be a dict"):
        jl.Scenario().add_channel("d", [("a", 1.0)], {"NULL": 1})  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match=r"must be a jl\.Scenario"):
        abc().apply("remove c")  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="order-1 model only"):
        abc(2).apply(jl.Scenario().add_channel("d", {}, {"NULL": 1}))


def test_scenario_is_a_value() -> None:
    base = jl.Scenario("x").remove("a")
    longer = base.scale("b", "NULL", 0.5)
    assert len(base) == 1 and len(longer) == 2
    assert (base + longer).name == "x" and len(base + longer) == 3
    assert repr(longer) == "Scenario('x', 2 changes: remove, scale)"
    assert longer.changes[1] == ("scale", ("b", "NULL", 0.5))
    assert base == jl.Scenario("x").remove("a")


def test_compare_is_exact() -> None:
    m = abc()
    table = jl.compare(
        m,
        {"no c": jl.Scenario().remove("c"), "more c": jl.Scenario().scale("a", "c", 1.5)},
        threads=2,
    )
    assert table["scenario"].tolist() == ["baseline", "no c", "more c"]
    assert table.columns.tolist() == [
        "scenario",
        "conversion_probability",
        "expected_conversions",
        "value_per_journey",
    ]
    np.testing.assert_allclose(table["conversion_probability"], [1 / 2, 1 / 6, 5 / 8], atol=TIGHT)
    np.testing.assert_allclose(table["expected_conversions"], [3, 1, 3.75], atol=TIGHT)
    np.testing.assert_allclose(table["value_per_journey"][:2], [20 / 3, 5 / 3], atol=TIGHT)
    listed = jl.compare(m, [jl.Scenario("no c").remove("c")])
    assert listed["scenario"].tolist() == ["baseline", "no c"]
    lt = jl.compare(loop(), {"more repeat": jl.Scenario().scale("PURCHASE", "b", 2)})
    assert lt.columns.tolist() == [
        "scenario",
        "expected_purchases",
        "repeat_probability",
        "value_per_customer",
    ]
    np.testing.assert_allclose(lt["expected_purchases"], [1, 1.3], atol=TIGHT)
    np.testing.assert_allclose(lt["repeat_probability"], [3 / 16, 3 / 8], atol=TIGHT)
    with pytest.raises(jl.InvalidInputError, match=r"scenarios\['x'\] must be a jl.Scenario"):
        jl.compare(m, {"x": 3})  # type: ignore[dict-item]
    with pytest.raises(jl.InvalidInputError, match="scenario 'bad', change 0"):
        jl.compare(m, [jl.Scenario("bad").remove("zzz")])
    with pytest.raises(jl.InvalidInputError, match="simulate must be an integer"):
        jl.compare(m, {}, simulate=0)


def test_compare_exact_within_four_standard_errors_of_simulated() -> None:
    for model, scenarios in (
        (
            abc(),
            {
                "no c": jl.Scenario().remove("c"),
                "more c": jl.Scenario().scale("a", "c", 1.5),
                # START's traffic to a goes straight to NULL: walks with no
                # touch, which are journeys all the same.
                "no a": jl.Scenario().remove("a"),
            },
        ),
        (
            loop(),
            {
                "more repeat": jl.Scenario().scale("PURCHASE", "b", 2),
                "no a": jl.Scenario().remove("a"),
            },
        ),
    ):
        table = jl.compare(model, scenarios, simulate=20_000, seed=7)  # type: ignore[arg-type]
        figures = [c for c in table.columns if c + "_se" in table.columns]
        assert figures
        for c in figures:
            se = table[c + "_se"].to_numpy()
            assert (se > 0).all() or c == "repeat_probability"
            gap = np.abs(table[c] - table[c + "_simulated"]).to_numpy()
            assert (gap <= 4 * se + 1e-12).all(), (c, table)


def _finite_difference_check(model: jl.MarkovModel | jl.LoopModel, goal: str) -> int:
    h = 1e-5
    checked = 0
    for row in model.sensitivities(top=None).itertuples(index=False):
        f, t, p, s = row[0], row[1], row[2], row[3]
        if p >= 1:
            assert s == 0
            continue
        # At order k a channel's name stands for every state that ends in it:
        # a state holding a whole shorter path has no label of its own.
        outcomes = {"START", "CONVERSION", "NULL", "PURCHASE", "END"}
        if model.order > 1 and any(" > " not in x and x not in outcomes for x in (f, t)):
            continue
        up = getattr(model.apply(jl.Scenario().scale(f, t, 1 + h)), goal)
        down = getattr(model.apply(jl.Scenario().scale(f, t, 1 - h)), goal)
        assert s == pytest.approx((up - down) / (2 * h * p), abs=1e-6), (f, t)
        checked += 1
    return checked


def test_sensitivities_against_finite_differences() -> None:
    assert _finite_difference_check(abc(), "conversion_rate_") == 6
    assert _finite_difference_check(abc(2), "conversion_rate_") > 0
    assert _finite_difference_check(loop(), "expected_purchases_") > 0


def test_sensitivities_by_hand_and_sorted() -> None:
    s = abc().sensitivities(top=None)
    assert s.columns.tolist() == ["from", "to", "probability", "sensitivity", "elasticity"]
    assert len(s) == 7
    assert (np.diff(np.abs(s["sensitivity"].to_numpy())) <= 0).all()
    by = s.set_index(["from", "to"])
    assert by.loc[("a", "c"), "sensitivity"] == pytest.approx(0.5, abs=TIGHT)
    assert by.loc[("a", "c"), "elasticity"] == pytest.approx(0.5, abs=TIGHT)
    assert by.loc[("b", "CONVERSION"), "sensitivity"] == pytest.approx(2 / 3, abs=TIGHT)
    assert by.loc[("START", "b"), "sensitivity"] == pytest.approx(-3 / 8, abs=TIGHT)
    assert by.loc[("c", "CONVERSION"), "sensitivity"] == 0
    assert len(abc().sensitivities()) == 7
    assert len(abc().sensitivities(top=2)) == 2
    ls = loop().sensitivities(top=None).set_index(["from", "to"])
    assert ls.loc[("b", "PURCHASE"), "sensitivity"] == pytest.approx(16 / 13, abs=TIGHT)
    assert ls.loc[("PURCHASE", "b"), "sensitivity"] == pytest.approx(12 / 13, abs=TIGHT)
    with pytest.raises(jl.InvalidInputError, match="top must be an integer"):
        abc().sensitivities(top=0)
    with pytest.raises(jl.NotFittedError):
        jl.MarkovModel().sensitivities()


def test_applied_model_keeps_metadata_and_is_a_frame_source() -> None:
    j = jl.Journeys.from_paths(
        pd.DataFrame(
            {"path": ["a > b", "b", "a > c"], "conversions": [1, 0, 2], "nulls": [1, 2, 0]}
        )
    )
    m = jl.MarkovModel().fit(j)
    m.teams_ = {"a": "marketing", "b": "sales", "c": "sales"}
    changed = m.apply(jl.Scenario().remove("sales"))
    assert changed.teams_ == m.teams_
    assert changed.conversion_rate_ == pytest.approx(0.0, abs=TIGHT)
    tm = m.apply(jl.Scenario().scale("a", "c", 1.5)).transition_matrix()
    row = tm[tm["from"] == "a"].set_index("to")["probability"]
    assert row["c"] == pytest.approx(0.75, abs=TIGHT) and row["b"] == pytest.approx(0.25, abs=TIGHT)


def test_compare_simulated_columns() -> None:
    t = jl.compare(abc(), {"no c": jl.Scenario().remove("c")}, simulate=100, seed=1)
    assert t.columns.tolist() == [
        "scenario",
        "conversion_probability",
        "conversion_probability_simulated",
        "conversion_probability_se",
        "expected_conversions",
        "expected_conversions_simulated",
        "expected_conversions_se",
        "value_per_journey",
        "value_per_journey_simulated",
        "value_per_journey_se",
    ]


def test_simulated_estimates_by_hand() -> None:
    from journeyloop import _scenario

    none = {"empty_conversions": 0.0, "empty_value": 0.0}
    j = jl.Journeys.from_paths(
        ["a > b", "b", "a > c"], conversions=[1, 0, 2], nulls=[1, 2, 0], value=[10, 0, 30]
    )
    # 3 of 6 journeys convert; values 10, 15, 15 (mean 40/6).
    f = _scenario._simulated_funnel(j, none, 6, 6.0)
    assert f["conversion_probability"] == (0.5, pytest.approx(math.sqrt(0.25 / 6), abs=TIGHT))
    assert f["expected_conversions"][0] == pytest.approx(3, abs=TIGHT)
    assert f["value_per_journey"][0] == pytest.approx(40 / 6, abs=TIGHT)
    second = (100 + 2 * 225) / 6
    se = math.sqrt((second - (40 / 6) ** 2) / 6)
    assert f["value_per_journey"][1] == pytest.approx(se, abs=TIGHT)
    # Two more walks with no touch, one of them converting from START, value 8:
    # 8 journeys, 4 conversions, values 10, 15, 15, 8.
    e = _scenario._simulated_funnel(j, {"empty_conversions": 1.0, "empty_value": 8.0}, 8, 8.0)
    assert e["conversion_probability"] == (0.5, pytest.approx(math.sqrt(0.25 / 8), abs=TIGHT))
    assert e["value_per_journey"][0] == pytest.approx(48 / 8, abs=TIGHT)
    second = (100 + 2 * 225 + 64) / 8
    assert e["value_per_journey"][1] == pytest.approx(math.sqrt((second - 36) / 8), abs=TIGHT)
    h = jl.Histories.from_paths(
        ["a > purchase > b > purchase", "a > b", "b > purchase"], count=[1, 1, 2], value=[30, 0, 60]
    )
    # 4 customers: purchases 2, 0, 1, 1 (mean 1); 4 purchases, 3 buyers: r = 1/4.
    lt = _scenario._simulated_loop(h, none, 4)
    assert lt["expected_purchases"] == (1.0, pytest.approx(math.sqrt(0.5 / 4), abs=TIGHT))
    assert lt["repeat_probability"] == (0.25, pytest.approx(math.sqrt(0.25 * 0.75 / 4), abs=TIGHT))
    assert lt["value_per_customer"][0] == pytest.approx(22.5, abs=TIGHT)
    # One more customer who never touched anything: 5 customers, 4 purchases.
    lt = _scenario._simulated_loop(h, none, 5)
    assert lt["expected_purchases"][0] == pytest.approx(4 / 5, abs=TIGHT)
    assert lt["expected_purchases"][1] == pytest.approx(math.sqrt((6 / 5 - 0.64) / 5), abs=TIGHT)
    assert lt["value_per_customer"][0] == pytest.approx(90 / 5, abs=TIGHT)
