"""Turning user columns (pandas, numpy, lists) into what the core reads.

Checks that need Python objects (missing columns, non-string paths, non-numeric
values) happen here and name the row and the column; checks on values (NaN,
negative counts, empty tokens) happen in C++ and name them too. Rows are
numbered from 0 by position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import InvalidInputError


def get_column(data: Any, name: str) -> Any:
    """Column ``name`` of a DataFrame or a mapping, or a clear error."""
    try:
        columns = list(data.columns) if hasattr(data, "columns") else list(data.keys())
    except AttributeError:
        msg = f"expected a DataFrame or a mapping of columns, got {type(data).__name__}"
        raise InvalidInputError(msg) from None
    if name not in columns:
        shown = ", ".join(repr(str(c)) for c in columns[:20])
        msg = (
            f"column {name!r} not found (columns: {shown}): pass the name of the column "
            "that holds it to the matching argument"
        )
        raise InvalidInputError(msg)
    return data[name]


def as_float_column(values: Any, name: str, n_rows: int) -> npt.NDArray[np.float64]:
    """A float64 array of ``values``; the first non-numeric row is named."""
    if hasattr(values, "to_numpy"):
        dtype = getattr(values, "dtype", None)
        if dtype is not None and getattr(dtype, "kind", "O") in "iuf":
            arr = np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            arr = np.asarray(values.to_numpy())
    else:
        arr = np.asarray(values)
    if arr.ndim != 1:
        msg = f"column {name!r} must be one-dimensional, got shape {arr.shape}"
        raise InvalidInputError(msg)
    if len(arr) != n_rows:
        msg = f"column {name!r} has {len(arr)} rows, the paths have {n_rows}"
        raise InvalidInputError(msg)
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "b":
        msg = f"column {name!r} must be numeric, got booleans"
        raise InvalidInputError(msg)
    out = np.empty(n_rows, dtype=np.float64)
    for row, x in enumerate(arr):
        if x is None:
            out[row] = np.nan
            continue
        if isinstance(x, (bool, np.bool_, np.complexfloating)) or not isinstance(
            x, (int, float, np.number)
        ):
            msg = (
                f"row {row}, column {name!r}: expected a number, got {x!r}: "
                "give a number, or drop the row"
            )
            raise InvalidInputError(msg)
        out[row] = float(x)
    return out


def as_path_list(values: Any, name: str) -> tuple[list[str] | list[list[str]], bool]:
    """Paths as a list of strings, or of token lists (the flag says which)."""
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    if all(type(x) is str for x in items):
        return items, False
    if all(isinstance(x, (list, tuple)) for x in items):
        for row, tokens in enumerate(items):
            for t in tokens:
                if not isinstance(t, str):
                    msg = f"row {row}, column {name!r}: channel {t!r} is not a string"
                    raise InvalidInputError(msg)
        return [list(t) for t in items], True
    for row, x in enumerate(items):
        if not isinstance(x, str):
            msg = f"row {row}, column {name!r}: expected a path string, got {x!r}"
            raise InvalidInputError(msg)
    return [str(x) for x in items], False  # pragma: no cover - str subclasses


# dtypes the C++ core reads in place (numeric_column_view).
_IN_PLACE = frozenset(
    np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.float32, np.float64)
)


def as_count_column(values: Any, name: str, n_rows: int) -> npt.NDArray[Any]:
    """The column as a 1-d numpy array the C++ core reads in place: a column
    of integers (8 to 64 bits) or floats is passed as it is, without a
    converted copy; any other column goes through :func:`as_float_column`."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype in _IN_PLACE:
        arr = np.asarray(values)
        if arr.ndim == 1 and len(arr) == n_rows:
            arr = np.ascontiguousarray(arr)
            return arr if arr.flags.aligned else arr.copy()
    return as_float_column(values, name, n_rows)


def arrow_strings(values: Any) -> Any | None:
    """The column as Arrow string chunks (zero-copy where it already is Arrow),
    or None when it is not a column of strings (the caller then checks each
    row in Python and names the bad one)."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    try:
        arr = (
            pa.array(values, from_pandas=True)
            if not isinstance(values, (pa.Array, pa.ChunkedArray))
            else values
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = []
    for chunk in chunks:
        if pa.types.is_dictionary(chunk.type):
            chunk = chunk.dictionary_decode()
        if pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type):
            out.append(chunk)
        elif hasattr(pa.types, "is_string_view") and pa.types.is_string_view(chunk.type):
            out.append(chunk.cast(pa.large_string()))
        else:
            return None
    return out


def arrow_buffers(chunk: Any) -> tuple[Any, Any, Any, int]:
    """(offsets, characters, validity or None, validity bit offset) of an
    Arrow string chunk, as numpy views of its buffers."""
    import pyarrow as pa

    validity, offsets_buf, data_buf = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    n = len(chunk)
    offsets = np.frombuffer(
        offsets_buf, dtype=width, count=n + 1, offset=chunk.offset * np.dtype(width).itemsize
    )
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, np.uint8)
    )
    bits = None
    if chunk.null_count > 0 and validity is not None:
        bits = np.frombuffer(validity, dtype=np.uint8)
    return offsets, data, bits, chunk.offset


def is_columnar(data: Any) -> bool:
    """True for DataFrames and mappings of columns, False for a sequence of paths."""
    if hasattr(data, "columns") or isinstance(data, Mapping):
        return True
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
        if hasattr(data, "tolist"):
            return False
        kind = type(data).__name__
        msg = f"expected a DataFrame, a mapping of columns or a list of paths, got {kind}"
        raise InvalidInputError(msg)
    return False
