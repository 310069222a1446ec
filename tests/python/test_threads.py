from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest

import journeyloop as jl

from .conftest import random_paths


@pytest.fixture(autouse=True)
def _defaults() -> Iterator[None]:
    yield
    jl.set_threads(0)


def test_set_threads_and_the_with_block() -> None:
    assert jl.get_threads() == 0
    jl.set_threads(3)
    assert jl.get_threads() == 3
    with jl.threads(1):
        assert jl.get_threads() == 1
    assert jl.get_threads() == 3
    with pytest.raises(KeyError), jl.threads(2):
        assert jl.get_threads() == 2
        raise KeyError("inside")
    assert jl.get_threads() == 3  # restored after an exception too
    for bad in (-1, 1.5, "2", None):
        with pytest.raises(jl.InvalidInputError, match="threads must be an integer >= 0"):
            jl.set_threads(bad)  # type: ignore[arg-type]
        with pytest.raises(jl.InvalidInputError, match="threads must be an integer >= 0"):
            jl.threads(bad).__enter__()  # type: ignore[arg-type]
    assert jl.get_threads() == 3


def test_attribution_is_the_same_on_one_thread() -> None:
    # 120,000 rows: parsed in parts and counted in two halves by default.
    rng, paths = random_paths(11, channels=30, rows=120_000, longest=6)
    conv = rng.integers(0, 2, size=len(paths)).astype(float)
    value = conv * rng.uniform(5, 50, size=len(paths))
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=1.0 - conv, value=value)
    model = jl.MarkovModel(order=2).fit(j)
    assert model.n_states_ > 600  # batched removals: four batches of eight
    both = model.attribution()
    reporters: set[int] = set()
    with jl.threads(1):
        one = model.attribution(progress=lambda d, t: reporters.add(threading.get_ident()))
        again = jl.Journeys.from_paths(paths, conversions=conv, nulls=1.0 - conv, value=value)
        refit = jl.MarkovModel(order=2).fit(again).attribution()
    # On one thread every batch is solved and reported on the calling thread.
    assert reporters == {threading.get_ident()}
    pd.testing.assert_frame_equal(one, both, check_exact=True)
    # Counted in one part instead of two, the integer weights add up exactly and
    # the values in another order: the same to the rounding of those sums.
    pd.testing.assert_series_equal(refit["conversions"], both["conversions"], check_exact=True)
    pd.testing.assert_series_equal(refit["value"], both["value"], check_exact=False, rtol=1e-12)
    assert both["conversions"].sum() == pytest.approx(conv.sum(), rel=1e-12)
