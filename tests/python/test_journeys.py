from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl


def test_from_dataframe(abc_journeys: jl.Journeys) -> None:
    j = abc_journeys
    assert len(j) == 3
    assert j.channels == ["a", "b", "c"]
    assert j.total_conversions == 3
    assert j.total_nulls == 3
    assert j.total_value == 40
    assert repr(j) == "Journeys(3 rows, 3 channels, 3 conversions, 3 nulls, value 40)"


def test_to_frame_round_trip(abc_journeys: jl.Journeys) -> None:
    frame = abc_journeys.to_frame()
    assert list(frame.columns) == ["path", "conversions", "nulls", "value"]
    assert frame["path"].tolist() == ["a > b", "b", "a > c"]
    again = jl.Journeys.from_paths(frame, nulls="nulls", value="value")
    pd.testing.assert_frame_equal(again.to_frame(), frame)


def test_from_lists_of_strings_and_of_tokens() -> None:
    a = jl.Journeys.from_paths(["x>y", " y "], conversions=[2, 1], nulls=[0, 3])
    b = jl.Journeys.from_paths([["x", "y"], ["y"]], conversions=[2, 1], nulls=[0, 3])
    assert a.channels == b.channels == ["x", "y"]
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    ones = jl.Journeys.from_paths(["a", "b > a"])
    assert ones.total_conversions == 2
    assert ones.total_nulls == 0


def test_optional_columns_and_separator() -> None:
    df = pd.DataFrame({"p": ["a>>>b", "b"], "c": [1, 0], "n": [0, 1]})
    j = jl.Journeys.from_paths(df, path="p", conversions="c", nulls="n", sep=">>>")
    assert j.channels == ["a", "b"]
    assert j.total_value == 0


def test_read_only_and_integer_columns() -> None:
    conv = np.array([1, 2], dtype=np.int64)
    conv.setflags(write=False)
    j = jl.Journeys.from_paths({"path": ["a", "b"], "conversions": conv}, conversions="conversions")
    assert j.total_conversions == 3


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (
            {"path": ["a", ""], "conversions": [1, 1]},
            {},
            "row 1, column 'path': empty path",
        ),
        (
            {"path": ["a >> b"], "conversions": [1]},
            {},
            "row 0, column 'path': empty channel name in 'a >> b'",
        ),
        (
            {"path": ["a", None], "conversions": [1, 1]},
            {},
            "row 1, column 'path': "
            "(missing path \\(null\\)|expected a path string, got (None|nan))",
        ),
        (
            {"path": ["a", "b"], "conversions": [1, float("nan")]},
            {},
            "row 1, column 'conversions': count is NaN",
        ),
        (
            {"path": ["a", "b"], "conversions": [1, 1], "total_null": [0, -2]},
            {"nulls": "total_null"},
            "row 1, column 'total_null': negative count -2",
        ),
        (
            {"path": ["a", "b"], "conversions": [1, 1], "v": [1.0, "x"]},
            {"value": "v"},
            "row 1, column 'v': expected a number, got 'x'",
        ),
        (
            {"path": ["a", "b"], "conversions": [1, 0], "v": [1.0, 2.0]},
            {"value": "v"},
            "row 1, column 'v': value 2 on a row without conversions",
        ),
        (
            {"path": ["a"], "conversions": [1]},
            {"nulls": "total_null"},
            "column 'total_null' not found",
        ),
        (
            {"path": ["a"], "conversions": [True]},
            {},
            "column 'conversions' must be numeric, got booleans",
        ),
    ],
)
def test_bad_rows_name_row_and_column(
    frame: dict[str, list[object]], kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(jl.InvalidInputError, match=message):
        jl.Journeys.from_paths(pd.DataFrame(frame), **kwargs)  # type: ignore[arg-type]


def test_invalid_input_is_a_value_error() -> None:
    assert issubclass(jl.InvalidInputError, ValueError)
    with pytest.raises(ValueError, match="missing"):
        jl.Journeys.from_paths(pd.DataFrame({"path": ["a"]}), conversions="missing")


def test_nullable_integer_column_with_missing_value() -> None:
    df = pd.DataFrame({"path": ["a", "b"], "conversions": pd.array([1, None], dtype="Int64")})
    with pytest.raises(jl.InvalidInputError, match="row 1, column 'conversions': count is NaN"):
        jl.Journeys.from_paths(df)


def test_rows_without_outcomes_are_kept() -> None:
    j = jl.Journeys.from_paths(["a", "b"], conversions=[1, 0], nulls=[0, 0])
    assert len(j) == 2
    assert j.channels == ["a", "b"]
