from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl


@pytest.fixture
def model() -> jl.MarkovModel:
    j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2], nulls=[1, 2, 0])
    return jl.MarkovModel().fit(j)


def test_arguments_are_checked_and_named(model: jl.MarkovModel) -> None:
    for kwargs, name in [
        ({"max_states": -1}, "max_states"),
        ({"max_states": 1.5}, "max_states"),
        ({"max_states": None}, "max_states"),
        ({"smoothing": "0.5"}, "smoothing"),
        ({"smoothing": None}, "smoothing"),
        ({"smoothing": float("nan")}, "smoothing"),
    ]:
        with pytest.raises(jl.InvalidInputError, match=f"^{name} must be"):
            jl.MarkovModel(**kwargs)  # type: ignore[arg-type]
    # NumPy scalars are numbers too.
    assert jl.MarkovModel(smoothing=np.float32(0.5), max_states=np.int64(10**6)).max_states == 10**6
    assert model.top_paths(np.int64(1))["path"].tolist() == ["a > c"]
    with pytest.raises(jl.InvalidInputError, match=r"^smoothing must be"):
        jl.MarkovModel(smoothing=10**400)
    with pytest.raises(jl.InvalidInputError, match=r"^max_states must be"):
        jl.MarkovModel(max_states=np.True_)  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="threads must be an integer >= 0"):
        jl.set_threads(True)
    for n in (-1, 0, 2.0):
        with pytest.raises(jl.InvalidInputError, match=r"^n must be an integer >= 1"):
            model.top_paths(n)  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match=r"^max_length must be"):
        model.top_paths(2, max_length=0)
    assert model.top_paths(1)["path"].tolist() == ["a > c"]


def test_team_and_group_maps_that_would_mislead(model: jl.MarkovModel) -> None:
    teams = pd.DataFrame({"channel": ["a", "b", "a"], "team": ["mk", "sales", "sales"]})
    with pytest.raises(
        jl.InvalidInputError, match="row 2, column 'channel': channel 'a' is listed twice"
    ):
        model.attribution(by="team", teams=teams)
    with pytest.raises(jl.InvalidInputError, match="group 'ab': its channels must be a list"):
        model.attribution(by="group", groups={"ab": "ab"})  # type: ignore[dict-item]
    ok = model.attribution(by="group", groups={"ab": ["a", "b"]})
    assert ok["group"].tolist() == ["ab"]


def test_complex_counts_are_refused() -> None:
    with pytest.raises(
        jl.InvalidInputError, match="row 0, column 'conversions': expected a number"
    ):
        jl.Journeys.from_paths(["a"], conversions=np.array([2j]))


def test_to_frame_refuses_names_that_hold_the_separator() -> None:
    j = jl.Journeys.from_paths([["a > b", "c"], ["a", "b", "c"]], conversions=[1, 1])
    with pytest.raises(jl.InvalidInputError, match="channel 'a > b' holds the separator '>'"):
        j.to_frame()
    frame = j.to_frame(sep=" | ")
    assert frame["path"].tolist() == ["a > b | c", "a | b | c"]
    back = jl.Journeys.from_paths(frame, sep="|")
    assert back.channels == j.channels


def test_graphml_refuses_labels_xml_cannot_hold() -> None:
    j = jl.Journeys.from_paths(["a\x07 > b"], conversions=[1], nulls=[1])
    model = jl.MarkovModel().fit(j)
    with pytest.raises(jl.InvalidInputError, match="holds U\\+0007, which XML cannot hold"):
        model.to_graphml()
    assert model.to_dot().startswith("digraph journey")  # DOT holds any text


def test_every_error_has_the_common_base_and_its_standard_base() -> None:
    standard = {
        jl.InvalidInputError: ValueError,
        jl.UnknownChannelError: KeyError,
        jl.NumericalError: ArithmeticError,
        jl.StateSpaceTooLargeError: MemoryError,
        jl.NotFittedError: ValueError,
        jl.NotApplicableError: ValueError,
    }
    for error, base in standard.items():
        assert issubclass(error, jl.JourneyloopError), error
        assert issubclass(error, base), error
    assert issubclass(jl.DataWarning, UserWarning)
    assert not issubclass(jl.JourneyloopError, (ValueError, KeyError, ArithmeticError))


def test_errors_from_the_core_are_caught_by_the_common_base() -> None:
    with pytest.raises(jl.JourneyloopError, match="order"):
        jl.MarkovModel(order=0)
    with pytest.raises(jl.JourneyloopError) as raised:
        jl.MarkovModel(order=2, max_states=5).fit(
            jl.Journeys.from_paths(
                pd.DataFrame({"path": ["a > b", "b > c", "c > a"], "conversions": [1, 0, 1]})
            )
        )
    assert isinstance(raised.value, jl.StateSpaceTooLargeError)
    assert raised.value.cap == 5
