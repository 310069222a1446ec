"""Nothing is lost or distorted silently: bad values keep their rows, path
tables give their usual columns, event readers warn, customer columns are read
or refused with their row, and a purchase before any touch is never credited."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import journeyloop as jl


@contextmanager
def one_warning(message: str) -> Iterator[None]:
    """Exactly one warning is issued, a DataWarning with this exact text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    assert [(w.category, str(w.message)) for w in caught] == [(jl.DataWarning, message)]


def check_accounting(j: jl.Journeys | jl.Histories) -> None:
    r = j.report
    assert r is not None
    assert r.rows_read == (
        r.rows_used + r.rows_rejected + r.outside_lookback + r.conversions_without_touch
    )


# ---------------------------------------------------------------------------
# conversion values that are missing, negative or infinite


def big_log() -> pd.DataFrame:
    """10,000 customers of 5 rows each (50,000 rows): email, search, ads,
    demo, social; every 7th customer converts on its social row (1,429
    conversions) with value 10 + customer % 3."""
    customers = np.repeat(np.arange(10_000), 5)
    step = np.tile(np.arange(5), 10_000)
    converts = (step == 4) & (customers % 7 == 0)
    return pd.DataFrame(
        {
            "customer": customers,
            "time": step.astype(float),
            "channel": np.array(["email", "search", "ads", "demo", "social"])[step],
            "conversion": converts,
            "value": np.where(converts, 10.0 + customers % 3, np.nan),
        }
    )


def test_a_missing_or_negative_value_keeps_its_conversion() -> None:
    clean = big_log()
    bad = clean.copy()
    rows = np.flatnonzero(bad["conversion"].to_numpy())[:100]
    set_aside = float(bad.loc[rows, "value"].sum())
    bad.loc[rows[:60], "value"] = np.nan
    bad.loc[rows[60:90], "value"] = -1.0
    bad.loc[rows[90:], "value"] = np.inf
    a = jl.Journeys.from_events(clean, conversion="conversion", value="value")
    with one_warning(
        "100 conversions kept with a missing, negative or infinite value taken as 0 "
        "(bad_value); see .report"
    ):
        b = jl.Journeys.from_events(bad, conversion="conversion", value="value")
    ra, rb = a.report, b.report
    assert ra is not None and rb is not None
    assert (ra.bad_value, rb.bad_value) == (0, 100)
    assert rb.rows_rejected == 0 and rb.rows_used == rb.rows_read == 50_000
    # No conversion vanishes: the same journeys, conversions and nulls.
    assert b.total_conversions == a.total_conversions == 1_429
    assert b.total_nulls == a.total_nulls == 10_000 - 1_429
    fa, fb = a.to_frame(), b.to_frame()
    pd.testing.assert_frame_equal(fa.drop(columns="value"), fb.drop(columns="value"))
    # Only the 100 values are set aside (taken as 0).
    changed = fa["value"] != fb["value"]
    assert int(changed.sum()) == 100
    assert (fb.loc[changed, "value"] == 0).all()
    assert rb.value == ra.value - set_aside
    assert b.total_value == pytest.approx(rb.value, rel=1e-15)
    check_accounting(b)
    first = int(rows[0])
    with pytest.raises(
        jl.InvalidInputError,
        match=rf"row {first}, column 'value': missing value \(NaN\) on a conversion row; give "
        r"its value \(without strict the conversion is kept with value 0\)",
    ):
        jl.Journeys.from_events(bad, conversion="conversion", value="value", strict=True)
    neg = clean.copy()
    neg.loc[rows[5], "value"] = -2.5
    with pytest.raises(
        jl.InvalidInputError, match=rf"row {int(rows[5])}, column 'value': value -2\.5 is negative"
    ):
        jl.Journeys.from_events(neg, conversion="conversion", value="value", strict=True)


def test_a_stray_value_on_a_touch_keeps_the_touch() -> None:
    ev = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2],
            "time": [0.0, 1.0, 2.0, 0.0],
            "channel": ["email", "search", "demo", "ads"],
            "conversion": [0, 0, 1, 0],
            "value": [5.0, 0.0, 30.0, -1.0],
        }
    )
    with one_warning(
        "2 touches kept with their value ignored (value_without_conversion); see .report"
    ):
        j = jl.Journeys.from_events(ev, conversion="conversion", value="value")
    frame = j.to_frame()
    assert frame["path"].tolist() == ["email > search > demo", "ads"]
    assert frame["conversions"].tolist() == [1.0, 0.0]
    assert frame["value"].tolist() == [30.0, 0.0]
    r = j.report
    assert r is not None
    assert (r.value_without_conversion, r.rows_rejected, r.rows_used) == (2, 0, 4)
    assert "value without conversion" in str(r)
    check_accounting(j)
    with pytest.raises(
        jl.InvalidInputError,
        match=r"row 0, column 'value': value 5 on a row that is not a conversion; give 0 or a "
        r"missing value \(without strict the touch is kept and the value ignored\)",
    ):
        jl.Journeys.from_events(ev, conversion="conversion", value="value", strict=True)


# ---------------------------------------------------------------------------
# from_events warns


def test_from_events_warns_once_when_nothing_converts() -> None:
    ev = pd.DataFrame({"customer": [1, 1, 2], "time": [0, 1, 0], "channel": ["a", "b", "a"]})
    with one_warning("no conversion column given: nothing converts; see .report"):
        j = jl.Journeys.from_events(ev)
    assert j.total_conversions == 0 and j.total_nulls == 2
    with one_warning("no row converts; see .report"):
        jl.Journeys.from_events(ev.assign(conversion=False), conversion="conversion")
    with one_warning("no conversion column given: nothing converts; see .report"):
        jl.Histories.from_events(ev)
    # A clean log converts and warns of nothing (warnings are errors here).
    clean = jl.Journeys.from_events(ev.assign(conversion=[0, 1, 0]), conversion="conversion")
    assert clean.total_conversions == 1
    # No rows: nothing to warn of.
    assert len(jl.Journeys.from_events(ev.iloc[:0])) == 0


def test_from_events_warns_once_naming_rejected_rows() -> None:
    ev = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2],
            "time": [0, 0, 1, 0, 1],
            "channel": ["a", "a", None, "b", None],
            "conversion": [0, 0, 0, 0, 1],
        }
    )
    with one_warning("2 of 5 rows rejected (null_channel 1, duplicate 1); see .report"):
        j = jl.Journeys.from_events(ev, conversion="conversion", duplicates="drop")
    assert j.to_frame()["path"].tolist() == ["a", "b"]
    check_accounting(j)
    lone = pd.DataFrame({"customer": [1], "time": [0], "channel": [None], "conversion": [1]})
    with one_warning(
        "1 conversions with no touch to credit, 1 conversions and value 0 unattributed "
        "(conversions_without_touch); see .report"
    ):
        jl.Journeys.from_events(lone, conversion="conversion")


# ---------------------------------------------------------------------------
# customer columns


def test_a_missing_customer_in_a_float_column_is_counted() -> None:
    ev = pd.DataFrame(
        {
            "customer": [1.0, np.nan, 2.0, 1.0],
            "time": [0, 0, 0, 1],
            "channel": ["a", "b", "c", "d"],
            "conversion": [0, 0, 1, 1],
        }
    )
    with one_warning("1 of 4 rows rejected (null_customer 1); see .report"):
        j = jl.Journeys.from_events(ev, conversion="conversion")
    assert j.to_frame()["customer"].tolist() == [1, 2]
    assert j.to_frame()["path"].tolist() == ["a > d", "c"]
    r = j.report
    assert r is not None and r.null_customer == 1
    check_accounting(j)
    # The same from an Arrow float column with a null.
    table = pa.table(
        {
            "customer": pa.array([1.0, None, 2.0, 1.0]),
            "time": pa.array([0, 0, 0, 1]),
            "channel": pa.array(["a", "b", "c", "d"]),
            "conversion": pa.array([0, 0, 1, 1]),
        }
    )
    with one_warning("1 of 4 rows rejected (null_customer 1); see .report"):
        k = jl.Journeys.from_events(table, conversion="conversion")
    pd.testing.assert_frame_equal(k.to_frame(), j.to_frame())
    with pytest.raises(jl.InvalidInputError, match="row 3, column 'customer': customer id inf"):
        jl.Journeys.from_events(ev.assign(customer=[1.0, 2.0, 3.0, np.inf]))


def test_mixed_types_name_the_column_and_the_first_bad_row() -> None:
    ev = pd.DataFrame(
        {
            "customer": pd.Series([1, 2, "c3", 4], dtype=object),
            "time": [0, 1, 2, 3],
            "channel": pd.Series(["a", "b", "c", "d"], dtype=object),
        }
    )
    with pytest.raises(
        jl.InvalidInputError,
        match=r"row 2, column 'customer': 'c3' is a string, but row 0 holds a number; a column "
        r"holds one type \(convert it, e.g. with \.astype\(str\)\)",
    ) as e:
        jl.Journeys.from_events(ev)
    assert "pyarrow" not in str(e.value) and "Could not convert" not in str(e.value)
    with pytest.raises(
        jl.InvalidInputError,
        match=r"row 3, column 'channel': 7 is a number, but row 0 holds a string",
    ):
        jl.Journeys.from_events(ev.assign(customer=[1, 2, 3, 4], channel=["a", None, "c", 7]))
    with pytest.raises(
        jl.InvalidInputError,
        match=r"row 1, column 'conversion': 'yes' is a string, but row 0 holds a number",
    ):
        jl.Journeys.from_events(
            ev.assign(customer=[1, 2, 3, 4], conversion=pd.Series([0, "yes", 1, 0], dtype=object)),
            conversion="conversion",
        )


# ---------------------------------------------------------------------------
# path tables: the usual columns are read


def test_from_paths_reads_the_usual_columns_of_a_table() -> None:
    df = pd.DataFrame(
        {"path": ["a > b", "b", "a"], "conversions": [1, 0, 2], "nulls": [1, 2, 0],
         "value": [10.0, 0.0, 30.0]}
    )  # fmt: skip
    j = jl.Journeys.from_paths(df)
    assert repr(j) == "Journeys(3 rows, 2 channels, 3 conversions, 3 nulls, value 40)"
    assert j.to_frame()["nulls"].tolist() == [1.0, 2.0, 0.0]
    # ChannelAttribution's names.
    ca = df.rename(
        columns={"conversions": "total_conversions", "nulls": "total_null",
                 "value": "total_conversion_value"}
    )  # fmt: skip
    k = jl.Journeys.from_paths(ca)
    assert repr(k) == repr(j)
    pd.testing.assert_frame_equal(k.to_frame(), j.to_frame())
    a = jl.MarkovModel().fit(j).attribution().set_index("channel")
    b = jl.MarkovModel().fit(k).attribution().set_index("channel")
    pd.testing.assert_frame_equal(a, b)
    # The columns make a difference: with nulls the conversion rate is not 1.
    assert jl.MarkovModel().fit(j).conversion_rate_ == pytest.approx(3 / 6, abs=1e-12)
    # An explicit opt-out.
    none = jl.Journeys.from_paths(df, nulls=False, value=False)
    assert repr(none) == "Journeys(3 rows, 2 channels, 3 conversions, 0 nulls, value 0)"
    assert jl.MarkovModel().fit(none).conversion_rate_ == pytest.approx(1.0, abs=1e-12)
    # Other names are given explicitly, as before.
    named = jl.Journeys.from_paths(df.rename(columns={"nulls": "lost"}), nulls="lost")
    assert repr(named) == repr(j)
    # A list of paths has no columns to take.
    listed = jl.Journeys.from_paths(["a > b", "b"], conversions=[1, 0], nulls=[1, 2])
    assert repr(listed) == "Journeys(2 rows, 2 channels, 1 conversions, 3 nulls, value 0)"


def test_loop_from_paths_reads_count_and_value() -> None:
    df = pd.DataFrame(
        {"path": ["a > purchase > b", "b"], "customers": [2, 1], "value": [30.0, 0.0]}
    )
    h = jl.Histories.from_paths(df)
    assert repr(h) == "Histories(2 histories, 2 channels, 3 customers, 2 purchases, value 30)"
    assert repr(jl.Journeys.from_paths(df, form="loop")) == repr(h)
    off = jl.Histories.from_paths(df, count=False, value=False)
    assert repr(off) == "Histories(2 histories, 2 channels, 2 customers, 1 purchases, value 0)"


# ---------------------------------------------------------------------------
# a purchase before any touch: one rule for both inputs


def test_a_purchase_before_any_touch_is_counted_from_both_inputs() -> None:
    # Customer 1: purchase (no channel), a, purchase (no channel), purchase
    # on b; customer 2: a purchase only. Every purchase is worth 7, but
    # customer 2's 4.
    ev = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 1],
            "time": [0, 1, 2, 0, 3],
            "channel": [None, "a", None, None, "b"],
            "conversion": [1, 0, 1, 1, 1],
            "value": [7.0, 0.0, 7.0, 4.0, 7.0],
        }
    )
    with one_warning(
        "2 conversions with no touch to credit, 2 conversions and value 11 unattributed "
        "(conversions_without_touch); see .report"
    ):
        events = jl.Histories.from_events(ev, conversion="conversion", value="value")
    table = pd.DataFrame(
        {"path": ["purchase > a > purchase > b > purchase", "purchase"], "count": [1, 1],
         "value": [21.0, 4.0]}
    )  # fmt: skip
    with one_warning(
        "2 purchases before the first touch of a history, value 11, have no touch to credit: "
        "left out of the histories (see .unattributed_purchases)"
    ):
        paths = jl.Histories.from_paths(table)
    cols = ["path", "customers", "purchases", "value"]
    pd.testing.assert_frame_equal(events.to_frame()[cols], paths.to_frame()[cols])
    assert paths.to_frame()["path"].tolist() == ["a > purchase > b > purchase"]
    assert paths.to_frame()["value"].tolist() == [14.0]
    r = events.report
    assert r is not None
    assert (r.conversions_without_touch, r.unattributed_conversions, r.unattributed_value) == (
        2, 2.0, 11.0,
    )  # fmt: skip
    assert (paths.unattributed_purchases, paths.unattributed_value) == (2.0, 11.0)
    assert (events.unattributed_purchases, events.unattributed_value) == (0.0, 0.0)
    check_accounting(events)
    # No channel is credited with the purchases before any touch: a has the
    # first purchase, and the repeat is a's and b's.
    a = jl.MarkovModel().fit(events).attribution().set_index("channel")
    b = jl.MarkovModel().fit(paths).attribution().set_index("channel")
    pd.testing.assert_frame_equal(a, b)
    assert a["purchases"].sum() == pytest.approx(2.0, abs=1e-12)
    assert a.loc["a", "first_purchases"] == pytest.approx(1.0, abs=1e-12)
    assert a["first_purchases"].sum() == pytest.approx(1.0, abs=1e-12)


def test_the_warning_points_at_the_caller() -> None:
    ev = pd.DataFrame({"customer": [1], "time": [0], "channel": ["a"]})
    for build in (jl.Journeys.from_events, jl.Histories.from_events):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            build(ev)
        assert [w.filename for w in caught] == [__file__]
