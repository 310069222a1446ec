"""Notebook display: the ``_repr_html_`` of journeys, histories, models and event reports."""

from __future__ import annotations

import re
import sys
import types
import warnings

import pandas as pd
import pytest

import journeyloop as jl


def cells(html_text: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", html_text)


def test_journeys_html_shows_totals_channels_and_the_first_paths() -> None:
    j = jl.Journeys.from_paths(
        [f"a > b{i}" for i in range(7)], conversions=[1] * 7, nulls=[2] * 7, value=[10] * 7
    )
    text = j._repr_html_()
    assert text.startswith("<div") and text.endswith("</div>")
    c = cells(text)
    assert c[:10] == [
        "rows",
        "7",
        "channels",
        "8",
        "conversions",
        "7",
        "nulls",
        "14",
        "value",
        "70",
    ]
    assert "first 5 of 7 rows" in text
    assert "a &gt; b4" in text and "a &gt; b5" not in text
    assert "row account" not in text  # not built from events
    assert repr(j).startswith("Journeys(7 rows")


def test_names_are_escaped() -> None:
    # The path separator is ">", so a channel name can hold "<" and "&" only.
    j = jl.Journeys.from_paths(["<script x > b&c"], conversions=[1])
    text = j._repr_html_()
    assert "<script" not in text
    assert "&lt;script x" in text
    assert "b&amp;c" in text
    model = jl.MarkovModel().fit(j)
    assert "<script" not in model._repr_html_()


def test_event_journeys_show_the_row_account() -> None:
    events = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2],
            "time": [0, 1, 2, 0, 1],
            "channel": ["a", "b", None, "b", None],
            "conversion": [0, 0, 1, 0, 0],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.DataWarning)
        j = jl.Journeys.from_events(
            events, customer="customer", time="time", channel="channel", conversion="conversion"
        )
    text = j._repr_html_()
    assert "row account (from the event log)" in text
    c = cells(text)
    assert c[c.index("rows_read") + 1] == "5"
    report = j.report._repr_html_()
    assert "EventReport" in report
    assert cells(report)[cells(report).index("rows_read") + 1] == "5"


def test_model_html_shows_figures_and_largest_transitions() -> None:
    j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2], nulls=[1, 2, 0])
    model = jl.MarkovModel().fit(j)
    text = model._repr_html_()
    c = cells(text)
    assert c[:6] == ["order", "1", "states", "6", "channels", "3"]
    assert c[c.index("conversion rate") + 1] == "0.5"
    # The chain has 7 transitions, fewer than the 8 shown at most.
    assert "largest 7 transitions (by count)" in text
    # START -> a has the largest count: 4 of the 6 journeys.
    first = c.index("START")
    assert c[first : first + 4] == ["START", "a", "4", "0.666667"]
    unfitted = jl.MarkovModel()._repr_html_()
    assert "fit" in unfitted


def test_loop_model_and_histories_html() -> None:
    h = jl.Histories.from_paths(["a > purchase > b > purchase", "a > b", "b > purchase"],
                                count=[1, 1, 2], value=[30, 0, 60])  # fmt: skip
    text = h._repr_html_()
    c = cells(text)
    assert c[:10] == [
        "histories", "3", "channels", "2", "customers", "4", "purchases", "4", "value", "90",
    ]  # fmt: skip
    loop = jl.MarkovModel().fit(h)
    lc = cells(loop._repr_html_())
    assert float(lc[lc.index("expected purchases") + 1]) == round(loop.expected_purchases_, 6)
    assert "repeat probability" in lc


def test_progress_true_draws_a_tqdm_bar_when_tqdm_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[dict[str, object]] = []

    class FakeBar:
        def __init__(self, total: int, desc: str, leave: bool) -> None:
            self.n = 0
            self.state: dict[str, object] = {"total": total, "desc": desc, "closed": False}
            made.append(self.state)

        def update(self, k: int) -> None:
            self.n += k
            self.state["n"] = self.n

        def close(self) -> None:
            self.state["closed"] = True

    auto = types.ModuleType("tqdm.auto")
    auto.tqdm = FakeBar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[3, 0, 2], nulls=[3, 2, 0])
    jl.MarkovModel().fit(j).figures(ci=0.9, n_boot=30, progress=True)
    assert made == [{"total": 30, "desc": "replicates", "closed": True, "n": 30}]
