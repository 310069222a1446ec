"""Path columns read from Arrow buffers in place."""

from __future__ import annotations

import numpy as np
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


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "float32", "uint16", "Int64"])
def test_count_columns_of_any_numeric_dtype_equal_float64(dtype: str) -> None:
    paths = pa.chunked_array([["a > b", "b > b > c"], ["c", "a > c > a"]])
    counts = {"conversions": [2, 0, 1, 3], "nulls": [1, 4, 0, 0], "value": [5, 0, 7, 9]}
    as_float = pd.DataFrame({"path": pd.Series(paths, dtype="str"), **counts}).astype(
        {k: "float64" for k in counts}
    )
    typed = as_float.astype({k: dtype for k in counts})
    a = jl.Journeys.from_paths(typed, nulls="nulls", value="value")
    b = jl.Journeys.from_paths(as_float, nulls="nulls", value="value")
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    assert a.to_frame()["conversions"].tolist() == [2.0, 0.0, 1.0, 3.0]
    assert a.to_frame()["value"].tolist() == [5.0, 0.0, 7.0, 9.0]


def test_negative_integer_count_names_row_and_column() -> None:
    df = pd.DataFrame(
        {"path": pd.Series(["a", "b > a", "c"], dtype="str"), "n": [1, 0, 2], "no": [0, -3, 1]}
    )
    assert df["no"].dtype == "int64"
    with pytest.raises(jl.InvalidInputError, match=r"row 1, column 'no': negative count -3"):
        jl.Journeys.from_paths(df, conversions="n", nulls="no")


def test_boolean_count_column_is_refused() -> None:
    df = pd.DataFrame({"path": pd.Series(["a", "b"], dtype="str"), "c": [True, False]})
    with pytest.raises(jl.InvalidInputError, match="must be numeric, got booleans"):
        jl.Journeys.from_paths(df, conversions="c")


def test_big_endian_and_unaligned_count_columns() -> None:
    paths = pd.Series(["a > b", "b", "c > a"], dtype="str")
    raw = np.zeros(3 * 8 + 1, dtype=np.uint8)
    raw[1:] = np.array([2, 0, 1], dtype=np.int64).view(np.uint8)
    unaligned = np.frombuffer(raw.data, dtype=np.int64, count=3, offset=1)
    assert not unaligned.flags.aligned
    big = np.array([2, 0, 1], dtype=">i8")
    plain = jl.Journeys.from_paths({"path": paths, "n": [2.0, 0.0, 1.0]}, "path", "n")
    for counts in (big, unaligned):
        got = jl.Journeys.from_paths({"path": paths, "n": counts}, "path", "n")
        pd.testing.assert_frame_equal(got.to_frame(), plain.to_frame())
