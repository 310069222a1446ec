"""Event-log columns into what the C++ builder reads.

Every column crosses into C++ as a numpy view of its buffer (integers, floats,
datetimes) or as Arrow string buffers; there is no Python loop over rows.
Copies happen only where the types differ: booleans and integer conversion
counts become float64, a column with nulls gets a byte mask, and a chunked
Arrow column is joined into one array.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from . import _core
from ._columns import arrow_buffers
from ._errors import DataWarning, InvalidInputError, outside_frames

__all__ = ["EventReport", "duration_in_units", "event_columns", "warn_about"]

_UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "m": 60.0, "h": 3600.0, "D": 86400.0}


#: (name, description, kind) of every field of the report, in order, from the
#: C++ core (event_report_fields); kind is "count", "rejection", "amount" or "flag".
_FIELDS: tuple[tuple[str, str, str], ...] = tuple(_core.event_report_fields())
# Fields the summary folds into the journeys line, or shows only in to_frame().
_FOLDED = frozenset(
    {"converting_journeys", "non_converting_journeys", "unattributed_conversions",
     "unattributed_value"}
)  # fmt: skip
# Rows kept with their value set aside: shown only when there are some.
_SET_ASIDE = ("bad_value", "value_without_conversion")


class EventReport:
    """An account of every row of an event log.

    ``rows_read == rows_used + rows_rejected + outside_lookback +
    conversions_without_touch`` always holds. Every field below is an
    attribute; the list is the C++ core's (``event_report_fields``).
    ``rows_rejected`` is the sum of the rejections, and
    ``unassigned_channels`` the channels missing from the channel metadata
    (team ``"unassigned"``).

    Attributes
    ----------
    """

    __slots__ = ("_values", "unassigned_channels")
    _values: dict[str, Any]
    unassigned_channels: tuple[str, ...]

    def __init__(self, *, unassigned_channels: Sequence[str] = (), **values: Any) -> None:
        names = {name for name, _, _ in _FIELDS} | {"rows_rejected"}
        if set(values) != names:
            missing, unknown = sorted(names - set(values)), sorted(set(values) - names)
            msg = f"EventReport fields: missing {missing}, unknown {unknown}"
            raise TypeError(msg)
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "unassigned_channels", tuple(unassigned_channels))

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        msg = f"'EventReport' object has no attribute {name!r}"
        raise AttributeError(msg)

    def __setattr__(self, name: str, value: Any) -> None:
        msg = "an EventReport is read-only"
        raise AttributeError(msg)

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._values]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventReport):
            return NotImplemented
        return (self._values, self.unassigned_channels) == (
            other._values,
            other.unassigned_channels,
        )

    def __hash__(self) -> int:
        return hash((tuple(self._values.items()), self.unassigned_channels))

    def __repr__(self) -> str:
        items = ", ".join(f"{name}={self._values[name]!r}" for name, _, _ in _FIELDS)
        return f"EventReport({items}, unassigned_channels={self.unassigned_channels!r})"

    def _repr_html_(self) -> str:
        """Notebook display: every count of the row account."""
        from ._display import report_html

        return report_html(self)

    def with_unassigned(self, channels: Sequence[str]) -> EventReport:
        """This report with ``unassigned_channels`` set."""
        return EventReport(unassigned_channels=channels, **self._values)

    def to_frame(self) -> pd.DataFrame:
        """The report as a two-column DataFrame (``item``, ``value``)."""
        items: list[tuple[str, Any]] = [(name, self._values[name]) for name, _, _ in _FIELDS]
        items.insert(2, ("rows_rejected", self._values["rows_rejected"]))
        items.append(("unassigned_channels", ", ".join(self.unassigned_channels)))
        return pd.DataFrame({"item": [k for k, _ in items], "value": [v for _, v in items]})

    def __str__(self) -> str:
        rows: list[tuple[str, str]] = []
        for name, _, kind in _FIELDS:
            value = self._values[name]
            label = name.replace("_", " ")
            if kind == "rejection":
                if value:
                    rows.append((f"  {name}", f"{value:,}"))
                continue
            if name in _FOLDED or (name in _SET_ASIDE and not value):
                continue
            if kind == "amount":
                text = f"{value:,.10g}"
            elif kind == "flag":
                text = str(value)
            else:
                text = f"{value:,}"
            rows.append((label, text))
            if name == "rows_used":
                rows.append(("rows rejected", f"{self._values['rows_rejected']:,}"))
        # Labels left, numbers right, in columns as wide as the widest entry.
        width = max(len(label) for label, _ in rows) + 4
        digits = max(len(text) for _, text in rows)
        lines = []
        for label, text in rows:
            line = f"{label:<{width}}{text:>{digits}}"
            if label == "journeys":
                converting = self._values["converting_journeys"]
                line += (
                    f" ({converting:,} converting, {self._values['non_converting_journeys']:,} not)"
                )
            lines.append(line)
        if self.unassigned_channels:
            lines.append("unassigned channels  " + ", ".join(self.unassigned_channels))
        return "\n".join(lines)


EventReport.__doc__ = (EventReport.__doc__ or "") + "".join(
    f"    {name}\n        {description[0].upper()}{description[1:]}.\n"
    for name, description, _ in _FIELDS
)


# ---------------------------------------------------------------------------
# columns


def _table_getter(data: Any) -> Any:
    """A function name -> column for any supported container."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return data
    if isinstance(data, Mapping):
        return data
    if hasattr(data, "__arrow_c_stream__"):
        # polars and any other Arrow PyCapsule producer.
        return pa.table(data)
    msg = (
        "expected a pandas DataFrame, a pyarrow Table, an object with the Arrow "
        f"PyCapsule stream interface or a dict of arrays, got {type(data).__name__}"
    )
    raise InvalidInputError(msg)


def _column(table: Any, name: str) -> Any:
    names = list(table.column_names) if isinstance(table, (pa.Table, pa.RecordBatch)) else None
    if names is None:
        names = list(table.columns) if isinstance(table, pd.DataFrame) else list(table.keys())
    if name not in names:
        shown = ", ".join(repr(str(c)) for c in names[:20])
        msg = (
            f"column {name!r} not found (columns: {shown}): pass the name of the column "
            "that holds it to the matching argument"
        )
        raise InvalidInputError(msg)
    col = table.column(name) if isinstance(table, (pa.Table, pa.RecordBatch)) else table[name]
    if isinstance(col, (pd.Series, pa.Array, pa.ChunkedArray, np.ndarray)):
        return col
    if hasattr(col, "__arrow_c_stream__") or hasattr(col, "__arrow_c_array__"):
        return pa.chunked_array(col) if hasattr(col, "__arrow_c_stream__") else pa.array(col)
    try:
        return pa.array(col, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        raise InvalidInputError(_mixed_types(col, name)) from None


def _contiguous(values: Any, dtype: Any = None) -> np.ndarray[Any, Any]:
    """``values`` as a C-contiguous, aligned numpy array (copied only when it is
    not one already). An Arrow buffer read from a file may start at an address
    that is no multiple of its item size; the core reads items in place."""
    return np.require(values, dtype=dtype, requirements=["C", "A"])


def _one_array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow array (a chunked column is joined, strings as large_string)."""
    if isinstance(col, pa.Array):
        return col
    if col.num_chunks == 1:
        return col.chunk(0)
    if col.num_chunks == 0:
        return pa.array([], type=col.type)
    if pa.types.is_string(col.type):
        col = col.cast(pa.large_string())
    return col.combine_chunks()


def _mask(arr: pa.Array) -> npt.NDArray[np.uint8] | None:
    if arr.null_count == 0:
        return None
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.uint8)


def _int64_values(arr: pa.Array) -> npt.NDArray[np.int64]:
    """The int64 values of an Arrow array (nulls hold arbitrary values)."""
    if arr.type != pa.int64():
        arr = arr.cast(pa.int64(), safe=True)
    buf = arr.buffers()[1]
    return _contiguous(np.frombuffer(buf, dtype=np.int64, count=len(arr), offset=arr.offset * 8))


def _strings(arr: pa.Array, name: str) -> tuple[Any, Any, Any, int]:
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if hasattr(pa.types, "is_string_view") and pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.large_string())
    if pa.types.is_null(arr.type):
        arr = arr.cast(pa.string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        msg = f"column {name!r} must hold strings, got {arr.type}"
        raise InvalidInputError(msg)
    return arrow_buffers(arr)


def _as_arrow(col: Any, name: str) -> pa.Array:
    if isinstance(col, (pa.Array, pa.ChunkedArray)):
        return _one_array(col)
    try:
        return _one_array(pa.array(col, from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        raise InvalidInputError(_mixed_types(col, name)) from None


def _kind(x: Any) -> str:
    """The kind of one value of a column, in the words of the messages."""
    if isinstance(x, str):
        return "string"
    if isinstance(x, (bool, np.bool_)):
        return "boolean"
    if isinstance(x, (int, float, np.integer, np.floating)):
        return "number"
    if isinstance(x, (dt.datetime, dt.date, np.datetime64)):
        return "datetime"
    return type(x).__name__


def _mixed_types(col: Any, name: str) -> str:
    """The message for a column Arrow cannot read: the first row whose kind
    differs from the first value's (only on this failing path is the column
    walked in Python)."""
    values = col.tolist() if hasattr(col, "tolist") else list(col)
    first: tuple[int, str] | None = None
    for row, x in enumerate(values):
        if x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and x != x):
            continue
        kind = _kind(x)
        if kind not in ("string", "boolean", "number", "datetime"):
            return (
                f"row {row}, column {name!r}: {x!r} is a {kind}, which a column cannot hold; "
                "give strings or numbers"
            )
        if first is None:
            first = (row, kind)
        elif kind != first[1]:
            return (
                f"row {row}, column {name!r}: {x!r} is a {kind}, but row {first[0]} holds a "
                f"{first[1]}; a column holds one type (convert it, e.g. with .astype(str))"
            )
    return f"column {name!r}: values of an unsupported type; give strings or numbers"


def _numpy_of(col: Any) -> np.ndarray[Any, Any] | None:
    """The numpy array behind a plain numpy column or Series, else None."""
    if isinstance(col, np.ndarray):
        return col
    if isinstance(col, pd.Series) and isinstance(col.dtype, np.dtype):
        return col.to_numpy()
    return None


def customer_column(col: Any, name: str) -> dict[str, Any]:
    values = _numpy_of(col)
    if values is not None and values.dtype.kind in "iu":
        return {"customer_ids": _checked_int64(values, name)}
    if values is not None and values.dtype.kind == "f":
        return _float_ids(values, name)
    arr = _as_arrow(col, name)
    if pa.types.is_integer(arr.type):
        try:
            return {"customer_ids": _int64_values(arr), "customer_valid": _mask(arr)}
        except (pa.ArrowInvalid, OverflowError):
            msg = f"column {name!r}: customer ids above 2**63 - 1"
            raise InvalidInputError(msg) from None
    if pa.types.is_floating(arr.type):
        return _float_ids(arr.to_numpy(zero_copy_only=False), name)
    return {"customer_names": _strings(arr, name)}


def _float_ids(values: np.ndarray[Any, Any], name: str) -> dict[str, Any]:
    """Customer ids held as floats (a pandas integer column with NaN): whole
    numbers are the ids, NaN is a missing customer (counted in the report's
    null_customer); any other value names its row."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    whole = np.where(missing, 0.0, values)
    bad = ~(np.isfinite(whole) & (np.floor(whole) == whole) & (np.abs(whole) < 2.0**63))
    if bad.any():
        row = int(np.argmax(bad))
        msg = (
            f"row {row}, column {name!r}: customer id {float(values[row])!r} is not a whole "
            "number; customer ids must be integers or strings"
        )
        raise InvalidInputError(msg)
    out: dict[str, Any] = {"customer_ids": whole.astype(np.int64)}
    if missing.any():
        out["customer_valid"] = (~missing).astype(np.uint8)
    return out


def _checked_int64(values: np.ndarray[Any, Any], name: str) -> npt.NDArray[np.int64]:
    if values.dtype == np.uint64 and len(values) and values.max() > np.iinfo(np.int64).max:
        msg = f"column {name!r}: customer ids above 2**63 - 1"
        raise InvalidInputError(msg)
    return _contiguous(values, dtype=np.int64)


def time_column(col: Any, name: str) -> tuple[dict[str, Any], float]:
    """The time column, and seconds per unit (0 for plain numbers)."""
    values = _numpy_of(col)
    if values is not None:
        kind = values.dtype.kind
        if kind in "Mm":
            unit, count = np.datetime_data(values.dtype)
            if unit not in _UNIT_SECONDS:
                msg = f"column {name!r}: unsupported time unit {values.dtype}"
                raise InvalidInputError(msg)
            return {"time": _contiguous(values).view(np.int64)}, _UNIT_SECONDS[unit] * count
        if kind in "iu":
            return {"time": _contiguous(values, dtype=np.int64)}, 0.0
        if kind == "f":
            return {"time_real": _contiguous(values, dtype=np.float64)}, 0.0
        if kind == "b":
            msg = f"column {name!r}: times must be datetimes or numbers, got booleans"
            raise InvalidInputError(msg)
    arr = _as_arrow(col, name)
    t = arr.type
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        return {"time": _int64_values(arr), "time_valid": _mask(arr)}, _UNIT_SECONDS[t.unit]
    if pa.types.is_date32(t):
        return {"time": _int64_values(arr.cast(pa.int32())), "time_valid": _mask(arr)}, 86400.0
    if pa.types.is_date64(t):
        return {"time": _int64_values(arr), "time_valid": _mask(arr)}, 1e-3
    if pa.types.is_integer(t):
        return {"time": _int64_values(arr), "time_valid": _mask(arr)}, 0.0
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        real = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return {"time_real": _contiguous(real, dtype=np.float64)}, 0.0
    msg = f"column {name!r}: times must be datetimes or numbers, got {t}" + (
        " (parse strings with pandas.to_datetime)"
        if pa.types.is_string(t) or pa.types.is_large_string(t)
        else ""
    )
    raise InvalidInputError(msg)


def channel_column(col: Any, name: str) -> dict[str, Any]:
    if isinstance(col, pd.Series) and isinstance(col.dtype, pd.CategoricalDtype):
        codes = _contiguous(col.cat.codes.to_numpy())
        categories = col.cat.categories
        if len(categories) and categories.inferred_type != "string":
            msg = f"column {name!r}: channel categories must be strings"
            raise InvalidInputError(msg)
        dictionary = pa.array(categories.astype(object), type=pa.string())
        return {"channel_codes": codes, "channel_dictionary": _strings(dictionary, name)}
    if isinstance(col, pa.ChunkedArray) and pa.types.is_dictionary(col.type):
        col = col.unify_dictionaries()
        dictionary = col.chunk(0).dictionary if col.num_chunks else pa.array([], pa.string())
        indices = pa.chunked_array(
            [c.indices for c in col.chunks], type=col.type.index_type
        ).combine_chunks()
        return _coded(indices, dictionary, name)
    if isinstance(col, pa.Array) and pa.types.is_dictionary(col.type):
        return _coded(col.indices, col.dictionary, name)
    return {"channel": _strings(_as_arrow(col, name), name)}


def _coded(indices: pa.Array, dictionary: pa.Array, name: str) -> dict[str, Any]:
    if pa.types.is_unsigned_integer(indices.type):
        indices = indices.cast(pa.int64())
    codes = indices.fill_null(-1) if indices.null_count else indices
    return {
        "channel_codes": _contiguous(codes.to_numpy(zero_copy_only=False)),
        "channel_dictionary": _strings(dictionary, name),
    }


def number_column(col: Any, name: str, allow_bool: bool) -> np.ndarray[Any, Any]:
    """A numeric column as numpy, in place where it is already bool, int8-64,
    float32 or float64 (nulls become NaN)."""
    values = _numpy_of(col)
    if values is not None and values.dtype.kind in "iufb":
        if values.dtype.kind == "b" and not allow_bool:
            msg = f"column {name!r} must be numeric, got booleans"
            raise InvalidInputError(msg)
        if values.dtype.kind == "u" and values.dtype.itemsize > 1:
            return _contiguous(values, dtype=np.float64)
        if not values.dtype.isnative:  # the core reads the machine's byte order
            values = values.astype(values.dtype.newbyteorder("="))
        return _contiguous(values)
    arr = _as_arrow(col, name)
    t = arr.type
    if pa.types.is_boolean(t) and not allow_bool:
        msg = f"column {name!r} must be numeric, got booleans"
        raise InvalidInputError(msg)
    if not (
        pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_null(t)
    ):
        msg = f"column {name!r} must be {'boolean or ' if allow_bool else ''}numeric, got {t}"
        raise InvalidInputError(msg)
    if (
        arr.null_count == 0
        and (pa.types.is_boolean(t) or pa.types.is_signed_integer(t) or pa.types.is_floating(t))
        and not pa.types.is_float16(t)
    ):
        return _contiguous(arr.to_numpy(zero_copy_only=False))
    real = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return _contiguous(real, dtype=np.float64)


def event_columns(
    data: Any,
    customer: str,
    time: str,
    channel: str,
    conversion: str | None,
    value: str | None,
) -> tuple[dict[str, Any], float]:
    """Keyword arguments of ``_core.build_events`` for the columns, and the
    seconds per time unit."""
    table = _table_getter(data)
    kwargs: dict[str, Any] = {}
    kwargs.update(customer_column(_column(table, customer), customer))
    time_kwargs, unit = time_column(_column(table, time), time)
    kwargs.update(time_kwargs)
    kwargs.update(channel_column(_column(table, channel), channel))
    if conversion is not None:
        kwargs["conversion"] = number_column(_column(table, conversion), conversion, True)
    if value is not None:
        if conversion is None:
            msg = "a value column needs a conversion column: pass conversion= too"
            raise InvalidInputError(msg)
        kwargs["value"] = number_column(_column(table, value), value, False)
    return {k: v for k, v in kwargs.items() if v is not None}, unit


def duration_in_units(x: Any, unit_seconds: float, name: str) -> float | None:
    """A lookback, inactivity gap or half-life in the time column's units.

    Datetime times take a duration (``"30D"``, a timedelta); numeric times
    take a number in their own units.
    """
    if x is None:
        return None
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.timedelta64)
    ):
        if unit_seconds > 0:
            msg = f"{name}: the times are datetimes; give a duration such as '30D', not {x!r}"
            raise InvalidInputError(msg)
        return float(x)
    if not isinstance(x, (str, dt.timedelta, np.timedelta64, pd.Timedelta)):
        msg = f"{name} must be a duration such as '30D' or a timedelta, got {x!r}"
        raise InvalidInputError(msg)
    try:
        td = pd.Timedelta(x)
    except (ValueError, TypeError) as e:
        msg = f"{name}: cannot read {x!r} as a duration ({e})"
        raise InvalidInputError(msg) from None
    if pd.isna(td):
        msg = f"{name} must be a duration, got NaT"
        raise InvalidInputError(msg)
    if unit_seconds == 0:
        msg = f"{name}: the times are plain numbers; give {name} as a number in their units"
        raise InvalidInputError(msg)
    return float(td.value) * 1e-9 / unit_seconds


def warn_about(report: EventReport, *, conversion_given: bool) -> None:
    """One :class:`DataWarning` naming the counts when rows were rejected,
    values set aside or conversions left without a touch, or when nothing
    converts; nothing otherwise. The warning points at the first caller
    outside journeyloop."""
    r = report
    parts: list[str] = []
    if r.rows_rejected:
        reasons = ", ".join(
            f"{name} {r._values[name]:,}"
            for name, _, kind in _FIELDS
            if kind == "rejection" and r._values[name]
        )
        parts.append(f"{r.rows_rejected:,} of {r.rows_read:,} rows rejected ({reasons})")
    if r.bad_value:
        parts.append(
            f"{r.bad_value:,} conversions kept with a missing, negative or infinite value "
            "taken as 0 (bad_value)"
        )
    if r.value_without_conversion:
        parts.append(
            f"{r.value_without_conversion:,} touches kept with their value ignored "
            "(value_without_conversion)"
        )
    if r.conversions_without_touch:
        parts.append(
            f"{r.conversions_without_touch:,} conversions with no touch to credit, "
            f"{r.unattributed_conversions:,.10g} conversions and value "
            f"{r.unattributed_value:,.10g} unattributed (conversions_without_touch)"
        )
    if not conversion_given and r.rows_read:
        parts.append("no conversion column given: nothing converts")
    elif r.rows_read and not r.conversions and not r.conversions_without_touch:
        parts.append("no row converts")
    if parts:
        warnings.warn("; ".join(parts) + "; see .report", DataWarning, stacklevel=outside_frames())
