"""The simplified Shapley value of Zhao et al. (2018): hand-worked values, teams,
the ordered variant and its errors. The brute-force check against the Shapley
value of its game, and the axioms, are in tests/cpp/test_attribution.cpp."""

from __future__ import annotations

import pytest

import journeyloop as jl


def rows() -> jl.Journeys:
    # "a > b > a" 3 conversions (value 30), "a" 1 (value 4), "c > b" 2 (value 8).
    return jl.Journeys.from_paths(
        ["a > b > a", "a", "c > b"], conversions=[3, 1, 2], nulls=[0, 0, 1], value=[30, 4, 8]
    )


def test_by_channel() -> None:
    frame = jl.simplified_shapley(rows())
    assert frame["channel"].tolist() == ["a", "b", "c"]
    assert frame["conversions"].tolist() == [2.5, 2.5, 1.0]
    assert frame["value"].tolist() == [19.0, 19.0, 4.0]
    assert frame["share"].tolist() == pytest.approx([2.5 / 6, 2.5 / 6, 1 / 6], rel=1e-12)


def test_by_team_splits_between_distinct_teams() -> None:
    # Teams m (a, c) and s (b): "a > b > a" m 1.5, s 1.5; "a" m 1; "c > b" m 1, s 1.
    frame = jl.simplified_shapley(rows(), by="team", teams={"a": "m", "b": "s", "c": "m", "z": "x"})
    assert frame["team"].tolist() == ["m", "s", "x"]
    assert frame["conversions"].tolist() == [3.5, 2.5, 0.0]
    assert frame["value"].tolist() == [23.0, 19.0, 0.0]


def test_ordered() -> None:
    frame = jl.simplified_shapley(rows(), ordered=True)
    assert frame["channel"].tolist() == ["a", "a", "b", "b", "c", "c"]
    assert frame["position"].tolist() == [1, 2, 1, 2, 1, 2]
    assert frame["conversions"].tolist() == [2.5, 0.0, 0.0, 2.5, 1.0, 0.0]
    assert frame["value"].tolist() == [19.0, 0.0, 0.0, 19.0, 4.0, 0.0]
    # Summed over positions: the unordered value.
    summed = frame.groupby("channel", sort=False)["conversions"].sum().tolist()
    assert summed == jl.simplified_shapley(rows())["conversions"].tolist()


def test_nothing_converts() -> None:
    j = jl.Journeys.from_paths(["a > b", "b"], conversions=[0, 0], nulls=[1, 2])
    assert jl.simplified_shapley(j)["conversions"].tolist() == [0.0, 0.0]
    ordered = jl.simplified_shapley(j, ordered=True)
    assert ordered["position"].tolist() == [1, 1]
    assert ordered["conversions"].tolist() == [0.0, 0.0]


def test_errors() -> None:
    h = jl.Histories.from_paths(["a > purchase"], count=[1])
    with pytest.raises(jl.InvalidInputError, match="funnel journeys"):
        jl.simplified_shapley(h)  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="by must be"):
        jl.simplified_shapley(rows(), by="stage")  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="needs teams"):
        jl.simplified_shapley(rows(), by="team")
