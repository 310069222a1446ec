"""Every row of docs/errors.md is run: the case with the row's id must raise the
documented error (or emit the documented warning) with the documented message.

A row without a case, or a case without a row, fails. In a documented message,
``…`` stands for text that varies (a library's type name, a repr): the parts
around it must appear in order.
"""

from __future__ import annotations

import builtins
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\|\s*`(?P<id>[a-z0-9-]+)`\s*\|(?P<input>.*)\|\s*`(?P<type>[A-Za-z.]+)`\s*\|"
                 r"\s*`(?P<message>.*)`\s*\|\s*$")  # fmt: skip


def documented() -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m is None:
            continue
        assert m["id"] not in rows, f"id {m['id']} is in docs/errors.md twice"
        rows[m["id"]] = (m["type"], m["message"])
    return rows


def error_type(name: str) -> type[BaseException]:
    name = name.removeprefix("jl.")
    found = getattr(jl, name, None) or getattr(builtins, name, None)
    assert isinstance(found, type) and issubclass(found, BaseException), name
    return found


def paths(p: list[Any], **columns: Any) -> jl.Journeys:
    return jl.Journeys.from_paths(pd.DataFrame({"path": p, **columns}))


def events(**columns: Any) -> pd.DataFrame:
    base: dict[str, Any] = {
        "customer": ["u1", "u1", "u2"],
        "time": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        "channel": ["a", "b", "a"],
        "conversion": [0, 1, 0],
    }
    base.update(columns)
    return pd.DataFrame(base)


def funnel() -> jl.MarkovModel:
    j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2], nulls=[1, 2, 0])
    return jl.MarkovModel().fit(j)


def loop() -> jl.LoopModel:
    h = jl.Histories.from_paths(pd.DataFrame({"path": ["a > purchase > b", "b"]}))
    return jl.MarkovModel().fit(h)


def fit(p: str) -> object:
    return jl.MarkovModel().fit(paths([p], conversions=[1]))


def fit_loop(p: str) -> object:
    return jl.MarkovModel().fit(jl.Histories.from_paths(pd.DataFrame({"path": [p]})))


def one3() -> jl.Journeys:
    return jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2], nulls=[1, 2, 0])


def _with_memory_limit(cap: int, call: Callable[[], object]) -> object:
    with jl.memory_limit(cap):
        return call()


def one() -> jl.Journeys:
    return jl.Journeys.from_paths(["a"], conversions=[1])


def calibration_case(*tests: tuple[str, float, float, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An attribution (a 60, b 30, c 10) and lift tests of it."""
    a = pd.DataFrame({"channel": ["a", "b", "c"], "conversions": [60.0, 30.0, 10.0]})
    experiments = pd.DataFrame(
        list(tests), columns=["channel", "incremental_conversions", "lower", "upper"]
    )
    return a, experiments


def chain_of(k: int) -> jl.MarkovModel:
    path = " > ".join(f"c{i}" for i in range(k))
    return jl.MarkovModel().fit(jl.Journeys.from_paths([path], conversions=[1], nulls=[1]))


def saved() -> bytes:
    return funnel().to_bytes()


CASES: dict[str, Callable[[Path], object]] = {
    # Path tables
    "paths-no-path-column": lambda _: jl.Journeys.from_paths(
        pd.DataFrame({"p": ["a"], "conversions": [1]})
    ),
    "paths-no-conversions-column": lambda _: jl.Journeys.from_paths(pd.DataFrame({"path": ["a"]})),
    "paths-not-a-table": lambda _: jl.Journeys.from_paths(42),
    "paths-path-not-text": lambda _: paths(["a", 3], conversions=[1, 1]),
    "paths-path-null": lambda _: paths(["a", None], conversions=[1, 1]),
    "paths-path-empty": lambda _: paths(["a", ""], conversions=[1, 1]),
    "paths-path-blank": lambda _: paths(["a", "   "], conversions=[1, 1]),
    "paths-empty-channel": lambda _: paths(["a", "a >> b"], conversions=[1, 1]),
    "paths-trailing-separator": lambda _: paths(["a >"], conversions=[1]),
    "paths-empty-channel-in-list": lambda _: jl.Journeys.from_paths([["a", ""]], conversions=[1]),
    "paths-conversions-nan": lambda _: paths(["a", "b"], conversions=[1, float("nan")]),
    "paths-conversions-negative": lambda _: paths(["a", "b"], conversions=[1, -1]),
    "paths-conversions-infinite": lambda _: paths(["a", "b"], conversions=[1, float("inf")]),
    "paths-conversions-text": lambda _: paths(["a", "b"], conversions=[1, "x"]),
    "paths-conversions-complex": lambda _: jl.Journeys.from_paths(
        ["a"], conversions=np.array([2j])
    ),
    "paths-conversions-booleans": lambda _: paths(["a"], conversions=[True]),
    "paths-nulls-negative": lambda _: jl.Journeys.from_paths(
        pd.DataFrame({"path": ["a", "b"], "conversions": [1, 0], "nulls": [0, -2]}), nulls="nulls"
    ),
    "paths-lengths-differ": lambda _: jl.Journeys.from_paths(["a", "b"], conversions=[1]),
    "paths-empty-separator": lambda _: jl.Journeys.from_paths(["a"], conversions=[1], sep=""),
    "paths-unknown-form": lambda _: jl.Journeys.from_paths(
        ["a"],
        conversions=[1],
        form="circle",  # type: ignore[call-overload]
    ),
    "frame-separator-in-name": lambda _: jl.Journeys.from_paths(
        [["a > b", "c"]], conversions=[1]
    ).to_frame(),
    # Loop histories
    "loop-count-negative": lambda _: jl.Histories.from_paths(
        pd.DataFrame({"path": ["a > purchase", "b"], "c": [1, -1]}), count="c"
    ),
    "loop-value-without-purchase": lambda _: jl.Histories.from_paths(
        pd.DataFrame({"path": ["a > b"], "value": [5.0]}), value="value"
    ),
    "loop-empty-purchase-token": lambda _: jl.Histories.from_paths(
        pd.DataFrame({"path": ["a > purchase"]}), purchase=""
    ),
    "loop-padded": lambda _: jl.MarkovModel(padded=True).fit(
        jl.Histories.from_paths(pd.DataFrame({"path": ["a > purchase"]}))
    ),
    # Channel names that are the names of the chain's states
    "reserved-start": lambda _: fit("a > START"),
    "reserved-conversion": lambda _: fit("CONVERSION > a"),
    "reserved-null": lambda _: fit("a > NULL"),
    "reserved-loop-purchase": lambda _: fit_loop("a > PURCHASE > purchase"),
    "reserved-loop-end": lambda _: fit_loop("END > a > purchase"),
    "reserved-loop-start": lambda _: fit_loop("START > a > purchase"),
    # Event logs
    "events-not-a-table": lambda _: jl.Journeys.from_events(42),
    "events-no-time-column": lambda _: jl.Journeys.from_events(
        events().drop(columns="time"), conversion="conversion"
    ),
    "events-no-conversion-column": lambda _: jl.Journeys.from_events(events(), conversion="conv"),
    "events-time-text": lambda _: jl.Journeys.from_events(
        events(time=["x", "y", "z"]), conversion="conversion"
    ),
    "events-channel-numbers": lambda _: jl.Journeys.from_events(
        events(channel=[1, 2, 3]), conversion="conversion"
    ),
    "events-conversion-text": lambda _: jl.Journeys.from_events(
        events(conversion=["x", "y", "z"]), conversion="conversion"
    ),
    "events-lengths-differ": lambda _: jl.Journeys.from_events(
        {"customer": ["u1", "u2"], "time": np.array([1, 2]), "channel": ["a"]}
    ),
    "events-strict-missing-customer": lambda _: jl.Journeys.from_events(
        events(customer=["u1", None, "u2"]), conversion="conversion", strict=True
    ),
    "events-strict-missing-time": lambda _: jl.Journeys.from_events(
        events(time=pd.to_datetime(["2024-01-01", None, "2024-01-03"])),
        conversion="conversion",
        strict=True,
    ),
    "events-strict-missing-channel": lambda _: jl.Journeys.from_events(
        events(channel=["a", "b", None]), conversion="conversion", strict=True
    ),
    "events-strict-duplicate": lambda _: jl.Journeys.from_events(
        events(
            customer=["u1", "u1", "u1"],
            time=pd.to_datetime(["2024-01-01"] * 3),
            channel=["a", "a", "a"],
            conversion=[0, 0, 0],
        ),
        conversion="conversion",
        duplicates="drop",
        strict=True,
    ),
    "events-value-without-conversion": lambda _: jl.Journeys.from_events(
        events(), value="conversion"
    ),
    "events-lookback-unreadable": lambda _: jl.Journeys.from_events(
        events(), conversion="conversion", lookback="soon"
    ),
    "events-lookback-number-for-datetimes": lambda _: jl.Journeys.from_events(
        events(), conversion="conversion", lookback=-5
    ),
    "events-lookback-text-for-numbers": lambda _: jl.Journeys.from_events(
        events(time=[1.0, 2.0, 3.0]), conversion="conversion", lookback="30D"
    ),
    "events-inactivity-unreadable": lambda _: jl.Journeys.from_events(
        events(), conversion="conversion", inactivity="x"
    ),
    "events-lookback-loop": lambda _: jl.Journeys.from_events(
        events(), conversion="conversion", form="loop", lookback="30D"
    ),
    "events-unknown-duplicates": lambda _: jl.Journeys.from_events(
        events(),
        conversion="conversion",
        duplicates="merge",  # type: ignore[call-overload]
    ),
    "events-empty-purchase-name": lambda _: jl.Journeys.from_events(
        events(), conversion="conversion", form="loop", purchase=""
    ),
    # Options
    "model-order-zero": lambda _: jl.MarkovModel(order=0),
    "model-order-too-high": lambda _: jl.MarkovModel(order=10_001),
    "model-order-fraction": lambda _: jl.MarkovModel(order=1.5),  # type: ignore[arg-type]
    "model-max-states-negative": lambda _: jl.MarkovModel(max_states=-1),
    "model-smoothing-nan": lambda _: jl.MarkovModel(smoothing=float("nan")),
    "model-smoothing-negative": lambda _: jl.MarkovModel(smoothing=-1.0),
    "counts-order-zero": lambda _: jl.TransitionCounts.from_journeys(one(), order=0),
    "threads-negative": lambda _: jl.set_threads(-1),
    "top-paths-n-zero": lambda _: funnel().top_paths(0),
    "top-paths-max-expanded-zero": lambda _: funnel().top_paths(1, max_expanded=0),
    "attribute-unknown-method": lambda _: jl.attribute(one(), methods=["magic"]),
    "attribute-unknown-by": lambda _: jl.attribute(one(), by="x"),  # type: ignore[arg-type]
    "attribute-half-life-negative": lambda _: jl.attribute(
        one(), methods=["time_decay"], half_life=-1
    ),
    "attribute-half-life-text": lambda _: jl.attribute(
        one(), methods=["time_decay"], half_life="soon"
    ),
    "attribute-unknown-decay": lambda _: jl.attribute(
        one(),
        methods=["time_decay"],
        decay="x",  # type: ignore[arg-type]
    ),
    "attribute-unknown-level": lambda _: jl.attribute(one(), level="rows"),  # type: ignore[arg-type]
    "attribute-position-weights-range": lambda _: jl.attribute(one(), position_weights=(-0.1, 0.5)),
    "attribute-position-weights-sum": lambda _: jl.attribute(one(), position_weights=(0.6, 0.5)),
    "attribution-journey-level-no-journeys": lambda _: (
        jl.MarkovModel().fit(funnel().counts_).attribution(level="journey")
    ),
    "calibrate-unknown-channel": lambda _: jl.calibrate(*calibration_case(("z", 1, 0, 2))),
    "calibrate-lower-above-upper": lambda _: jl.calibrate(*calibration_case(("a", 1, 3, 2))),
    "calibrate-negative": lambda _: jl.calibrate(*calibration_case(("a", 1, -1, 2))),
    "calibrate-tests-exceed-total": lambda _: jl.calibrate(
        *calibration_case(("a", 70, 60, 80), ("b", 40, 30, 50))
    ),
    "attribution-unknown-by": lambda _: funnel().attribution(by="region"),  # type: ignore[arg-type]
    "teams-not-given": lambda _: funnel().attribution(by="team"),
    "teams-channel-twice": lambda _: funnel().attribution(
        by="team",
        teams=pd.DataFrame({"channel": ["a", "b", "a"], "team": ["mk", "sales", "sales"]}),
    ),
    "teams-team-not-text": lambda _: funnel().attribution(
        by="team", teams={"a": 1, "b": "x", "c": "y"}
    ),
    "teams-wrong-type": lambda _: funnel().attribution(by="team", teams=["a"]),
    "teams-missing-channel": lambda _: funnel().attribution(by="team", teams={"a": "m", "b": "s"}),
    "metadata-missing-channel": lambda _: paths(["a > c"], conversions=[1]).with_channels(
        pd.DataFrame({"channel": ["a"], "team": ["m"]})
    ),
    "metadata-columns": lambda _: one().with_channels(pd.DataFrame({"name": ["a"]})),
    "groups-as-text": lambda _: funnel().attribution(
        by="group",
        groups={"ab": "ab"},  # type: ignore[dict-item]
    ),
    "groups-not-a-dict": lambda _: funnel().attribution(by="group", groups=["a"]),  # type: ignore[arg-type]
    "groups-unknown-channel": lambda _: funnel().attribution(by="group", groups={"ab": ["a", "z"]}),
    "sequences-not-given": lambda _: funnel().attribution(by="sequence"),
    "sequences-unknown": lambda _: funnel().attribution(by="sequence", sequences=[["zz"]]),
    "stages-not-given": lambda _: one().stage_moves(),
    "fit-wrong-type": lambda _: jl.MarkovModel().fit(pd.DataFrame({"path": ["a"]})),  # type: ignore[arg-type]
    "model-not-fitted": lambda _: jl.MarkovModel().attribution(),
    "loop-figure-of-funnel": lambda _: loop().conversion_rate_,
    "funnel-figure-of-loop": lambda _: funnel().expected_purchases_,  # type: ignore[attr-defined]
    "merge-different-order": lambda _: jl.TransitionCounts.from_journeys(one()).merge(
        jl.TransitionCounts.from_journeys(one(), order=2)
    ),
    "graphml-control-character": lambda _: (
        jl.MarkovModel()
        .fit(jl.Journeys.from_paths(["a\x07 > b"], conversions=[1], nulls=[1]))
        .to_graphml()
    ),
    # Sizes past the limits
    "limit-memory-counting": lambda _: _with_memory_limit(
        100, lambda: jl.MarkovModel().fit(one3())
    ),
    "limit-memory-fit": lambda _: _with_memory_limit(200, lambda: jl.MarkovModel().fit(one3())),
    "limit-memory-next-touch": lambda _: (
        lambda model: _with_memory_limit(100, lambda: model.next_touch(["a"]))
    )(jl.MarkovModel().fit(one3())),
    "merge-overflow": lambda _: jl.TransitionCounts.from_journeys(
        jl.Journeys.from_paths(["a"], conversions=[1e308])
    ).merge(jl.TransitionCounts.from_journeys(jl.Journeys.from_paths(["a"], conversions=[1e308]))),
    "paths-total-overflow": lambda _: jl.Journeys.from_paths(
        ["a", "b"], conversions=[1e308, 1e308]
    ),
    "paths-leading-purchase": lambda _: jl.Histories.from_paths(
        pd.DataFrame(
            {"path": ["purchase > a", "a > purchase"], "count": [1, 1], "value": [4.0, 3.0]}
        )
    ),
    "events-rejected-rows": lambda _: jl.Journeys.from_events(
        events(channel=["a", None, "a"], conversion=[0, 0, 1]), conversion="conversion"
    ),
    "events-customer-nan": lambda _: jl.Journeys.from_events(
        events(customer=[1.0, np.nan, 2.0]), conversion="conversion"
    ),
    "events-customer-fraction": lambda _: jl.Journeys.from_events(
        events(customer=[1.0, 7.5, 2.0]), conversion="conversion"
    ),
    "events-mixed-types": lambda _: jl.Journeys.from_events(
        events(customer=[1, 2, "u3"]), conversion="conversion"
    ),
    "events-conversion-not-given": lambda _: jl.Journeys.from_events(events()),
    "events-nothing-converts": lambda _: jl.Journeys.from_events(
        events(conversion=[0, 0, 0]), conversion="conversion"
    ),
    "events-conversion-without-touch": lambda _: jl.Journeys.from_events(
        events(channel=["a", "b", None], conversion=[0, 0, 1]), conversion="conversion"
    ),
    "events-value-missing": lambda _: jl.Journeys.from_events(
        events(value=[0.0, np.nan, 0.0]), conversion="conversion", value="value"
    ),
    "events-strict-value-missing": lambda _: jl.Journeys.from_events(
        events(value=[0.0, np.nan, 0.0]), conversion="conversion", value="value", strict=True
    ),
    "events-strict-value-negative": lambda _: jl.Journeys.from_events(
        events(value=[0.0, -2.5, 0.0]), conversion="conversion", value="value", strict=True
    ),
    "events-value-on-touch": lambda _: jl.Journeys.from_events(
        events(value=[5.0, 1.0, 0.0]), conversion="conversion", value="value"
    ),
    "events-strict-value-on-touch": lambda _: jl.Journeys.from_events(
        events(value=[5.0, 1.0, 0.0]), conversion="conversion", value="value", strict=True
    ),
    "events-total-overflow": lambda _: jl.Journeys.from_events(
        events(conversion=[0, 1e308, 1e308]), conversion="conversion"
    ),
    "events-unattributed-overflow": lambda _: jl.Journeys.from_events(
        events(channel=[None, None, "a"], conversion=[1e308, 1e308, 0]), conversion="conversion"
    ),
    "memory-limit-negative": lambda _: jl.set_memory_limit(-1),
    "model-collapse-repeats-text": lambda _: jl.MarkovModel(collapse_repeats="yes"),  # type: ignore[arg-type]
    "file-journeys-as-model": lambda _: jl.MarkovModel.from_bytes(one().to_bytes()),
    "file-histories-as-journeys": lambda _: jl.Journeys.from_bytes(
        jl.Histories.from_paths(pd.DataFrame({"path": ["a > purchase"]})).to_bytes()
    ),
    "file-not-bytes": lambda _: jl.MarkovModel.from_bytes("text"),  # type: ignore[arg-type]
    "limit-state-space": lambda _: jl.MarkovModel(order=2, max_states=5).fit(
        paths(["a > b", "b > c", "c > a"], conversions=[1, 0, 1])
    ),
    "limit-shapley-players": lambda _: chain_of(30).shapley(method="exact"),
    "shapley-permutations": lambda _: chain_of(3).shapley(method="sampled", permutations=5),
    "removal-rule": lambda _: chain_of(3).removal_effects(rule="reconnect"),  # type: ignore[arg-type]
    # Files and saved models
    "file-empty": lambda _: jl.MarkovModel.from_bytes(b""),
    "file-not-utf8": lambda _: jl.TransitionCounts.from_bytes(b"\xff\xfe"),
    "file-not-journeyloop": lambda _: jl.MarkovModel.from_bytes(b"hello world"),
    "file-truncated": lambda _: jl.MarkovModel.from_bytes(saved()[:-10]),
    "file-checksum": lambda _: jl.MarkovModel.from_bytes(saved()[:-3] + b"xyz"),
    "file-newer-version": lambda _: jl.MarkovModel.from_bytes(
        saved().replace(b'"version":1', b'"version":9', 1)
    ),
    "file-counts-as-model": lambda _: jl.MarkovModel.from_bytes(
        jl.TransitionCounts.from_journeys(one()).to_bytes()
    ),
    "file-model-as-counts": lambda _: jl.TransitionCounts.from_bytes(saved()),
    "file-loop-as-funnel": lambda _: jl.MarkovModel.from_bytes(loop().to_bytes()),
    "file-missing": lambda tmp: jl.MarkovModel.load(tmp / "absent.jl"),
    "file-is-a-folder": lambda tmp: jl.MarkovModel.load(tmp),
    # Scoring open journeys
    "score-no-journeys": lambda _: funnel().score([]),
    "score-one-string": lambda _: funnel().score("a > b"),
    "score-unknown-rule": lambda _: funnel().score(["a"], unknown="zero"),  # type: ignore[arg-type]
    "score-histories-on-funnel": lambda _: funnel().score(
        jl.Histories.from_paths(["a > purchase"])
    ),
    "score-unseen-state": lambda _: jl.MarkovModel(order=2).fit(one3()).score(["c > b"]),
    "score-unknown-channel": lambda _: funnel().score(["a > z"]),
    "next-touch-unknown-candidate": lambda _: funnel().next_touch(["a"], ["z"]),
    "next-touch-no-candidates": lambda _: funnel().next_touch(["a"], []),
    "simulate-max-touches": lambda _: funnel().simulate(10, max_touches=0),
    "simulate-seed": lambda _: funnel().simulate(10, seed=-1),
    "simulate-truncated": lambda _: (
        jl.MarkovModel(collapse_repeats=False)
        .fit(jl.Journeys.from_paths(["a > a > a"], conversions=[0], nulls=[1]))
        .simulate(100, max_touches=2)
    ),
    "simulate-expected-time-no-times": lambda _: funnel().expected_time_to_conversion_,
}


def test_every_row_has_a_case_and_every_case_a_row() -> None:
    rows = documented()
    assert len(rows) >= 40
    assert sorted(set(rows) - set(CASES)) == [], "rows of docs/errors.md without a case"
    assert sorted(set(CASES) - set(rows)) == [], "cases without a row in docs/errors.md"


def appears(message: str, text: str) -> bool:
    at = 0
    for part in message.split("…"):
        found = text.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


@pytest.mark.parametrize("case", sorted(CASES))
def test_row(case: str, tmp_path: Path) -> None:
    name, message = documented()[case]
    expected = error_type(name)
    if issubclass(expected, Warning):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            CASES[case](tmp_path)
        texts = [str(w.message) for w in seen if issubclass(w.category, expected)]
        assert any(appears(message, t) for t in texts), (message, texts)
        return
    with pytest.raises(expected) as raised:
        CASES[case](tmp_path)
    # An OSError's text is in its str(); a KeyError's str() would add quotes.
    error = raised.value
    text = str(error) if isinstance(error, OSError) or not error.args else str(error.args[0])
    assert appears(message, text), (message, text)
