"""Properties that hold for every input: attributions sum to the totals, the
chain reproduces the observed conversion rate, and the library agrees with an
independent exact solve."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeyloop as jl

from .exact_reference import exact_markov

CHANNELS = ["a", "b", "c", "d"]


@st.composite
def path_tables(draw: st.DrawFn) -> tuple[list[list[str]], list[int], list[int], list[float]]:
    n = draw(st.integers(1, 12))
    paths = [draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=6)) for _ in range(n)]
    conv = [draw(st.integers(0, 5)) for _ in range(n)]
    nulls = [draw(st.integers(0, 5)) for _ in range(n)]
    if sum(c + k for c, k in zip(conv, nulls)) == 0:
        nulls[0] = 1
    value = [draw(st.floats(0.5, 100.0)) * c for c in conv]
    return paths, conv, nulls, value


@settings(max_examples=150, deadline=None)
@given(path_tables(), st.integers(1, 3))
def test_every_method_sums_to_totals(
    table: tuple[list[list[str]], list[int], list[int], list[float]], order: int
) -> None:
    paths, conv, nulls, value = table
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=nulls, value=value)
    out = jl.attribute(j, order=order)
    assert set(out["method"]) == set(jl.METHODS)
    for _, g in out.groupby("method"):
        assert g["conversions"].sum() == pytest.approx(sum(conv), abs=1e-9)
        assert g["value"].sum() == pytest.approx(sum(value), rel=1e-9, abs=1e-9)
        assert (g["conversions"] >= 0).all()
        if sum(conv) > 0:
            assert g["share"].sum() == pytest.approx(1.0)


@settings(max_examples=150, deadline=None)
@given(path_tables(), st.integers(1, 3), st.booleans())
def test_chain_reproduces_observed_rate_and_exact_solve(
    table: tuple[list[list[str]], list[int], list[int], list[float]],
    order: int,
    collapse: bool,
) -> None:
    paths, conv, nulls, value = table
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=nulls, value=value)
    model = jl.MarkovModel(order=order, collapse_repeats=collapse).fit(j)
    observed = sum(conv) / (sum(conv) + sum(nulls))
    assert model.conversion_rate_ == pytest.approx(observed, abs=1e-12)
    re = model.removal_effects()
    assert ((re["removal_effect"] >= 0) & (re["removal_effect"] <= 1)).all()
    if collapse:
        p, effects, attributed, _ = exact_markov(
            paths, [float(c) for c in conv], [float(k) for k in nulls], value, order=order
        )
        assert model.conversion_rate_ == pytest.approx(p, abs=1e-12)
        assert dict(zip(re["channel"], re["removal_effect"])) == pytest.approx(effects, abs=1e-9)
        a = model.attribution()
        assert dict(zip(a["channel"], a["conversions"])) == pytest.approx(attributed, abs=1e-9)


def test_removing_the_only_channel_removes_everything() -> None:
    j = jl.Journeys.from_paths(["a", "a > a"], conversions=[2, 1], nulls=[3, 0])
    re = jl.MarkovModel().fit(j).removal_effects()
    assert re["removal_effect"].tolist() == [1.0]
