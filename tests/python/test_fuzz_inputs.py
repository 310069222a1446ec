"""Arbitrary inputs at the Python entry points (docs/fuzzing.md).

Hypothesis builds DataFrames of every kind a user may hand over (dtypes,
nulls, NaN, inf, empty, huge values, unicode and separator characters,
categorical, Arrow-backed, time zones mixed) for ``Journeys.from_paths`` and
``Journeys.from_events``, and arbitrary or damaged bytes for ``from_bytes``
of counts and models. Each call either returns a valid result (the row
account holds, no figure is NaN) or raises a ``jl.JourneyloopError``: never
another exception, a crash or a hang.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeyloop as jl

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TOKENS = [
    "email",
    "search",
    "demo",
    "purchase",
    " ",
    "",
    "é",
    "日本",
    "a>b",
    "x,y",
    "|",
    "\t",
    "\n",
]
NUMBERS = [0.0, 1.0, 2.0, 3.5, -1.0, math.nan, math.inf, -math.inf, 1e308, 5e-324, -0.0]


STRING_DTYPES: list[Any] = [
    object,
    "string",
    pd.ArrowDtype(pa.string()),
    pd.ArrowDtype(pa.large_string()),
    "category",
]


def texts() -> st.SearchStrategy[str]:
    """Channel-like strings: names, separators, blanks, unicode."""
    return st.one_of(
        st.sampled_from(TOKENS),
        st.text(alphabet=st.sampled_from(list("ab >,|é\x00\u2028 ")), max_size=6),
        st.text(max_size=4),
    )


def paths() -> st.SearchStrategy[str]:
    return st.lists(texts(), min_size=1, max_size=4).map(" > ".join)


def number_column(n: int) -> st.SearchStrategy[Any]:
    """A numeric column of length n in one of the forms users hand over."""
    floats = st.one_of(st.sampled_from(NUMBERS), st.floats(allow_nan=True))
    small = st.integers(0, 5)
    return st.one_of(
        st.lists(floats, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.float64)),
        st.lists(small, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.int8)),
        st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n).map(
            lambda v: np.array(v, dtype=np.int64)
        ),
        st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n).map(
            lambda v: np.array(v, dtype=np.uint64)
        ),
        st.lists(st.booleans(), min_size=n, max_size=n).map(lambda v: np.array(v, dtype=bool)),
        st.lists(st.one_of(st.none(), small), min_size=n, max_size=n).map(
            lambda v: pd.array(v, dtype="Int64")
        ),
        st.lists(st.one_of(st.none(), floats), min_size=n, max_size=n).map(
            lambda v: pd.array(v, dtype=pd.ArrowDtype(pa.float64()))
        ),
        st.lists(st.one_of(st.none(), small, texts(), floats), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype=object)
        ),
        st.lists(st.sampled_from(["1", "0", "2.5", "x", ""]), min_size=n, max_size=n),
    )


def string_column(n: int, values: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """A string column of length n: object, pandas str, Arrow, categorical."""
    items = st.lists(st.one_of(values, st.none()), min_size=n, max_size=n)
    return st.one_of(
        items.map(lambda v: pd.Series(v, dtype=object)),
        items.map(lambda v: pd.Series(v, dtype="string")),
        items.map(lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.string()))),
        items.map(lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.large_string()))),
        items.map(lambda v: pd.Series(v, dtype="category")),
        st.lists(values, min_size=n, max_size=n),
        st.lists(st.integers(-2, 3), min_size=n, max_size=n).map(lambda v: np.array(v)),
    )


def time_column(n: int) -> st.SearchStrategy[Any]:
    """Times: integers, floats, naive and zoned datetimes, mixed zones, text."""
    stamps = st.datetimes(
        min_value=pd.Timestamp("1970-01-01").to_pydatetime(),
        max_value=pd.Timestamp("2200-01-01").to_pydatetime(),
    )
    zoned = st.sampled_from(["UTC", "Europe/Paris", "Asia/Tokyo", "America/New_York"])
    ints = st.lists(st.integers(-5, 5), min_size=n, max_size=n)
    return st.one_of(
        ints.map(lambda v: np.array(v, dtype=np.int64)),
        st.lists(st.sampled_from(NUMBERS), min_size=n, max_size=n).map(np.array),
        st.lists(stamps, min_size=n, max_size=n).map(pd.to_datetime),
        st.tuples(st.lists(stamps, min_size=n, max_size=n), zoned).map(
            lambda t: pd.to_datetime(t[0]).tz_localize(t[1], ambiguous="NaT", nonexistent="NaT")
        ),
        st.lists(st.tuples(stamps, zoned), min_size=n, max_size=n).map(
            lambda v: pd.Series(
                [pd.Timestamp(s).tz_localize(z, ambiguous=True, nonexistent="NaT") for s, z in v],
                dtype=object,
            )
        ),
        st.lists(st.one_of(st.none(), stamps), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype="datetime64[ns]")
        ),
        st.lists(st.sampled_from(["2024-01-01", "x", ""]), min_size=n, max_size=n),
    )


def call(f: Callable[[], Any]) -> Any:
    """f's result, or None when it raised one of journeyloop's errors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jl.DataWarning)
            return f()
    except jl.JourneyloopError:
        return None


def finite(*xs: float) -> bool:
    return all(not math.isnan(float(x)) for x in xs)


def check_rows(j: jl.Journeys | jl.Histories) -> None:
    """A result is valid: no NaN figure, and the report (if any) accounts for every row."""
    if isinstance(j, jl.Histories):
        assert finite(j.total_purchases, j.total_value)
        total = j.total_purchases
    else:
        assert finite(j.total_conversions, j.total_nulls, j.total_value)
        total = j.total_conversions
    r = j.report
    if r is not None:
        assert r.rows_read == (
            r.rows_used + r.rows_rejected + r.outside_lookback + r.conversions_without_touch
        )
        assert r.journeys == len(j) == r.converting_journeys + r.non_converting_journeys
        assert finite(r.conversions, r.value, r.unattributed_conversions, r.unattributed_value)
        assert r.conversions == pytest.approx(total, rel=1e-12)
        assert r.value == pytest.approx(j.total_value, rel=1e-12)


@st.composite
def path_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, Any]]:
    n = draw(st.integers(0, 6))
    if draw(st.booleans()):
        # Mostly well-formed, so that accepted tables are explored too.
        clean = st.sampled_from(["email", "search", "demo", "purchase", "é"])
        counts = st.lists(st.integers(0, 3), min_size=n, max_size=n).map(np.array)
        df = pd.DataFrame(
            {
                "path": draw(
                    st.lists(st.lists(clean, min_size=1, max_size=4), min_size=n, max_size=n)
                ),
                "conversions": draw(counts),
                "nulls": draw(counts),
                "value": draw(st.one_of(counts, number_column(n))),
            }
        )
        dtype = draw(st.sampled_from(STRING_DTYPES))
        df["path"] = pd.Series(df["path"].map(" > ".join), dtype=dtype)
    else:
        df = pd.DataFrame(
            {
                "path": draw(string_column(n, paths())),
                "conversions": draw(number_column(n)),
                "nulls": draw(number_column(n)),
                "value": draw(number_column(n)),
            }
        )
    kwargs: dict[str, Any] = {
        "sep": draw(st.sampled_from([">", ",", "|", " ", ">>"])),
        "nulls": draw(st.sampled_from([None, "nulls"])),
        "value": draw(st.sampled_from([None, "value"])),
    }
    return df, kwargs


@SETTINGS
@given(path_frames(), st.sampled_from(["funnel", "loop"]))
def test_from_paths_accepts_or_raises_its_errors(
    frame: tuple[pd.DataFrame, dict[str, Any]], form: str
) -> None:
    df, kwargs = frame
    if form == "loop":
        kwargs = {"sep": kwargs["sep"], "count": "conversions", "value": kwargs["value"]}
    j = call(lambda: jl.Journeys.from_paths(df, form=form, **kwargs))  # type: ignore[call-overload]
    if j is not None:
        check_rows(j)
        if form == "funnel":
            assert len(j) == len(df)


@st.composite
def event_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, Any]]:
    n = draw(st.integers(0, 8))
    customers = st.one_of(
        st.lists(st.integers(-3, 3), min_size=n, max_size=n).map(np.array),
        st.lists(st.sampled_from([1.0, 2.0, math.nan]), min_size=n, max_size=n).map(np.array),
        string_column(n, st.sampled_from(["u1", "u2", "", "ü"])),
    )
    if draw(st.booleans()):
        # Mostly well-formed, so that accepted logs are explored too.
        df = pd.DataFrame(
            {
                "customer": draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
                "time": draw(
                    st.one_of(time_column(n), st.lists(st.integers(0, 4), min_size=n, max_size=n))
                ),
                "channel": draw(
                    st.lists(
                        st.sampled_from(["email", "demo", "ads", "purchase"]),
                        min_size=n,
                        max_size=n,
                    )
                ),
                "conversion": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
                "value": draw(
                    st.one_of(
                        st.lists(st.sampled_from([0.0, 10.0, math.nan]), min_size=n, max_size=n),
                        number_column(n),
                    )
                ),
            }
        )
    else:
        df = pd.DataFrame(
            {
                "customer": draw(customers),
                "time": draw(time_column(n)),
                "channel": draw(string_column(n, texts())),
                "conversion": draw(number_column(n)),
                "value": draw(number_column(n)),
            }
        )
    windows = st.one_of(st.none(), st.sampled_from([1, 2.5, 0, -1, math.nan, math.inf]))
    kwargs: dict[str, Any] = {
        "conversion": draw(st.sampled_from([None, "conversion"])),
        "value": draw(st.sampled_from([None, "value"])),
        "duplicates": draw(st.sampled_from(["keep", "drop"])),
        "conversion_is_touch": draw(st.booleans()),
        "strict": draw(st.booleans()),
        "lookback": draw(windows),
        "inactivity": draw(windows),
    }
    return df, kwargs


@SETTINGS
@given(event_frames(), st.sampled_from(["funnel", "loop"]))
def test_from_events_accepts_or_raises_its_errors(
    frame: tuple[pd.DataFrame, dict[str, Any]], form: str
) -> None:
    df, kwargs = frame
    j = call(lambda: jl.Journeys.from_events(df, form=form, **kwargs))  # type: ignore[call-overload]
    if j is not None:
        check_rows(j)
        assert j.report is not None and j.report.rows_read == len(df)


def saved_files() -> dict[str, tuple[Any, bytes]]:
    paths_df = pd.DataFrame(
        {
            "path": ["email > search > demo", "email", "search > demo", "ads > email"],
            "conversions": [1, 0, 2, 1],
            "nulls": [0, 3, 1, 0],
            "value": [100.0, 0, 50, 20],
        }
    )
    j = jl.Journeys.from_paths(paths_df, nulls="nulls", value="value")
    model = jl.MarkovModel().fit(j)
    h = jl.Journeys.from_paths(
        ["a > purchase > b > purchase", "b", "a > purchase"], form="loop", count=[2, 1, 1]
    )
    loop = jl.LoopModel().fit(h)
    return {
        "counts": (jl.TransitionCounts, model.counts_.to_bytes()),
        "markov": (jl.MarkovModel, model.to_bytes()),
        "loop": (jl.LoopModel, loop.to_bytes()),
    }


FILES = saved_files()


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """The saved bytes with a few bytes changed, cut or inserted; or anything."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=200))
    b = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(b) - 1))
        if kind == 1:
            b[i] = draw(st.integers(0, 255))
        elif kind == 2:
            del b[i:]
            break
        else:
            b[i:i] = draw(st.sampled_from([b"-", b"1e999", b"nan", b"\xff", b"[", b"9" * 30]))
    return bytes(b)


@SETTINGS
@given(st.sampled_from(sorted(FILES)), st.data())
def test_from_bytes_accepts_or_raises_its_errors(name: str, data: st.DataObject) -> None:
    cls, saved = FILES[name]
    blob = data.draw(damaged(saved))
    out = call(lambda: cls.from_bytes(blob))
    if out is None:
        return
    # Accepted: saved again it reads back with the same bytes.
    assert cls.from_bytes(out.to_bytes()).to_bytes() == out.to_bytes()
    if name == "markov":
        assert finite(out.conversion_rate_)


def test_from_bytes_of_the_saved_files() -> None:
    for cls, saved in FILES.values():
        assert cls.from_bytes(saved).to_bytes() == saved
