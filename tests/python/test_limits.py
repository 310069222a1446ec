from __future__ import annotations

import pytest

import journeyloop as jl

# The memory cap (jl.set_memory_limit): each stage checks its estimate before
# it allocates; tests/cpp/test_limits.cpp works the estimates by hand.


def test_memory_limit_error_bases() -> None:
    assert issubclass(jl.MemoryLimitError, jl.JourneyloopError)
    assert issubclass(jl.MemoryLimitError, MemoryError)
    assert jl.MemoryLimitError.estimate == 0 and jl.MemoryLimitError.cap == 0


def test_counting_is_refused_above_the_cap(abc_journeys: jl.Journeys) -> None:
    assert jl.get_memory_limit() == 0
    # Order 1: min(5 touches, 3 channels) + 3 = 6 states of 4 + 24 bytes.
    with jl.memory_limit(167):
        assert jl.get_memory_limit() == 167
        with pytest.raises(jl.MemoryLimitError) as info:
            jl.MarkovModel(order=1).fit(abc_journeys)
    assert (info.value.estimate, info.value.cap) == (168, 167)
    assert str(info.value) == (
        "counting transitions needs at least 168 bytes, above the memory limit of 167 bytes "
        "(raise it with set_memory_limit, lower the order, or split the input)"
    )
    assert jl.get_memory_limit() == 0
    with jl.memory_limit(168):
        assert jl.TransitionCounts.from_journeys(abc_journeys, order=1).n_states == 6
        # The fit's own estimate is larger: 28 bytes a transition, 40 a state.
        with pytest.raises(jl.MemoryLimitError, match="fitting the chain needs at least 436 "):
            jl.MarkovModel(order=1).fit(abc_journeys)


def test_the_fit_is_refused_above_the_cap(abc_journeys: jl.Journeys) -> None:
    counts = jl.TransitionCounts.from_journeys(abc_journeys, order=1)
    assert counts.n_transitions == 7
    fit_bytes = 28 * 7 + 40 * 6
    with jl.memory_limit(fit_bytes - 1), pytest.raises(jl.MemoryLimitError) as info:
        jl.MarkovModel(order=1).fit(counts)
    assert info.value.estimate == fit_bytes
    assert "fitting the chain needs at least" in str(info.value)


def test_set_memory_limit_checks_its_argument() -> None:
    with pytest.raises(jl.InvalidInputError, match="memory limit"):
        jl.set_memory_limit(-1)
    with pytest.raises(jl.InvalidInputError, match="memory limit"):
        jl.set_memory_limit(1.5)  # type: ignore[arg-type]
    jl.set_memory_limit(1 << 40)
    assert jl.get_memory_limit() == 1 << 40
    jl.set_memory_limit(0)
    assert jl.get_memory_limit() == 0
