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
            assert g["share"].sum() == pytest.approx(1.0, rel=1e-12, abs=1e-12)


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
    # The independent solve, with repeats collapsed or kept as self-transitions.
    p, effects, attributed, attributed_value = exact_markov(
        paths, [float(c) for c in conv], [float(k) for k in nulls], value, order, collapse
    )
    assert model.conversion_rate_ == pytest.approx(p, abs=1e-12)
    assert dict(zip(re["channel"], re["removal_effect"])) == pytest.approx(effects, abs=1e-9)
    a = model.attribution()
    assert dict(zip(a["channel"], a["conversions"])) == pytest.approx(attributed, abs=1e-9)
    assert dict(zip(a["channel"], a["value"])) == pytest.approx(
        attributed_value, rel=1e-9, abs=1e-9
    )


def test_removing_the_only_channel_removes_everything() -> None:
    j = jl.Journeys.from_paths(["a", "a > a"], conversions=[2, 1], nulls=[3, 0])
    re = jl.MarkovModel().fit(j).removal_effects()
    assert re["removal_effect"].tolist() == [1.0]


@settings(max_examples=150, deadline=None)
@given(
    path_tables(),
    st.integers(1, 3),
    st.booleans(),
    st.booleans(),
    st.lists(st.integers(0, 2), min_size=12, max_size=12),
)
def test_merge_of_any_partition_is_the_counts_of_the_whole(
    table: tuple[list[list[str]], list[int], list[int], list[float]],
    order: int,
    collapse: bool,
    padded: bool,
    part_of: list[int],
) -> None:
    """Counts of the parts of any partition of the rows merge, in any order and grouping, to
    the counts of all the rows (values whole numbers, so that every sum is exact)."""
    paths, conv, nulls, _ = table
    value = [float(3 * c) for c in conv]

    def counts(rows: list[int]) -> jl.TransitionCounts:
        j = jl.Journeys.from_paths(
            [paths[i] for i in rows],
            conversions=[conv[i] for i in rows],
            nulls=[nulls[i] for i in rows],
            value=[value[i] for i in rows],
        )
        return jl.TransitionCounts.from_journeys(j, order, collapse_repeats=collapse, padded=padded)

    whole = counts(list(range(len(paths))))
    parts = [
        counts(rows)
        for k in range(3)
        if (rows := [i for i in range(len(paths)) if part_of[i] == k])
    ]
    assert parts[0].merge(*parts[1:]) == whole
    assert parts[-1].merge(*parts[:-1]) == whole  # another order
    if len(parts) == 3:
        assert parts[0].merge(parts[1].merge(parts[2])) == whole  # another grouping
        assert parts[2].merge(parts[0]).merge(parts[1]) == whole
    merged = parts[-1].merge(*parts[:-1])
    options = dict(order=order, collapse_repeats=collapse, padded=padded)
    model, direct = jl.MarkovModel(**options).fit(merged), jl.MarkovModel(**options).fit(whole)
    # The merged counts number their states in another order, so the solves add in another
    # order: equal to rounding, not to the bit.
    assert model.conversion_rate_ == pytest.approx(direct.conversion_rate_, rel=1e-13, abs=1e-15)
    got = model.removal_effects().set_index("channel").sort_index()
    want = direct.removal_effects().set_index("channel").sort_index()
    assert list(got.index) == list(want.index)
    for column in ("removal_effect", "value_removal_effect"):
        assert got[column].tolist() == pytest.approx(want[column].tolist(), rel=1e-12, abs=1e-14)
