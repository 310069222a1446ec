"""Journeys: the input of every attribution method."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from . import _core
from ._columns import (
    arrow_buffers,
    arrow_strings,
    as_float_column,
    as_path_list,
    get_column,
    is_columnar,
)

__all__ = ["Journeys"]


class Journeys:
    """A set of customer journeys (funnel form) with their outcomes.

    Each row is a channel sequence with a number of conversions, a number of
    non-converting outcomes (nulls) and a conversion value. Rows are kept as
    given; duplicate paths are summed by the models. Build one with
    :meth:`from_paths`.

    Examples
    --------
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b"], conversions=[1, 0], nulls=[1, 2])
    >>> j
    Journeys(2 rows, 2 channels, 1 conversions, 3 nulls, value 0)
    >>> j.channels
    ['a', 'b']
    """

    __slots__ = ("_set",)

    def __init__(self, journey_set: _core.journey_set) -> None:
        self._set = journey_set

    @classmethod
    def from_paths(
        cls,
        data: Any,
        path: str = "path",
        conversions: str | Sequence[float] | None = "conversions",
        nulls: str | Sequence[float] | None = None,
        value: str | Sequence[float] | None = None,
        sep: str = ">",
    ) -> Journeys:
        """Journeys from a path table (ChannelAttribution's format).

        Parameters
        ----------
        data
            A pandas DataFrame (or a mapping of columns) holding the path
            column and the count columns; or a list of paths, each a string
            like ``"email > demo"`` or a list of channel names, in which case
            ``conversions``, ``nulls`` and ``value`` are sequences (or None).
        path
            Name of the path column (ignored when ``data`` is a list).
        conversions
            Name of the conversions column, or a sequence of counts. With a
            list of paths, None means one conversion per path.
        nulls
            Name (or sequence) of the non-converting counts; None means no
            non-converting outcomes.
        value
            Name (or sequence) of the conversion value; None means value 0.
        sep
            Separator between channels; tokens are trimmed of blanks.

        Returns
        -------
        Journeys
            Channels are numbered in order of first appearance.

        Raises
        ------
        InvalidInputError
            For a missing column, a path that is not a string, an empty path
            or empty channel name (``"a >> b"``), a count or value that is
            not a number, NaN, infinite or negative, or a value on a row
            without conversions. The message names the row (0-based
            position) and the column.
        """
        if is_columnar(data):
            paths_col = get_column(data, path)
            chunks = arrow_strings(paths_col)
            if chunks is None:
                paths, tokenized = as_path_list(paths_col, path)
                n = len(paths)
            else:
                n = sum(len(c) for c in chunks)
            if conversions is None:
                msg = "conversions is required with a table: give the conversions column"
                raise _core.InvalidInputError(msg)

            def column(spec: str | Sequence[float] | None, name: str) -> Any:
                if spec is None:
                    return None
                if isinstance(spec, str):
                    return as_float_column(get_column(data, spec), spec, n)
                return as_float_column(spec, name, n)

            names = {
                "conversions": conversions if isinstance(conversions, str) else "conversions",
                "nulls": nulls if isinstance(nulls, str) else "nulls",
                "value": value if isinstance(value, str) else "value",
            }
            conv = column(conversions, "conversions")
            nul = column(nulls, "nulls")
            val = column(value, "value")
            options = _core.path_options(
                sep, path, names["conversions"], names["nulls"], names["value"]
            )
            if chunks is not None:
                # Arrow strings: the C++ core reads the buffers in place.
                js = _core.journey_set()
                first = 0
                for chunk in chunks:
                    offsets, chars, bits, bit_offset = arrow_buffers(chunk)
                    end = first + len(chunk)
                    js.append_arrow(
                        offsets, chars, bits, bit_offset, conv[first:end],
                        None if nul is None else nul[first:end],
                        None if val is None else val[first:end],
                        options, first,
                    )  # fmt: skip
                    first = end
                return cls(js)
        else:
            path = "path"
            paths, tokenized = as_path_list(data, path)
            n = len(paths)
            names = {"conversions": "conversions", "nulls": "nulls", "value": "value"}
            for spec, name in ((conversions, "conversions"), (nulls, "nulls"), (value, "value")):
                if isinstance(spec, str) and spec != name:
                    msg = f"with a list of paths, {name} must be a sequence, not {spec!r}"
                    raise _core.InvalidInputError(msg)
            conv = (
                np.ones(n)
                if conversions is None or isinstance(conversions, str)
                else as_float_column(conversions, "conversions", n)
            )
            nul = (
                None
                if nulls is None or isinstance(nulls, str)
                else as_float_column(nulls, "nulls", n)
            )
            val = (
                None
                if value is None or isinstance(value, str)
                else as_float_column(value, "value", n)
            )
            options = _core.path_options(
                sep, path, names["conversions"], names["nulls"], names["value"]
            )
        if tokenized:
            js = _core.journey_set.from_token_lists(
                cast("list[list[str]]", paths), conv, nul, val, options
            )
        else:
            js = _core.journey_set.from_paths(cast("list[str]", paths), conv, nul, val, options)
        return cls(js)

    @property
    def channels(self) -> list[str]:
        """Channel names, in order of first appearance."""
        return list(self._set.channels)

    @property
    def total_conversions(self) -> float:
        """Sum of the conversions of all rows."""
        return float(self._set.total_conversions)

    @property
    def total_nulls(self) -> float:
        """Sum of the non-converting outcomes of all rows."""
        return float(self._set.total_nulls)

    @property
    def total_value(self) -> float:
        """Sum of the conversion value of all rows."""
        return float(self._set.total_value)

    def to_frame(self, sep: str = " > ") -> pd.DataFrame:
        """The rows as a DataFrame with columns path, conversions, nulls, value."""
        return pd.DataFrame(
            {
                "path": self._set.path_strings(sep),
                "conversions": self._set.column("conversions"),
                "nulls": self._set.column("nulls"),
                "value": self._set.column("value"),
            }
        )

    def __len__(self) -> int:
        return len(self._set)

    def __repr__(self) -> str:
        return (
            f"Journeys({len(self)} rows, {len(self._set.channels)} channels, "
            f"{self.total_conversions:g} conversions, {self.total_nulls:g} nulls, "
            f"value {self.total_value:.10g})"
        )
