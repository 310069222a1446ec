"""Safe files: atomic saves, exact round trips of every saved object, pickled
journeys and histories, and the saved files of tests/data/formats."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl
from journeyloop import _files

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"


# --- what is compared ---------------------------------------------------------


def assert_same_rows(a: jl.Journeys | jl.Histories, b: jl.Journeys | jl.Histories) -> None:
    """Every path, count, value, channel, customer, time, report and metadata."""
    assert type(a) is type(b)
    assert len(a) == len(b)
    assert a.channels == b.channels
    assert a.form == b.form
    assert a.has_times == b.has_times
    assert a.total_value == b.total_value
    assert a.teams == b.teams
    assert a.stages == b.stages
    assert a.report == b.report
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(a.to_touches(), b.to_touches(), check_exact=True)
    assert a.to_bytes() == b.to_bytes()


def assert_same_model(a: Any, b: Any) -> None:
    """Every figure a fitted model shows, bitwise."""
    assert type(a) is type(b)
    assert a.to_bytes() == b.to_bytes()
    pd.testing.assert_frame_equal(a.transition_matrix(), b.transition_matrix(), check_exact=True)
    pd.testing.assert_frame_equal(a.removal_effects(), b.removal_effects(), check_exact=True)
    pd.testing.assert_frame_equal(a.attribution(), b.attribution(), check_exact=True)
    assert a.channels_ == b.channels_
    assert a.teams_ == b.teams_
    assert a.stages_ == b.stages_


def events() -> pd.DataFrame:
    """Customers 7 and 3 (times with fractions of a second), a rejected row."""
    return pd.DataFrame(
        {
            "customer": [7, 3, 7, 7, 7, 3, 9],
            "time": pd.to_datetime(
                [
                    "2024-01-05 10:00:00.25",
                    "2024-01-01 00:00:00.0",
                    "2024-01-01 08:30:00.0",
                    "2024-01-09 00:00:00.0",
                    "2024-01-12 00:00:00.0",
                    "2024-01-04 00:00:00.0",
                    "2024-01-02 00:00:00.0",
                ]
            ),
            "channel": ["search", "email", "email", "demo", "email", None, None],
            "conversion": [False, False, False, True, False, True, False],
            "value": [np.nan, np.nan, np.nan, 100.5, np.nan, 20.0, np.nan],
        }
    )


def loop_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer": ["ann", "bob", "ann", "ann", "bob", "ann"],
            "time": [1.0, 2.0, 3.5, 4.0, 5.0, 6.0],
            "channel": ["email", "search", "search", "email", "search", "email"],
            "conversion": [0, 0, 1, 0, 1, 1],
            "value": [0.0, 0.0, 30.0, 0.0, 12.5, 7.25],
        }
    )


HAND = pd.DataFrame(
    {
        "history": ["a > purchase > b > purchase", "a > b", "b > purchase"],
        "customers": [1, 1, 2],
        "value": [30.0, 0.0, 60.0],
    }
)


def funnel_paths() -> jl.Journeys:
    return jl.Journeys.from_paths(
        pd.DataFrame(
            {
                "path": ["a > b > a", "b", "c > a > a", "a > c"],
                "conversions": [1, 0, 2, 1],
                "nulls": [1, 2, 0, 3],
                "value": [10.25, 0.0, 30.0, 1 / 3],
            }
        ),
        conversions="conversions",
        nulls="nulls",
        value="value",
    )


def _from_events(df: pd.DataFrame, **columns: str) -> jl.Journeys:
    # The log's row without a channel and without a conversion is rejected,
    # so that the report has a count to keep.
    with pytest.warns(jl.DataWarning, match="^1 of 7 rows rejected \\(null_channel 1\\)"):
        return jl.Journeys.from_events(df, conversion="conversion", **columns)


def all_rows() -> dict[str, jl.Journeys | jl.Histories]:
    return {
        "paths": funnel_paths(),
        "paths with teams": funnel_paths().with_channels(
            {
                "a": {"team": "marketing", "stage": "top"},
                "b": {"team": "sales", "stage": "end"},
                "c": {"team": "sales", "stage": "end"},
            }
        ),
        "events": _from_events(events(), value="value"),
        "events by name": _from_events(
            events().assign(customer=lambda d: d["customer"].map(lambda c: f"c{c}"))
        ),
        "histories": jl.Histories.from_paths(
            HAND, path="history", count="customers", value="value"
        ),
        "histories from events": jl.Histories.from_events(
            loop_events(), conversion="conversion", value="value"
        ).with_channels({"email": "marketing", "search": "sales"}),
    }


# --- journeys and histories ---------------------------------------------------


@pytest.mark.parametrize("name", list(all_rows()))
def test_rows_round_trip_exactly(name: str, tmp_path: Path) -> None:
    rows = all_rows()[name]
    back = type(rows).from_bytes(rows.to_bytes())
    # The file keeps everything but the report.
    assert back.report is None
    assert back.teams == rows.teams
    pd.testing.assert_frame_equal(back.to_frame(), rows.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(back.to_touches(), rows.to_touches(), check_exact=True)
    assert back.to_bytes() == rows.to_bytes()
    rows.save(tmp_path / "rows.jl")
    loaded = type(rows).load(tmp_path / "rows.jl")
    assert loaded.to_bytes() == rows.to_bytes()
    # Pickling keeps the report as well.
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert_same_rows(pickle.loads(pickle.dumps(rows, protocol=protocol)), rows)


def test_histories_keep_the_purchases_left_out_before_any_touch(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {"path": ["purchase > a > purchase > b > purchase", "b > purchase"], "count": [1, 3],
         "value": [21.0, 6.0]}
    )  # fmt: skip
    with pytest.warns(jl.DataWarning, match="1 purchases before the first touch"):
        rows = jl.Histories.from_paths(table)
    assert (rows.unattributed_purchases, rows.unattributed_value) == (1.0, 7.0)
    back = jl.Histories.from_bytes(rows.to_bytes())
    assert (back.unattributed_purchases, back.unattributed_value) == (1.0, 7.0)
    assert back.to_bytes() == rows.to_bytes()
    unpickled = pickle.loads(pickle.dumps(rows))
    assert (unpickled.unattributed_purchases, unpickled.unattributed_value) == (1.0, 7.0)
    # Without any, the record has no such fields (files from before read alike).
    plain = jl.Histories.from_paths(table.iloc[1:])
    assert b"unattributed" not in plain.to_bytes()
    assert jl.Histories.from_bytes(plain.to_bytes()).unattributed_purchases == 0.0


def test_pickled_event_journeys_keep_customers_times_and_report() -> None:
    j = _from_events(events(), value="value")
    back = pickle.loads(pickle.dumps(j))
    assert back.has_times
    assert back.report is not None and j.report is not None
    assert back.report.rows_read == 7
    assert back.report == j.report
    assert back.report.rows_rejected == j.report.rows_rejected
    touches = back.to_touches()
    assert touches.equals(j.to_touches())
    assert list(back.to_frame()["customer"]) == list(j.to_frame()["customer"])
    # Counted again, the unpickled journeys give the same model.
    assert_same_model(jl.MarkovModel(order=2).fit(back), jl.MarkovModel(order=2).fit(j))


def test_rows_files_are_checked() -> None:
    j = funnel_paths()
    data = j.to_bytes()
    with pytest.raises(jl.InvalidInputError, match="holds a journeys, expected a loop_histories"):
        jl.Histories.from_bytes(data)
    with pytest.raises(jl.InvalidInputError, match="truncated or modified"):
        jl.Journeys.from_bytes(data[:-1])
    with pytest.raises(jl.InvalidInputError, match="checksum mismatch"):
        jl.Journeys.from_bytes(data.replace(b'"nulls":[1,2', b'"nulls":[1,3'))
    with pytest.raises(jl.InvalidInputError, match="JSON syntax error at byte 0"):
        jl.Journeys.from_bytes(b"path,conversions\na,1\n")
    with pytest.raises(jl.InvalidInputError, match=r"invalid file: not a journeyloop file$"):
        jl.Journeys.from_bytes(b'{"name":"x"}\n{}')


# --- counts and models --------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"order": 1},
        {"order": 2, "padded": True},
        {"order": 3, "collapse_repeats": False},
    ],
)
def test_counts_round_trip_exactly(options: dict[str, Any], tmp_path: Path) -> None:
    counts = jl.TransitionCounts.from_journeys(funnel_paths(), **options)
    back = jl.TransitionCounts.from_bytes(counts.to_bytes())
    assert back == counts
    assert back.to_bytes() == counts.to_bytes()
    pd.testing.assert_frame_equal(back.to_frame(), counts.to_frame(), check_exact=True)
    counts.save(tmp_path / "c.jl")
    assert jl.TransitionCounts.load(tmp_path / "c.jl").to_bytes() == counts.to_bytes()
    assert pickle.loads(pickle.dumps(counts)).to_bytes() == counts.to_bytes()


def models() -> dict[str, Any]:
    teams = {"a": "marketing", "b": "sales", "c": "sales"}
    return {
        "funnel": jl.MarkovModel(order=2, smoothing=0.25).fit(funnel_paths()),
        "funnel with teams": jl.MarkovModel(order=1).fit(funnel_paths().with_channels(teams)),
        "loop": jl.MarkovModel(order=1).fit(
            jl.Histories.from_paths(HAND, path="history", count="customers", value="value")
        ),
        "loop order 2": jl.MarkovModel(order=2).fit(
            jl.Histories.from_events(loop_events(), conversion="conversion", value="value")
        ),
    }


@pytest.mark.parametrize("name", list(models()))
def test_models_round_trip_exactly(name: str, tmp_path: Path) -> None:
    model = models()[name]
    assert_same_model(type(model).from_bytes(model.to_bytes()), model)
    model.save(tmp_path / "m.jl")
    assert_same_model(type(model).load(tmp_path / "m.jl"), model)
    assert_same_model(pickle.loads(pickle.dumps(model)), model)


# --- atomic saves -------------------------------------------------------------


def test_a_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "model.jl"
    old = jl.MarkovModel().fit(funnel_paths())
    old.save(target)
    before = target.read_bytes()

    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_files.os, "fsync", fail)
    with pytest.raises(OSError, match="No space left"):
        jl.MarkovModel(order=2).fit(funnel_paths()).save(target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.jl"]
    # A folder in the way: the rename fails, the temporary file goes.
    (tmp_path / "dir.jl").mkdir()
    with pytest.raises(OSError):
        old.save(tmp_path / "dir.jl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.jl", "model.jl"]


def test_saved_files_get_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    funnel_paths().save(tmp_path / "j.jl")
    assert (tmp_path / "j.jl").stat().st_mode & 0o777 == 0o666 & ~umask


# The child saves through journeyloop's own write_atomically (what every save
# calls), loaded from its file alone so that the child starts at once.
CHILD = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("files", sys.argv[1])
files = importlib.util.module_from_spec(spec)
spec.loader.exec_module(files)
data = open(sys.argv[2], "rb").read()
print("ready", flush=True)
while True:
    files.write_atomically(sys.argv[3], data)
"""


def big_counts() -> jl.TransitionCounts:
    rng = np.random.default_rng(7)
    channels = np.array([f"channel_{i}" for i in range(40)])
    paths = [" > ".join(channels[rng.integers(0, 40, 6)]) for _ in range(20_000)]
    conversions = rng.integers(0, 2, len(paths))
    j = jl.Journeys.from_paths(paths, conversions=conversions, nulls=1 - conversions)
    return jl.TransitionCounts.from_journeys(j, order=3)


def test_a_killed_save_leaves_the_old_file_or_the_whole_new_one(tmp_path: Path) -> None:
    big, small = big_counts(), jl.TransitionCounts.from_journeys(funnel_paths())
    small_bytes, big_bytes = small.to_bytes(), big.to_bytes()
    assert len(big_bytes) > 1 << 20
    source, target = tmp_path / "source.jl", tmp_path / "target.jl"
    big.save(source)
    start = time.perf_counter()
    big.save(target)
    one_save = time.perf_counter() - start
    seen = {"old": 0, "new": 0}
    for attempt in range(12):
        small.save(target)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, _files.__file__, str(source), str(target)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        # From at once to a few saves later: before, during and between saves.
        time.sleep(one_save * attempt / 8)
        child.kill()
        child.wait()
        child.stdout.close()
        data = target.read_bytes()
        assert data in (small_bytes, big_bytes)  # never a half file
        seen["old" if data == small_bytes else "new"] += 1
    assert seen["old"] + seen["new"] == 12
    assert jl.TransitionCounts.load(target).to_bytes() in (small_bytes, big_bytes)
    # What a kill can leave is a hidden temporary file, never a damaged target.
    for leftover in tmp_path.iterdir():
        assert leftover.name in {"source.jl", "target.jl"} or leftover.name.startswith(
            ".target.jl.tmp-"
        )


# --- the saved files of tests/data/formats --------------------------------------


def format_files() -> Any:
    """tests/data/formats/make_files.py, imported (it rebuilds the same objects)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_files", FORMATS / "make_files.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def saved(name: str) -> bytes:
    data = (FORMATS / name).read_bytes()
    header = data.split(b"\n", 1)[0].decode()
    assert header.startswith('{"format":"journeyloop","kind":"')
    assert '"version":1,' in header
    return data


def test_every_record_kind_has_a_saved_file() -> None:
    kinds = {saved(p.name).split(b'"kind":"', 1)[1].split(b'"', 1)[0] for p in FORMATS.glob("*.jl")}
    assert kinds == {
        b"transition_counts",
        b"markov_model",
        b"loop_model",
        b"journeys",
        b"loop_histories",
    }


def test_saved_counts_file() -> None:
    make = format_files()
    counts = jl.TransitionCounts.from_bytes(saved("transition_counts.jl"))
    assert counts == jl.TransitionCounts.from_journeys(make.funnel(), order=2, padded=True)
    assert (counts.order, counts.padded, counts.collapse_repeats) == (2, True, True)
    assert counts.channels == ["a", "b", "c"]
    assert counts.n_states == 3 + 4  # (start, a), (a, b), (start, b), (a, c)
    assert sorted(counts.to_frame()["count"]) == [1, 1, 2, 2, 2, 2, 2, 4]
    assert counts.to_bytes() == saved("transition_counts.jl")


def test_saved_funnel_model_files() -> None:
    make = format_files()
    model = jl.MarkovModel.load(FORMATS / "markov_model.jl")
    assert isinstance(model, jl.MarkovModel)
    assert model.to_bytes() == saved("markov_model.jl")
    assert model.max_states == 1000
    assert model.smoothing == 0.5
    assert model.teams_ == {"a": "marketing", "b": "sales", "c": "sales"}
    assert model.stages_ == {"a": "top", "b": "bottom", "c": "bottom"}
    fresh = jl.MarkovModel(order=1, smoothing=0.5, max_states=1000).fit(
        make.funnel().with_channels(make.FUNNEL_TEAMS)
    )
    assert_same_model(model, fresh)
    # The layout of files written before the metadata member existed.
    plain = jl.MarkovModel.from_bytes(saved("markov_model_no_metadata.jl"))
    assert b'"metadata"' not in saved("markov_model_no_metadata.jl")
    assert plain.order == 2
    assert plain.teams_ is None
    assert plain.conversion_rate_ == pytest.approx(3 / 6, abs=1e-15)
    assert_same_model(plain, jl.MarkovModel(order=2).fit(make.funnel()))
    re = plain.removal_effects().set_index("channel")["removal_effect"]
    # b and c each lie on one converting path (1 and 2 of 3 conversions); a on both.
    assert re.to_dict() == pytest.approx({"a": 1.0, "b": 1 / 3, "c": 2 / 3}, abs=1e-15)


def test_saved_loop_model_file() -> None:
    make = format_files()
    model = jl.LoopModel.load(FORMATS / "loop_model.jl")
    assert model.to_bytes() == saved("loop_model.jl")
    assert model.teams_ == {"a": "marketing", "b": "sales"}
    # The hand-worked chain of test_loop.py.
    assert model.first_purchase_probability_ == pytest.approx(13 / 16, rel=1e-14)
    assert model.repeat_probability_ == pytest.approx(3 / 16, rel=1e-14)
    assert model.expected_purchases_ == pytest.approx(1.0, rel=1e-14)
    assert model.expected_value_ == pytest.approx(22.5, rel=1e-14)
    assert_same_model(
        model, jl.MarkovModel(order=1).fit(make.histories().with_channels(make.TEAMS))
    )


def test_saved_journeys_files() -> None:
    make = format_files()
    j = jl.Journeys.load(FORMATS / "journeys.jl")
    assert j.to_bytes() == saved("journeys.jl")
    assert j.has_times
    assert j.teams == {"email": "marketing", "search": "marketing", "demo": "sales"}
    frame = j.to_frame()
    fresh = jl.Journeys.from_events(make.EVENTS, conversion="conversion", value="value")
    pd.testing.assert_frame_equal(frame, fresh.to_frame(), check_exact=True)
    pd.testing.assert_frame_equal(j.to_touches(), fresh.to_touches(), check_exact=True)
    assert j.total_conversions == 2
    assert j.total_value == 120.5
    assert sorted(frame["customer"].unique()) == [3, 7]

    named = jl.Journeys.load(FORMATS / "journeys_named_customers.jl")
    assert sorted(named.to_frame()["customer"].unique()) == ["customer 3", "customer 7"]
    assert list(named.to_frame()["path"]) == list(frame["path"])


def test_saved_histories_files() -> None:
    make = format_files()
    h = jl.Histories.load(FORMATS / "loop_histories.jl")
    assert h.to_bytes() == saved("loop_histories.jl")
    fresh = jl.Histories.from_events(make.EVENTS, conversion="conversion", value="value")
    pd.testing.assert_frame_equal(h.to_frame(), fresh.to_frame(), check_exact=True)
    assert h.total_purchases == 2
    assert h.total_value == 120.5
    hp = jl.Histories.load(FORMATS / "loop_histories_from_paths.jl")
    assert list(hp.to_frame()["path"]) == [
        "a > purchase > b > purchase",
        "a > b",
        "b > purchase",
    ]
    assert (hp.total_customers, hp.total_purchases, hp.total_value) == (4, 4, 90)


# --- overflow -------------------------------------------------------------------


def test_merging_counts_past_the_representable_range_is_refused() -> None:
    huge = jl.TransitionCounts.from_journeys(jl.Journeys.from_paths(["a"], conversions=[1e308]))
    with pytest.raises(jl.InvalidInputError, match=r"would be past the largest number"):
        huge.merge(huge)
    big = jl.TransitionCounts.from_journeys(jl.Journeys.from_paths(["a"], conversions=[2.0**53]))
    one = jl.TransitionCounts.from_journeys(jl.Journeys.from_paths(["a"], conversions=[1]))
    with pytest.raises(jl.InvalidInputError, match=r"whole counts past 2\*\*53"):
        big.merge(one)


def test_format_doc_examples() -> None:
    import doctest

    result = doctest.testfile(
        str(Path(__file__).resolve().parents[2] / "docs" / "format.md"),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted >= 8
    assert result.failed == 0
