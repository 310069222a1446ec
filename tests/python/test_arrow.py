"""Path columns read from Arrow buffers in place."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import journeyloop as jl


def frame(paths: object, n: int) -> pd.DataFrame:
    return pd.DataFrame({"path": paths, "conversions": [1.0] * n})


def test_chunked_large_strings_equal_python_strings() -> None:
    chunks = pa.chunked_array([["a > b", "b"], ["c > a > a"]], type=pa.large_string())
    arrow = jl.Journeys.from_paths({"path": chunks, "conversions": [1, 0, 2]}, nulls=None)
    plain = jl.Journeys.from_paths(["a > b", "b", "c > a > a"], conversions=[1, 0, 2])
    pd.testing.assert_frame_equal(arrow.to_frame(), plain.to_frame())
    assert arrow.channels == ["a", "b", "c"]


def test_string_type_sliced_and_dictionary() -> None:
    base = pa.array(["x", "a > b", "b > c", "y"], type=pa.string())  # 32-bit offsets
    sliced = base.slice(1, 2)
    j = jl.Journeys.from_paths({"path": sliced, "conversions": [1, 1]})
    assert j.to_frame()["path"].tolist() == ["a > b", "b > c"]
    cat = pd.Series(["a > b", "b", "a > b"], dtype="category")
    j = jl.Journeys.from_paths(frame(cat, 3))
    assert j.to_frame()["path"].tolist() == ["a > b", "b", "a > b"]


def test_null_in_a_later_chunk_names_the_global_row() -> None:
    chunks = pa.chunked_array([["a", "b"], ["c", None]], type=pa.large_string())
    with pytest.raises(jl.InvalidInputError, match=r"row 3, column 'path': missing path \(null\)"):
        jl.Journeys.from_paths({"path": chunks, "conversions": [1, 1, 1, 1]})


def test_bad_token_in_a_later_chunk_names_the_global_row() -> None:
    chunks = pa.chunked_array([["a", "b"], ["c", "a >> b"]])
    with pytest.raises(jl.InvalidInputError, match="row 3, column 'path': empty channel name"):
        jl.Journeys.from_paths({"path": chunks, "conversions": [1, 1, 1, 1]})


def test_pyarrow_table_and_pandas_arrow_strings_agree(abc_journeys: jl.Journeys) -> None:
    df = abc_journeys.to_frame()
    table = pa.Table.from_pandas(df)
    j = jl.Journeys.from_paths(
        table.to_pandas(types_mapper=pd.ArrowDtype), nulls="nulls", value="value"
    )
    pd.testing.assert_frame_equal(j.to_frame(), df)
    j2 = jl.Journeys.from_paths(df.astype({"path": "object"}), nulls="nulls", value="value")
    pd.testing.assert_frame_equal(j2.to_frame(), df)
