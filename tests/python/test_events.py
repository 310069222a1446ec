"""Journeys.from_events: input types, conventions, bad rows and the report."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import journeyloop as jl


def check_accounting(j: jl.Journeys | jl.Histories) -> None:
    r = j.report
    assert r is not None
    assert r.rows_read == (
        r.rows_used + r.rows_rejected + r.outside_lookback + r.conversions_without_touch
    )
    assert r.journeys == len(j) == r.converting_journeys + r.non_converting_journeys
    total = j.total_purchases if isinstance(j, jl.Histories) else j.total_conversions
    assert r.conversions == pytest.approx(total)
    assert r.value == pytest.approx(j.total_value)


def small_events() -> pd.DataFrame:
    """Two customers, out of order; customer 7 converts once (see the C++ test)."""
    return pd.DataFrame(
        {
            "customer": [7, 3, 7, 7, 7, 3],
            "time": pd.to_datetime(
                ["2024-01-05", "2024-01-01", "2024-01-01", "2024-01-09", "2024-01-12", "2024-01-04"]
            ),
            "channel": ["search", "email", "email", "demo", "email", None],
            "conversion": [False, False, False, True, False, True],
            "value": [np.nan, np.nan, np.nan, 100.0, np.nan, 20.0],
        }
    )


EXPECTED_PATHS = ["email > search > demo", "email", "email"]


def paths(j: jl.Journeys | jl.Histories) -> list[str]:
    return list(j.to_frame()["path"])


def test_funnel_journeys_and_report() -> None:
    j = jl.Journeys.from_events(small_events(), conversion="conversion", value="value")
    frame = j.to_frame()
    assert frame["path"].tolist() == EXPECTED_PATHS
    assert frame["customer"].tolist() == [7, 7, 3]
    assert frame["conversions"].tolist() == [1, 0, 1]
    assert frame["value"].tolist() == [100, 0, 20]
    assert j.channels == ["search", "email", "demo"]
    r = j.report
    assert r is not None
    assert not r.sorted_input
    assert (r.rows_read, r.rows_used, r.customers, r.journeys) == (6, 6, 2, 3)
    check_accounting(j)
    touches = j.to_touches()
    assert touches["before_end"].tolist() == [pd.Timedelta(days=d) for d in (8, 4, 0, 0, 3)]
    text = str(r)
    assert "rows read" in text and "3 (2 converting, 1 not)" in text
    assert r.to_frame().set_index("item").loc["rows_rejected", "value"] == 0


def test_lookback_inactivity_and_non_touch_conversions() -> None:
    ev = small_events()
    j = jl.Journeys.from_events(ev, conversion="conversion", value="value", lookback="5D")
    assert paths(j) == ["search > demo", "email", "email"]
    assert j.report is not None and j.report.outside_lookback == 1
    check_accounting(j)
    with pytest.warns(jl.DataWarning) as caught:
        j = jl.Journeys.from_events(ev, conversion="conversion", lookback=dt.timedelta(days=2))
    assert [str(w.message) for w in caught] == [
        "1 conversions with no touch to credit, 1 conversions and value 0 unattributed "
        "(conversions_without_touch); see .report"
    ]
    assert paths(j) == ["demo", "email"]
    r = j.report
    assert r is not None
    assert (r.outside_lookback, r.conversions_without_touch) == (3, 1)
    assert r.unattributed_conversions == 1
    check_accounting(j)
    j = jl.Journeys.from_events(ev, conversion="conversion", inactivity=np.timedelta64(84, "h"))
    assert paths(j) == ["email", "search", "demo", "email", "email"]
    check_accounting(j)
    j = jl.Journeys.from_events(ev, conversion="conversion", conversion_is_touch=False)
    assert paths(j) == ["email > search", "email", "email"]
    check_accounting(j)


class CapsuleOnly:
    """Any producer of the Arrow PyCapsule stream interface (polars, duckdb...)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


def variants() -> dict[str, Any]:
    ev = small_events()
    table = pa.Table.from_pandas(ev, preserve_index=False)
    half = len(ev) // 2
    chunked = pa.concat_tables([table.slice(0, half), table.slice(half)])
    readonly = {k: ev[k].to_numpy(copy=True) for k in ev}
    for a in readonly.values():
        a.setflags(write=False)
    return {
        "pandas": ev,
        "pandas categorical channel": ev.assign(channel=ev["channel"].astype("category")),
        "pandas string customer": ev.assign(customer=ev["customer"].map({7: "u7", 3: "u3"})),
        "pandas nullable Int64 customer": ev.assign(customer=ev["customer"].astype("Int64")),
        "pandas seconds": ev.assign(time=ev["time"].astype("datetime64[s]")),
        "pandas nanoseconds": ev.assign(time=ev["time"].astype("datetime64[ns]")),
        "pandas tz-aware": ev.assign(time=ev["time"].dt.tz_localize("America/New_York")),
        "pyarrow": table,
        "pyarrow chunked": chunked,
        "pyarrow dictionary channel": table.set_column(
            2, "channel", pa.compute.dictionary_encode(table["channel"])
        ),
        "pyarrow date32": table.set_column(1, "time", table["time"].cast(pa.date32())),
        "capsule": CapsuleOnly(table),
        "dict of read-only numpy": readonly,
    }


@pytest.mark.parametrize("name", list(variants()))
def test_every_input_type_gives_the_same_journeys(name: str) -> None:
    data = variants()[name]
    j = jl.Journeys.from_events(data, conversion="conversion", value="value", lookback="5D")
    assert paths(j) == ["search > demo", "email", "email"]
    assert j.to_frame()["value"].tolist() == [100, 0, 20]
    check_accounting(j)
    assert j.to_touches()["before_end"].tolist()[:2] == [pd.Timedelta(days=4), pd.Timedelta(0)]


def test_numeric_times() -> None:
    ev = small_events()
    for times in (ev["time"].dt.day.astype(np.int64), ev["time"].dt.day.astype(float)):
        j = jl.Journeys.from_events(ev.assign(time=times), conversion="conversion", lookback=5)
        assert paths(j) == ["search > demo", "email", "email"]
        assert j.to_touches()["before_end"].tolist()[:2] == [4, 0]
        with pytest.raises(jl.InvalidInputError, match="plain numbers"):
            jl.Journeys.from_events(ev.assign(time=times), conversion="conversion", lookback="5D")
        with pytest.raises(jl.InvalidInputError, match="numeric times needs half_life"):
            jl.attribute(j, ["time_decay"])
        td = jl.attribute(j, ["time_decay"], half_life=4).set_index("channel")["conversions"]
        assert td["demo"] == pytest.approx(1 / (1 + 2**-1), rel=1e-12)
    with pytest.raises(jl.InvalidInputError, match="duration such as '30D'"):
        jl.Journeys.from_events(ev, conversion="conversion", lookback=5)


def test_time_decay_defaults_to_seven_days() -> None:
    j = jl.Journeys.from_events(small_events(), conversion="conversion", value="value")
    td = jl.attribute(j, ["time_decay"]).set_index("channel")
    w = np.exp2(-np.array([8.0, 4.0, 0.0]) / 7)
    w /= w.sum()
    assert td.loc["search", "conversions"] == pytest.approx(w[1], rel=1e-12)
    assert td.loc["demo", "value"] == pytest.approx(100 * w[2], rel=1e-12)
    assert td.loc["email", "conversions"] == pytest.approx(w[0] + 1, rel=1e-12)
    steps = jl.attribute(j, ["time_decay"], decay="steps").set_index("channel")
    assert steps.loc["demo", "conversions"] == pytest.approx(4 / 7, rel=1e-12)
    same = jl.attribute(j, ["time_decay"], half_life="1W").set_index("channel")
    assert same.loc["search", "conversions"] == pytest.approx(w[1], rel=1e-12)
    with pytest.raises(jl.InvalidInputError, match="duration"):
        jl.attribute(j, ["time_decay"], half_life=3)


def test_bad_rows_are_counted_by_reason_or_raised() -> None:
    ev = pd.DataFrame(
        {
            "customer": pd.array([1, None, 2, 3, 4, 5, 6, 7], dtype="Int64"),
            "time": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",
                    None,
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-01",
                ]
            ),
            "channel": ["a", "a", "a", None, "a", "a", "a", "a"],
            "conversion": [1.0, 0, 0, 0, -1, 1, 0, np.nan],
            "value": [5.0, 0, 0, 0, 0, -3, 2, 0],
        }
    )
    with pytest.warns(jl.DataWarning) as caught:
        j = jl.Journeys.from_events(ev, conversion="conversion", value="value")
    assert [str(w.message) for w in caught] == [
        "5 of 8 rows rejected (null_customer 1, null_time 1, null_channel 1, "
        "bad_conversion 2); 1 conversions kept with a missing, negative or infinite value "
        "taken as 0 (bad_value); 1 touches kept with their value ignored "
        "(value_without_conversion); see .report"
    ]
    r = j.report
    assert r is not None
    assert (r.null_customer, r.null_time, r.null_channel) == (1, 1, 1)
    assert (r.bad_conversion, r.bad_value, r.value_without_conversion) == (2, 1, 1)
    # Row 5 (value -3) keeps its conversion with value 0, row 6 its touch.
    assert r.rows_used == 3 and r.rows_rejected == 5
    frame = j.to_frame()
    assert frame["customer"].tolist() == [1, 5, 6]
    assert frame["path"].tolist() == ["a", "a", "a"]
    assert frame["conversions"].tolist() == [1.0, 1.0, 0.0]
    assert frame["value"].tolist() == [5.0, 0.0, 0.0]
    check_accounting(j)
    with pytest.raises(jl.InvalidInputError, match=r"row 1, column 'customer': missing"):
        jl.Journeys.from_events(ev, conversion="conversion", value="value", strict=True)
    # Rows are numbered by position in the data given.
    with pytest.raises(jl.InvalidInputError, match=r"row 0, column 'time'.*NaT"):
        jl.Journeys.from_events(ev.iloc[2:], conversion="conversion", strict=True)


def test_duplicates_policy() -> None:
    ev = pd.DataFrame({"customer": [1, 1, 1], "time": [0, 0, 1], "channel": ["a", "a", "b"]})
    with pytest.warns(jl.DataWarning, match="^no conversion column given: nothing converts"):
        keep = jl.Journeys.from_events(ev)
    assert paths(keep) == ["a > a > b"]
    assert keep.report is not None and keep.report.duplicates_found == 1
    with pytest.warns(
        jl.DataWarning,
        match=r"^1 of 3 rows rejected \(duplicate 1\); no conversion column given: nothing "
        r"converts; see \.report$",
    ):
        drop = jl.Journeys.from_events(ev, duplicates="drop")
    assert paths(drop) == ["a > b"]
    assert drop.report is not None and drop.report.duplicate == 1
    check_accounting(drop)
    with pytest.raises(jl.InvalidInputError, match="duplicate of row 0"):
        jl.Journeys.from_events(ev, duplicates="drop", strict=True)
    with pytest.raises(jl.InvalidInputError, match='duplicates must be "keep" or "drop"'):
        jl.Journeys.from_events(ev, duplicates="first")  # type: ignore[arg-type]


def test_bad_columns_and_options() -> None:
    ev = small_events()
    with pytest.raises(jl.InvalidInputError, match="column 'cookie' not found"):
        jl.Journeys.from_events(ev, customer="cookie")
    with pytest.raises(jl.InvalidInputError, match=r"pandas\.to_datetime"):
        jl.Journeys.from_events(ev.assign(time=ev["time"].astype(str)))
    with pytest.raises(
        jl.InvalidInputError,
        match=r"row 0, column 'customer': customer id 7\.5 is not a whole number; customer ids "
        "must be integers or strings",
    ):
        jl.Journeys.from_events(ev.assign(customer=ev["customer"] + 0.5))
    with pytest.raises(jl.InvalidInputError, match="'conversion' must be boolean or numeric"):
        jl.Journeys.from_events(ev.assign(conversion=["y", "n", "n", "y", "n", "y"]),
                                conversion="conversion")  # fmt: skip
    with pytest.raises(jl.InvalidInputError, match="lookback must be positive"):
        jl.Journeys.from_events(ev, conversion="conversion", lookback="-1D")
    with pytest.raises(jl.InvalidInputError, match="cannot read 'thirty days'"):
        jl.Journeys.from_events(ev, conversion="conversion", lookback="thirty days")
    with pytest.raises(jl.InvalidInputError, match="a value column needs a conversion column"):
        jl.Journeys.from_events(ev, value="value")
    with pytest.raises(jl.InvalidInputError, match="expected a pandas DataFrame"):
        jl.Journeys.from_events([1, 2, 3])
    empty = jl.Journeys.from_events(ev.iloc[:0], conversion="conversion")
    assert len(empty) == 0
    assert empty.report is not None and empty.report.rows_read == 0


def test_channel_metadata() -> None:
    meta = pd.DataFrame(
        {
            "channel": ["search", "email", "webinar"],
            "team": ["marketing", "marketing", "marketing"],
            "stage": ["awareness", "consideration", "evaluation"],
        }
    )
    with pytest.warns(UserWarning, match="1 channel.*demo"):
        j = jl.Journeys.from_events(small_events(), conversion="conversion", channels=meta)
    assert j.teams == {"search": "marketing", "email": "marketing", "demo": "unassigned",
                       "webinar": "marketing"}  # fmt: skip
    assert j.stages is not None and j.stages["email"] == "consideration"
    assert j.unassigned_channels == ["demo"]
    assert j.report is not None and j.report.unassigned_channels == ("demo",)
    teams = jl.attribute(j, ["linear", "markov"], by="team")
    for _, frame in teams.groupby("method"):
        assert frame["conversions"].sum() == pytest.approx(2.0, rel=1e-12)
        assert set(frame["team"]) == {"marketing", "unassigned"}
    linear = teams[teams["method"] == "linear"].set_index("team")["conversions"]
    assert linear["unassigned"] == pytest.approx(1 / 3, rel=1e-12)
    model = jl.MarkovModel().fit(j)
    by_team = model.attribution(by="team").set_index("team")
    assert by_team["conversions"].sum() == pytest.approx(2.0, rel=1e-12)
    j2 = j.with_channels({"search": {"team": "marketing"}, "email": "marketing",
                          "demo": {"team": "sales", "stage": "evaluation"}})  # fmt: skip
    assert j2.unassigned_channels == []
    with pytest.raises(jl.InvalidInputError, match="team of channel 'x'"):
        j.with_channels({"x": 3})
    with pytest.raises(jl.InvalidInputError, match="'channel' column"):
        j.with_channels(pd.DataFrame({"name": ["a"], "team": ["b"]}))


def test_loop_form_histories() -> None:
    ev = small_events()
    j = jl.Journeys.from_events(ev, conversion="conversion", value="value", form="loop")
    assert isinstance(j, jl.Histories)
    assert j.form == "loop"
    assert paths(j) == ["email > search > demo > purchase > email", "email > purchase"]
    frame = j.to_frame()
    assert frame.columns.tolist() == ["customer", "path", "customers", "purchases", "value"]
    assert frame["purchases"].tolist() == [1, 1]
    assert frame["customers"].tolist() == [1, 1]
    assert j.total_value == 120
    assert j.total_purchases == 2
    assert j.total_customers == 2
    assert j.channels == ["search", "email", "demo"]  # first appearance in the rows
    assert repr(j) == "Histories(2 histories, 3 channels, 2 customers, 2 purchases, value 120)"
    check_accounting(j)
    # Histories.from_events is the same as from_events(..., form="loop").
    same = jl.Histories.from_events(ev, conversion="conversion", value="value")
    assert same.to_frame().equals(frame)
    # The loop model fits them; the funnel heuristics refuse them.
    assert jl.MarkovModel().fit(j).expected_purchases_ == pytest.approx(1.0)
    with pytest.raises(jl.InvalidInputError, match="loop-form"):
        jl.attribute(j, ["linear"])
    with pytest.raises(jl.InvalidInputError, match="purchase marker"):
        jl.Journeys.from_events(ev.assign(channel="purchase"), form="loop")
    with pytest.raises(jl.InvalidInputError, match="funnel journeys"):
        jl.Journeys.from_events(ev, form="loop", lookback="5D")


# ---------------------------------------------------------------------------
# an independent computation with pandas on generated logs


def generated_log(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, 60, n)
    return pd.DataFrame(
        {
            "customer": customers,
            # Few distinct times per customer: many ties.
            "time": rng.integers(0, 40, n).astype(np.int64),
            "channel": np.asarray(["a", "b", "c", "d", "e"])[rng.integers(0, 5, n)],
            "conversion": (rng.random(n) < 0.12).astype(float),
            "value": 0.0,
        }
    ).assign(value=lambda d: d["conversion"] * rng.integers(1, 100, n))


def pandas_journeys(ev: pd.DataFrame, lookback: float | None) -> tuple[pd.DataFrame, int]:
    """Journeys by groupby: stable sort, journey number = conversions before."""
    ev = ev.copy()
    ev["order"] = pd.factorize(ev["customer"])[0]
    ev["row"] = np.arange(len(ev))
    ev = ev.sort_values(["order", "time", "row"], kind="stable")
    is_conv = ev["conversion"] > 0
    ev["journey"] = ev.groupby("order")["conversion"].transform(
        lambda c: (c > 0).cumsum() - (c > 0)
    )
    ev["converting"] = is_conv
    keys = ["order", "journey"]
    ev["end"] = ev.groupby(keys)["time"].transform("max")
    dropped = 0
    if lookback is not None:
        inside = ev["end"] - ev["time"] <= lookback
        dropped = int((~inside).sum())
        ev = ev[inside]
    grouped = ev.groupby(keys, sort=True)
    out = pd.DataFrame(
        {
            "path": grouped["channel"].agg(" > ".join),
            "conversions": grouped["conversion"].sum(),
            "value": grouped["value"].sum(),
        }
    ).reset_index(drop=True)
    return out, dropped


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lookback", [None, 7.0])
def test_agrees_with_pandas_groupby(seed: int, lookback: float | None) -> None:
    ev = generated_log(seed)
    j = jl.Journeys.from_events(ev, conversion="conversion", value="value", lookback=lookback)
    expected, dropped = pandas_journeys(ev, lookback)
    got = j.to_frame()
    assert got["path"].tolist() == expected["path"].tolist()
    np.testing.assert_array_equal(got["conversions"], expected["conversions"])
    np.testing.assert_array_equal(got["value"], expected["value"])
    assert j.report is not None and j.report.outside_lookback == dropped
    check_accounting(j)
    # Sorted input gives the same journeys and is recognised as sorted.
    order = pd.factorize(ev["customer"])[0]
    sorted_ev = ev.iloc[np.lexsort((ev["time"], order))]
    js = jl.Journeys.from_events(
        sorted_ev, conversion="conversion", value="value", lookback=lookback
    )
    assert js.report is not None and js.report.sorted_input
    assert js.to_frame()["path"].tolist() == got["path"].tolist()


def test_team_flows() -> None:
    """The hand-worked flows of tests/cpp/test_events.cpp ("teams")."""
    meta = {"search": "marketing", "email": "marketing", "demo": "sales"}
    j = jl.Journeys.from_events(small_events(), conversion="conversion", channels=meta)
    h = j.handoffs().set_index(["from", "to"])
    assert h.loc[("marketing", "marketing"), "count"] == 1
    assert h.loc[("marketing", "sales"), "count"] == 1
    assert h.loc[("marketing", "sales"), "probability"] == 0.5
    assert h.loc[("sales", "marketing"), "count"] == 0
    shares = j.team_shares().set_index("team")
    assert shares.loc["marketing", "touches"] == 4
    assert shares.loc["sales", "touch_share"] == pytest.approx(0.2)
    assert shares.loc["marketing", "time"] == pd.Timedelta(days=11)
    assert shares.loc["marketing", "time_share"] == 1.0
    oc = j.opener_closer()
    assert oc.loc["marketing", "sales"] == 1
    assert oc.loc["marketing", "marketing"] == 1
    assert oc.to_numpy().sum() == j.total_conversions
    with pytest.raises(jl.InvalidInputError, match="team flows need teams"):
        jl.Journeys.from_events(small_events(), conversion="conversion").handoffs()


def test_stages() -> None:
    """The hand-worked stages of tests/cpp/test_events.cpp ("stages")."""
    stages = {"search": "awareness", "email": "consideration", "demo": "evaluation"}
    j = jl.Journeys.from_events(small_events(), conversion="conversion")
    s = j.by_stage(stages)
    assert s.to_frame()["path"].tolist() == [
        "consideration > awareness > evaluation", "consideration", "consideration",
    ]  # fmt: skip
    model = jl.MarkovModel().fit(s)
    flows = model.transition_matrix().set_index(["from", "to"])
    assert flows.loc[("START", "consideration"), "count"] == 3
    assert flows.loc[("consideration", "NULL"), "probability"] == pytest.approx(1 / 3)
    states = model.states().set_index("state")
    assert states.loc["evaluation", "conversion_probability"] == 1.0
    assert states.loc["consideration", "conversion_probability"] == pytest.approx(2 / 3)
    moves = j.stage_moves(stages)
    assert moves[["from", "to", "channel"]].to_numpy().tolist() == [
        ["awareness", "evaluation", "search"],
        ["consideration", "awareness", "email"],
        ["consideration", "conversion", "email"],
        ["consideration", "null", "email"],
        ["evaluation", "conversion", "demo"],
    ]
    to_conversion = moves[(moves["from"] == "consideration") & (moves["to"] == "conversion")]
    assert to_conversion["channel"].tolist() == ["email"]
    assert to_conversion["share"].tolist() == [1.0]
    # Loop histories: the moves into purchase, and which channel made them.
    loop = jl.Journeys.from_events(small_events(), conversion="conversion", form="loop")
    lm = loop.stage_moves(stages).set_index(["from", "to", "channel"])
    assert lm.loc[("evaluation", "purchase", "demo"), "count"] == 1
    assert lm.loc[("consideration", "purchase", "email"), "count"] == 1
    assert lm.loc[("consideration", "end", "email"), "count"] == 1
    with pytest.raises(jl.InvalidInputError, match="stages need"):
        j.stage_moves()


def test_big_endian_numeric_columns_are_read_as_numbers() -> None:
    ev = small_events()
    data = {
        "customer": ev["customer"].to_numpy().astype(">i8"),
        "time": ev["time"].dt.day.to_numpy().astype(">f8"),
        "channel": ev["channel"],
        "conversion": ev["conversion"].to_numpy().astype(">i4"),
        "value": ev["value"].to_numpy().astype(">f8"),
    }
    j = jl.Journeys.from_events(data, conversion="conversion", value="value", lookback=5)
    assert paths(j) == ["search > demo", "email", "email"]
    assert j.to_frame()["value"].tolist() == [100, 0, 20]
    check_accounting(j)


def _unaligned(values: np.ndarray) -> np.ndarray:
    """``values`` copied to an address one byte past an aligned one."""
    raw = np.zeros(values.nbytes + 1, np.uint8)
    out = raw[1:].view(values.dtype)
    out[:] = values
    assert not out.flags.aligned
    return out


def test_unaligned_columns_are_read() -> None:
    # A column read from a file can start at any address (a Parquet page in a
    # memory-mapped file); such columns are copied, not refused.
    customers = np.array([1, 1, 2, 2, 3, 3], np.int64)
    times = np.arange(6, dtype=np.float64)
    conversions = np.array([0, 1, 0, 1, 0, 1], np.float64)
    values = np.array([0, 5, 0, 7, 0, 9.0])
    channels = np.array(list("abcabc"), dtype=object)
    want = jl.Journeys.from_events(
        {"customer": customers, "time": times, "channel": channels,
         "conversion": conversions, "value": values},
        conversion="conversion", value="value",
    )  # fmt: skip
    got = jl.Journeys.from_events(
        {"customer": _unaligned(customers), "time": _unaligned(times), "channel": channels,
         "conversion": _unaligned(conversions), "value": _unaligned(values)},
        conversion="conversion", value="value",
    )  # fmt: skip
    assert got.to_frame().equals(want.to_frame())
    assert got.total_value == 21.0

    def arrow(values: np.ndarray, kind: pa.DataType) -> pa.Array:
        return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(_unaligned(values))])

    table = pa.table(
        {"customer": arrow(customers, pa.int64()), "time": arrow(times, pa.float64()),
         "channel": list("abcabc"), "conversion": arrow(conversions, pa.float64()),
         "value": arrow(values, pa.float64())}
    )  # fmt: skip
    got = jl.Journeys.from_events(table, conversion="conversion", value="value")
    assert got.to_frame().equals(want.to_frame())
