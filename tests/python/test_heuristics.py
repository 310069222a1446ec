from __future__ import annotations

import pandas as pd
import pytest

import journeyloop as jl

HEURISTICS = ["first_touch", "last_touch", "linear", "position_based", "time_decay"]


def credit(frame: pd.DataFrame, method: str, column: str = "conversions") -> dict[str, float]:
    rows = frame[frame["method"] == method]
    return dict(zip(rows["channel"], rows[column]))


@pytest.mark.parametrize(
    ("method", "conversions", "value"),
    [
        ("first_touch", [3, 0, 0], [40, 0, 0]),
        ("last_touch", [0, 1, 2], [0, 10, 30]),
        ("linear", [1.5, 0.5, 1], [20, 5, 15]),
        ("position_based", [1.5, 0.5, 1], [20, 5, 15]),
        # two touches, half-life one step: weights 1/3 and 2/3
        ("time_decay", [1, 2 / 3, 4 / 3], [40 / 3, 20 / 3, 20]),
    ],
)
def test_hand_worked(
    abc_journeys: jl.Journeys, method: str, conversions: list[float], value: list[float]
) -> None:
    out = jl.attribute(abc_journeys, [method])
    assert list(out.columns) == ["method", "channel", "conversions", "value", "share"]
    assert out["channel"].tolist() == ["a", "b", "c"]
    assert out["conversions"].tolist() == pytest.approx(conversions, abs=1e-12)
    assert out["value"].tolist() == pytest.approx(value, abs=1e-12)
    assert out["share"].tolist() == pytest.approx([c / 3 for c in conversions], abs=1e-12)


def test_position_based_long_path() -> None:
    j = jl.Journeys.from_paths(["a > b > c > d"], value=[100.0])
    out = jl.attribute(j, ["position_based"])
    assert out["conversions"].tolist() == pytest.approx([0.4, 0.1, 0.1, 0.4], rel=1e-12, abs=1e-12)
    assert out["value"].tolist() == pytest.approx([40, 10, 10, 40], rel=1e-12, abs=1e-12)


def test_time_decay_half_life() -> None:
    j = jl.Journeys.from_paths(["a > b > c"])
    out = jl.attribute(j, ["time_decay"], half_life=2.0)
    w = [2 ** (-1.0), 2 ** (-0.5), 1.0]
    assert out["conversions"].tolist() == pytest.approx(
        [x / sum(w) for x in w], rel=1e-12, abs=1e-12
    )
    with pytest.raises(jl.InvalidInputError, match="half_life must be positive"):
        jl.attribute(j, ["time_decay"], half_life=0.0)
    # Without half_life, steps decay with the core's default half-life (1 step).
    assert jl._core.heuristic_options().half_life == 1.0
    default = jl.attribute(j, ["time_decay"])
    w = [2 ** (-2.0), 2 ** (-1.0), 1.0]
    assert default["conversions"].tolist() == pytest.approx([x / sum(w) for x in w], rel=1e-15)


def test_ab_example_first_and_last_touch(ab_journeys: jl.Journeys) -> None:
    out = jl.attribute(ab_journeys, ["first_touch", "last_touch"])
    assert credit(out, "first_touch") == {"A": 3, "B": 0}
    assert credit(out, "last_touch") == {"A": 3, "B": 0}


def test_unknown_method() -> None:
    j = jl.Journeys.from_paths(["a"])
    with pytest.raises(jl.InvalidInputError, match="unknown method 'u_shaped'"):
        jl.attribute(j, ["u_shaped"])


def test_by_team(abc_journeys: jl.Journeys) -> None:
    teams = {"a": "marketing", "b": "sales", "c": "sales", "x": "service"}
    out = jl.attribute(abc_journeys, ["linear", "markov"], by="team", teams=teams)
    lin = out[out["method"] == "linear"]
    assert dict(zip(lin["team"], lin["conversions"])) == pytest.approx(
        {"marketing": 1.5, "sales": 1.5, "service": 0.0},
        rel=1e-12,
        abs=1e-12,
    )
    mk = out[out["method"] == "markov"]
    # RE(marketing) = 5/6, RE(sales) = 1: the team is removed whole
    assert dict(zip(mk["team"], mk["conversions"])) == pytest.approx(
        {"marketing": 3 * (5 / 6) / (11 / 6), "sales": 3 / (11 / 6), "service": 0.0},
        rel=1e-12,
        abs=1e-12,
    )
    # One route to the team Markov attribution: the model's own.
    model = jl.MarkovModel().fit(abc_journeys)
    same = model.attribution(by="team", teams=teams)
    assert mk["team"].tolist() == same["team"].tolist()
    assert mk["conversions"].tolist() == same["conversions"].tolist()
    assert mk["value"].tolist() == same["value"].tolist()


def test_unassigned_channels_are_reported(abc_journeys: jl.Journeys) -> None:
    with pytest.warns(UserWarning, match="1 channel\\(s\\) have no team .* c"):
        out = jl.attribute(abc_journeys, ["last_touch"], by="team", teams={"a": "m", "b": "s"})
    assert dict(zip(out["team"], out["conversions"])) == {"m": 0, "s": 1, "unassigned": 2}
