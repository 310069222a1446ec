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


# ---------------------------------------------------------------------------
# Loop histories


HISTORIES = pd.DataFrame(
    {
        "history": ["a > purchase > b > purchase", "a > b", "b > purchase"],
        "customers": [1, 1, 2],
        "value": [30.0, 0.0, 60.0],
    }
)


def test_histories_from_paths() -> None:
    h = jl.Histories.from_paths(HISTORIES, path="history", count="customers", value="value")
    assert isinstance(h, jl.Histories)
    assert not isinstance(h, jl.Journeys)
    assert h.form == "loop"
    assert len(h) == 3
    assert h.channels == ["a", "b"]
    assert h.total_customers == 4
    assert h.total_purchases == 4
    assert h.total_value == 90
    assert repr(h) == "Histories(3 histories, 2 channels, 4 customers, 4 purchases, value 90)"
    frame = h.to_frame()
    assert frame.columns.tolist() == ["path", "customers", "purchases", "value"]
    assert frame["path"].tolist() == HISTORIES["history"].tolist()
    assert frame["purchases"].tolist() == [2, 0, 2]
    # Journeys.from_paths(..., form="loop") is the same.
    same = jl.Journeys.from_paths(
        HISTORIES, path="history", count="customers", value="value", form="loop"
    )
    assert isinstance(same, jl.Histories)
    assert same.to_frame().equals(frame)
    # The loop model fits them: h = 13/16, r = 3/16, one purchase per customer.
    model = jl.MarkovModel().fit(h)
    assert model.expected_purchases_ == pytest.approx(1.0, rel=1e-14)
    # Funnel-only tools refuse them with a message that says why.
    with pytest.raises(jl.InvalidInputError, match="loop-form"):
        jl.attribute(h, ["linear"])  # type: ignore[arg-type]
    with pytest.raises(jl.InvalidInputError, match="loop-form"):
        jl.TransitionCounts.from_journeys(h, 1)  # type: ignore[arg-type]


def test_histories_teams_and_stages() -> None:
    h = jl.Histories.from_paths(HISTORIES, path="history", count="customers", value="value")
    teams = {"a": "marketing", "b": "sales"}
    handoffs = h.handoffs(teams).set_index(["from", "to"])["count"]
    # a > b in rows 0 (across the purchase) and 1, one customer each.
    assert handoffs[("marketing", "sales")] == 2
    assert handoffs.sum() == 2
    shares = h.team_shares(teams).set_index("team")
    assert shares["touches"].tolist() == [2, 4]
    assert shares["touch_share"].sum() == pytest.approx(1.0, abs=1e-12)
    staged = h.by_stage({"a": "evaluation", "b": "experience"})
    assert isinstance(staged, jl.Histories)
    assert staged.channels == ["evaluation", "experience"]
    assert staged.total_value == 90
    moves = h.stage_moves({"a": "evaluation", "b": "experience"})
    assert moves.loc[moves["to"] == "purchase", "count"].sum() == 4
    assert moves.loc[moves["to"] == "end", "count"].sum() == 1


def test_stage_moves_come_sorted_from_the_core_largest_first_within_a_pair() -> None:
    j = jl.Journeys.from_paths(["a > x", "b > x"], conversions=[0, 0], nulls=[1, 3])
    moves = j.stage_moves({"a": "s1", "b": "s1", "x": "s2"})
    assert moves.to_numpy().tolist() == [
        ["s1", "s2", "b", 3.0, 0.75],
        ["s1", "s2", "a", 1.0, 0.25],
        ["s2", "null", "x", 4.0, 1.0],
    ]


# ---------------------------------------------------------------------------
# Options and lists bound from the C++ core


def test_options_are_keyword_objects_from_the_core() -> None:
    from journeyloop import _core

    o = _core.event_options(lookback=3.0, duplicates="drop", purchase="buy")
    assert (o.lookback, o.inactivity, o.duplicates, o.purchase) == (3.0, None, "drop", "buy")
    with pytest.raises(jl.InvalidInputError, match="duplicates must be"):
        _core.event_options(duplicates="twice")
    p = _core.path_options(separator="|", value_column="revenue")
    assert (p.separator, p.path_column, p.value_column) == ("|", "path", "revenue")
    c = _core.counting_options(order=2)
    assert (c.order, c.collapse_repeats, c.padded) == (2, True, False)
    assert c.max_states == _core.default_max_states
    from journeyloop._counts import DEFAULT_MAX_STATES

    assert DEFAULT_MAX_STATES == _core.default_max_states == 50_000_000
    h = _core.heuristic_options(half_life=2.0)
    assert (h.half_life, h.endpoint_share, h.time_half_life) == (2.0, 0.4, None)


def test_event_report_fields_come_from_the_core() -> None:
    from journeyloop import _core

    fields = [name for name, _, _ in _core.event_report_fields()]
    events = pd.DataFrame(
        {"customer": [1, 1, 2], "time": [0.0, 1.0, 0.0], "channel": ["a", "b", None]}
    )
    with pytest.warns(jl.DataWarning, match=r"^1 of 3 rows rejected \(null_channel 1\)"):
        report = jl.Journeys.from_events(events).report
    assert report is not None
    items = report.to_frame()["item"].tolist()
    assert items == [*fields[:2], "rows_rejected", *fields[2:], "unassigned_channels"]
    assert report.null_channel == 1
    assert report.rows_rejected == 1
    assert "  null_channel" in str(report)
    with pytest.raises(AttributeError, match="read-only"):
        report.rows_read = 0
