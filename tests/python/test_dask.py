"""journeyloop.dask on a real dask.distributed cluster: every result equals the
single-process API's on the same data (integer counts exactly, fitted figures
within 1e-12), for events and paths, funnel and loop, whatever the partitions."""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

dask = pytest.importorskip("dask", reason="journeyloop[dask] is not installed")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
jld = importlib.import_module("journeyloop.dask")

REPORT_FIELDS = [name for name, _, _ in jl._core.event_report_fields() if name != "sorted_input"]


def make_events(n: int, customers: int, seed: int) -> pd.DataFrame:
    """Events with ties: times on a coarse grid (touches and conversions at equal
    times), integer values (sums exact in any order), some customers many rows."""
    rng = np.random.default_rng(seed)
    conversion = (rng.random(n) < 0.12).astype(np.int64)
    return pd.DataFrame(
        {
            "customer": rng.integers(0, customers, n),
            "time": pd.Timestamp("2024-03-01")
            + pd.to_timedelta(rng.integers(0, 24 * 20, n) * 3600, unit="s"),
            "channel": rng.choice(["search", "email", "display", "social", "demo", "call"], n),
            "conversion": conversion,
            "value": np.where(conversion > 0, rng.integers(1, 500, n), 0).astype(float),
        }
    )


@pytest.fixture(scope="module")
def client():
    # A real cluster: two worker processes that import the installed package,
    # each with a memory limit (the counting of a partition must fit in it).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="1GiB",
        )
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return make_events(6000, 500, seed=7)


@pytest.fixture(scope="module")
def files(events, tmp_path_factory) -> list[str]:
    """The events in four Parquet files of consecutive rows: most customers
    have rows in several files."""
    folder = tmp_path_factory.mktemp("events")
    names = []
    for i, part in enumerate(np.array_split(np.arange(len(events)), 4)):
        name = str(folder / f"part-{i}.parquet")
        events.iloc[part].to_parquet(name, index=False)
        names.append(name)
    return names


def single(events: pd.DataFrame, **options) -> jl.Journeys:
    return jl.Journeys.from_events(events, conversion="conversion", value="value", **options)


def assert_same_report(got: jl.EventReport, want: jl.EventReport) -> None:
    for name in REPORT_FIELDS:
        assert getattr(got, name) == getattr(want, name), name


@pytest.mark.parametrize("order", [1, 3])
def test_events_split_across_files_equal_single_process(client, events, files, order):
    frame = jld.read_events(files)
    assert frame.npartitions == 4
    counted = jld.count_events(
        frame, conversion="conversion", value="value", order=order, methods=jl.METHODS[:5]
    )
    # The customers' rows are in several files: found out, and shuffled.
    assert counted.route == "shuffled"
    journeys = single(events)
    assert counted.counts == jl.TransitionCounts.from_journeys(journeys, order)
    assert_same_report(counted.report, journeys.report)
    assert counted.report.rows_read == len(events)
    # The heuristics' credit, added up over partitions.
    want = jl.attribute(journeys, methods=list(jl.METHODS[:5]))
    got = counted.credit.set_index(["method", "channel"])
    want = want.set_index(["method", "channel"]).loc[got.index]
    assert len(got) == 5 * 6
    np.testing.assert_allclose(got["conversions"], want["conversions"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["value"], want["value"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(got["share"], want["share"], rtol=1e-12, atol=1e-12)
    # The model fitted on the client from the merged counts.
    model = counted.fit()
    direct = jl.MarkovModel(order=order).fit(journeys)
    a = model.attribution().set_index("channel")
    b = direct.attribution().set_index("channel").loc[a.index]
    np.testing.assert_allclose(a["conversions"], b["conversions"], rtol=1e-12)
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-12)
    assert model.conversion_rate_ == pytest.approx(direct.conversion_rate_, rel=1e-12)
    # Markov beside the heuristics, as jl.attribute gives them.
    both = counted.attribution()
    assert set(both["method"]) == {*jl.METHODS[:5], "markov"}
    total = journeys.total_conversions
    for _, frame_ in both.groupby("method"):
        assert frame_["conversions"].sum() == pytest.approx(total, rel=1e-12)


def test_loop_form_equals_single_process(client, events, files):
    counted = jld.count_events(
        jld.read_events(files), conversion="conversion", value="value", order=2, form="loop"
    )
    histories = single(events, form="loop")
    want = jl.LoopCounts.from_histories(histories, 2)
    assert isinstance(counted.counts, jl.LoopCounts)
    assert counted.counts == want
    assert_same_report(counted.report, histories.report)
    got = counted.fit()
    assert isinstance(got, jl.LoopModel)
    direct = jl.LoopModel(order=2).fit(histories)
    assert got.expected_purchases_ == pytest.approx(direct.expected_purchases_, rel=1e-12)
    a = got.attribution().set_index("channel")
    b = direct.attribution().set_index("channel").loc[a.index]
    np.testing.assert_allclose(a["purchases"], b["purchases"], rtol=1e-12)


def test_partitioned_by_customer_is_found_and_not_shuffled(client, events, tmp_path):
    # Written once, shuffled by customer: read back, no shuffle is needed.
    frame = dd.from_pandas(events, npartitions=3)
    shuffled = jld.partition_by_customer(frame, "customer", npartitions=4)
    shuffled.to_parquet(tmp_path / "by_customer", write_index=False)
    back = jld.read_events(tmp_path / "by_customer")
    assert jld.is_partitioned_by_customer(back, "customer")
    counted = jld.count_events(back, conversion="conversion", value="value", order=2)
    assert counted.route == "checked"
    assert counted.partitions == back.npartitions == 4
    assert counted.counts == jl.TransitionCounts.from_journeys(single(events), 2)
    # Not partitioned: rows of a customer in two partitions.
    assert not jld.is_partitioned_by_customer(frame, "customer")
    # The customer as a sorted index: the divisions say so.
    indexed = dd.from_pandas(events.set_index("customer").sort_index(kind="stable"), npartitions=3)
    counted = jld.count_events(indexed, conversion="conversion", value="value")
    assert counted.route == "index"
    # Sorting by customer changes the order of ties between customers only:
    # within a customer the rows keep their order (a stable sort).
    assert counted.counts == jl.TransitionCounts.from_journeys(single(events))
    # partitioned=True trusts the caller.
    assert jld.count_events(back, conversion="conversion", partitioned=True).route == "given"


def test_paths_funnel_and_loop(client):
    rng = np.random.default_rng(3)
    paths = [" > ".join(rng.choice(list("abcde"), rng.integers(1, 6))) for _ in range(400)]
    frame = pd.DataFrame(
        {
            "path": paths,
            "conversions": rng.integers(0, 4, 400),
            "nulls": rng.integers(0, 9, 400),
        }
    )
    frame["value"] = np.where(frame["conversions"] > 0, rng.integers(0, 100, 400), 0) * 1.0
    counted = jld.count_paths(dd.from_pandas(frame, npartitions=5), order=2, methods=["linear"])
    assert counted.route == "paths" and counted.report is None
    journeys = jl.Journeys.from_paths(frame)
    assert counted.counts == jl.TransitionCounts.from_journeys(journeys, 2)
    want = jl.attribute(journeys, methods=["linear"]).set_index("channel")
    got = counted.credit.set_index("channel").loc[want.index]
    np.testing.assert_allclose(got["conversions"], want["conversions"], rtol=1e-12)
    # Loop histories as a path table.
    loop = pd.DataFrame(
        {
            "path": [p + (" > purchase" if i % 3 else "") for i, p in enumerate(paths)],
            "count": rng.integers(1, 5, 400),
        }
    )
    counted = jld.count_paths(dd.from_pandas(loop, npartitions=4), form="loop")
    assert counted.counts == jl.LoopCounts.from_histories(jl.Histories.from_paths(loop))


def test_bad_rows_are_accounted_for_and_strict_names_them(client, events, tmp_path):
    bad = events.iloc[:300].copy()
    bad["time"] = bad["time"].astype("datetime64[ns]")
    bad.loc[bad.index[17], "time"] = pd.NaT
    bad.loc[bad.index[40], "channel"] = None
    bad.loc[bad.index[41], "conversion"] = -1
    names = []
    for i, part in enumerate([bad, events.iloc[300:900]]):
        name = tmp_path / f"day-{i}.parquet"
        part.to_parquet(name, index=False)
        names.append(str(name))
    frame = jld.read_events(names)
    data = pd.concat([bad, events.iloc[300:900]], ignore_index=True)
    with pytest.warns(jl.DataWarning, match="rejected"):
        counted = jld.count_events(frame, conversion="conversion", value="value")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = single(data)
    assert_same_report(counted.report, want.report)
    r = counted.report
    assert r.rows_read == 900
    assert (r.null_time, r.null_channel, r.bad_conversion) == (1, 1, 1)
    assert r.rows_read == (
        r.rows_used + r.rows_rejected + r.outside_lookback + r.conversions_without_touch
    )
    assert counted.counts == jl.TransitionCounts.from_journeys(want)
    # strict: the partition, the file and the row in it, after a shuffle too.
    # Each bad row's message, as the single-process API words it.
    expected = set()
    for row in (17, 40, 41):
        alone = events.iloc[:300].copy()
        alone.iloc[row] = bad.iloc[row]
        with pytest.raises(jl.InvalidInputError) as one:
            jl.Journeys.from_events(alone, conversion="conversion", strict=True)
        where, what = str(one.value).split(", ", 1)
        assert where == f"row {row}"
        expected.add(f"partition 0 (file {names[0]}), row {row} of the file: {what}")
    for partitioned, together in ((True, 1), (True, 2), (False, 4)):
        with pytest.raises(jl.InvalidInputError) as info:
            jld.count_events(
                frame,
                conversion="conversion",
                strict=True,
                partitioned=partitioned,
                partitions_per_task=together,
            )
        # Partitions run in parallel: the first to fail names its first bad row.
        assert str(info.value) in expected


def test_errors_are_clear(client, events):
    with pytest.raises(jl.InvalidInputError, match="expected a dask DataFrame"):
        jld.count_events(events)
    frame = dd.from_pandas(events, npartitions=2)
    with pytest.raises(jl.InvalidInputError, match="split_every"):
        jld.count_events(frame, conversion="conversion", split_every=1)
    with pytest.raises(jl.InvalidInputError, match="does not merge"):
        jld.count_events(frame, conversion="conversion", methods=["shapley"])
    with pytest.raises(jl.InvalidInputError, match="funnel journeys of an event log"):
        jld.count_events(frame, conversion="conversion", form="loop", period="D")
    with pytest.raises(jl.InvalidInputError, match="column 'who' is missing"):
        jld.count_events(frame, customer="who")
    with pytest.raises(jl.InvalidInputError, match="no files"):
        jld.read_events(str(Path("/nonexistent") / "*.parquet"))


def test_split_every_shapes_the_tree_not_the_result(client, events):
    frame = dd.from_pandas(events, npartitions=9)
    results = [
        jld.count_events(
            frame, conversion="conversion", value="value", split_every=k, partitions_per_task=g
        )
        for k, g in ((2, 1), (3, 2), (16, 4), (2, 9))
    ]
    for r in results:
        assert r.partitions == 9
        assert r.counts == results[0].counts


# -- periods: incremental counts and windows ---------------------------------


def journey_ends(events: pd.DataFrame) -> pd.Series:
    """The time each row's journey ends, found customer by customer: a journey
    runs up to and including a conversion; the rows after a customer's last
    conversion end at the customer's last row."""
    ends = {}
    for _, rows in (
        events.reset_index()
        .sort_values(["customer", "time", "index"])
        .groupby("customer", sort=False)
    ):
        journey = []
        for index, time, conversion in zip(rows["index"], rows["time"], rows["conversion"]):
            journey.append(index)
            if conversion > 0:
                ends.update(dict.fromkeys(journey, time))
                journey = []
        ends.update(dict.fromkeys(journey, rows["time"].iloc[-1]))
    return pd.Series(ends).reindex(events.index)


_ENDS: dict[int, pd.Series] = {}


def journeys_ending_in(events: pd.DataFrame, start, end) -> pd.DataFrame:
    """The rows of the journeys that end in [start, end)."""
    ends = _ENDS.setdefault(id(events), journey_ends(events))
    return events[(ends >= start) & (ends < end)]


def test_a_journey_over_midnight_belongs_to_the_day_it_ends():
    events = pd.DataFrame(
        {
            "customer": [1, 1, 2, 2, 3],
            "time": pd.to_datetime(
                [
                    "2024-01-01 23:00",
                    "2024-01-02 01:00",
                    "2024-01-01 10:00",
                    "2024-01-01 11:00",
                    "2024-01-03 09:00",
                ]
            ),
            "channel": ["search", "email", "display", "search", "email"],
            "conversion": [0, 1, 0, 1, 0],
        }
    )
    daily = jl.PeriodCounts.from_events(events, conversion="conversion", period="D")
    assert [str(p.date()) for p in daily.periods] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    # Customer 1's search on the 1st is counted with its conversion on the 2nd.
    assert daily.counts("2024-01-01").to_frame()["from"].tolist() == ["START", "display", "search"]
    day2 = daily.counts("2024-01-02").to_frame()
    assert day2.to_numpy().tolist() == [
        ["START", "search", 1.0],
        ["search", "email", 1.0],
        ["email", "CONVERSION", 1.0],
    ]
    # Customer 3 has not converted: its journey ends at its last row.
    assert daily.counts("2024-01-03").to_frame()["to"].tolist() == ["email", "NULL"]
    # With a gap longer than inactivity, the journey before it ends there.
    by_gap = jl.PeriodCounts.from_events(
        events, conversion="conversion", period="D", inactivity="1h"
    )
    day1 = by_gap.counts("2024-01-01").to_frame()
    assert sorted(map(tuple, day1[["from", "to"]].to_numpy().tolist())) == [
        ("START", "display"), ("START", "search"), ("display", "search"),
        ("search", "CONVERSION"), ("search", "NULL"),
    ]  # fmt: skip
    assert by_gap.counts("2024-01-02").to_frame()["from"].tolist() == ["START", "email"]


def test_rolling_windows_of_daily_counts_equal_counting_the_window(client, events):
    daily = jld.count_events(
        dd.from_pandas(events, npartitions=4),
        conversion="conversion",
        value="value",
        order=2,
        period="D",
        methods=["linear"],
    ).periods
    assert daily is not None and len(daily) == 20
    single_daily = jl.PeriodCounts.from_events(
        events, conversion="conversion", value="value", order=2, period="D", methods=["linear"]
    )
    assert daily.periods == single_daily.periods
    for day in daily.periods:
        assert daily.counts(day) == single_daily.counts(day)
    # Every 7-day window, and the whole.
    for first in daily.periods[:14:3]:
        end = first + pd.Timedelta(days=7)
        rows = journeys_ending_in(events, first, end)
        want = jl.TransitionCounts.from_journeys(
            jl.Journeys.from_events(rows, conversion="conversion", value="value"), 2
        )
        assert daily.window(first, end) == want
    assert daily.window() == jl.TransitionCounts.from_journeys(single(events), 2)
    assert daily.report.rows_read == len(events)


def test_daily_files_merge_into_any_window(events, tmp_path):
    # Each day's counts are saved as the day's events arrive (here: counted
    # from the rows of the journeys ending that day), then merged at will.
    days = pd.date_range("2024-03-01", periods=20, freq="D")
    for day in days:
        rows = journeys_ending_in(events, day, day + pd.Timedelta(days=1))
        if len(rows):
            jl.PeriodCounts.from_events(
                rows, conversion="conversion", value="value", period="D"
            ).select(day, day + pd.Timedelta(days=1)).save(tmp_path)
    assert len(list(tmp_path.glob("*.jlperiod"))) == 20
    kept = jl.PeriodCounts.load(tmp_path)
    last_week = jl.PeriodCounts.load(tmp_path, start=days[-7])
    assert len(last_week) == 7
    assert (
        last_week.window()
        == kept.window(days[-7])
        == jl.TransitionCounts.from_journeys(
            jl.Journeys.from_events(
                journeys_ending_in(events, days[-7], days[-1] + pd.Timedelta(days=1)),
                conversion="conversion",
                value="value",
            )
        )
    )
    # Adding a late file to a day merges into it.
    assert kept.merge(last_week).counts(days[-1]) == last_week.counts(days[-1]).merge(
        last_week.counts(days[-1])
    )


def test_attribution_over_time(events):
    daily = jl.PeriodCounts.from_events(
        events, conversion="conversion", value="value", period="D", methods=["last_touch"]
    )
    weekly = daily.attribution("W")
    assert list(weekly.columns[:3]) == ["period", "method", "channel"]
    assert set(weekly["method"]) == {"markov", "last_touch"}
    # 20 days from Friday 1 March: four weeks, Monday 26 February the first.
    assert weekly["period"].nunique() == 4
    for (start, _method), frame in weekly.groupby(["period", "method"]):
        lo = start
        hi = start + pd.Timedelta(days=7)
        want = journeys_ending_in(events, lo, hi)["conversion"].sum()
        assert frame["conversions"].sum() == pytest.approx(want, rel=1e-12)
    rolling = daily.attribution(window=7, methods=["markov"], ci=0.9, n_samples=50)
    assert rolling["period"].nunique() == 20
    last = rolling[rolling["period"] == daily.periods[-1]].set_index("channel")
    model = jl.MarkovModel().fit(daily.window(daily.periods[-7]))
    want = model.attribution().set_index("channel").loc[last.index]
    np.testing.assert_allclose(last["conversions"], want["conversions"], rtol=1e-12)
    assert (last["conversions_lower"] <= last["conversions"]).all()
    assert (last["conversions"] <= last["conversions_upper"]).all()
    assert (last["conversions_lower"] < last["conversions_upper"]).all()
    with pytest.raises(jl.InvalidInputError, match="not counted"):
        daily.attribution(methods=["linear"])


def test_import_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.delitem(sys.modules, "journeyloop.dask", raising=False)
    with pytest.raises(ImportError, match=r"journeyloop\[dask\]"):
        importlib.import_module("journeyloop.dask")


def test_docstring_examples() -> None:
    import doctest

    from journeyloop import _counts, _periods

    for module in (jld, _periods, _counts):
        result = doctest.testmod(
            module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, verbose=False
        )
        assert result.attempted > 3, module.__name__
        assert result.failed == 0, module.__name__


def test_strict_names_the_row_of_a_later_partition_counted_with_others(client, events, tmp_path):
    # Partitions counted together by one task: a bad row of the second file
    # is named in that file, and with period= too.
    names = []
    for i, part in enumerate([events.iloc[:200], events.iloc[200:400].copy()]):
        if i == 1:
            part["channel"] = part["channel"].astype(object)
            part.loc[part.index[33], "channel"] = None
        name = tmp_path / f"p{i}.parquet"
        part.to_parquet(name, index=False)
        names.append(str(name))
    for period in (None, "D"):
        with pytest.raises(jl.InvalidInputError) as info:
            jld.count_events(
                jld.read_events(names),
                conversion="conversion",
                strict=True,
                partitioned=True,
                partitions_per_task=2,
                period=period,
            )
        assert str(info.value).startswith(f"partition 1 (file {names[1]}), row 33 of the file: ")
    with pytest.raises(jl.InvalidInputError, match="partitions_per_task"):
        jld.count_events(jld.read_events(names), partitions_per_task=0)


def test_csv_files_with_parsed_dates(client, events, tmp_path):
    # read_csv's options (parse_dates) name columns that Dask's projection of
    # the frame may leave out: the files are read whole, then projected.
    names = []
    for i, part in enumerate(np.array_split(np.arange(1200), 3)):
        name = tmp_path / f"day-{i}.csv"
        events.iloc[part].to_csv(name, index=False)
        names.append(str(name))
    frame = jld.read_events(names, parse_dates=["time"])
    counted = jld.count_events(frame, conversion="conversion", value="value", order=2)
    want = single(events.iloc[:1200])
    assert counted.counts == jl.TransitionCounts.from_journeys(want, 2)
    assert_same_report(counted.report, want.report)
