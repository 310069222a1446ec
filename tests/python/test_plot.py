"""journeyloop.plot: each function draws on the given axes and returns them."""

from __future__ import annotations

import builtins
import importlib
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

import journeyloop as jl


def journeys() -> jl.Journeys:
    return jl.Journeys.from_paths(
        ["a > b", "b", "a > c", "c > b"],
        conversions=[30, 0, 20, 10],
        nulls=[30, 20, 0, 25],
        value=[300, 0, 400, 50],
    )


def bars(ax: Any) -> list[Any]:
    return [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]


def test_attribution_by_method_side_by_side() -> None:
    frame = jl.attribute(journeys(), ["first_touch", "last_touch", "markov"])
    fig, ax = plt.subplots()
    assert jl.plot.attribution(frame, ax=ax) is ax
    assert len(bars(ax)) == 3 * 3  # three channels, three methods
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "first_touch",
        "last_touch",
        "markov",
    ]
    assert ax.get_xlabel() == "conversions attributed"
    # The markov bars hold the markov credit, channel by channel, below the others.
    markov = frame[frame["method"] == "markov"].set_index("channel")["conversions"]
    markov_bars = bars(ax)[6:]
    assert [b.get_width() for b in markov_bars] == pytest.approx(
        [markov["c"], markov["b"], markov["a"]]
    )
    first = bars(ax)[:3]
    assert all(f.get_y() > m.get_y() for f, m in zip(first, markov_bars, strict=True))
    plt.close(fig)


def test_attribution_with_intervals_draws_error_bars() -> None:
    model = jl.MarkovModel().fit(journeys())
    frame = model.attribution(ci=0.9, n_boot=100)
    ax = jl.plot.attribution(frame)
    assert len(bars(ax)) == 3
    # One error bar per bar: the line collection of the bar container's error bars.
    (container,) = [c for c in ax.containers if isinstance(c, matplotlib.container.BarContainer)]
    (segments,) = container.errorbar.lines[2]
    assert len(segments.get_segments()) == 3
    team = model.attribution("team", {"a": "marketing", "b": "sales", "c": "sales"})
    ax2 = jl.plot.attribution(team, column="value")
    assert ax2.get_ylabel() == "team" and ax2.get_xlabel() == "value attributed"
    plt.close("all")


def test_removal_effects_sorted_as_percentages_with_intervals() -> None:
    model = jl.MarkovModel().fit(journeys())
    re = model.removal_effects(ci=0.9, n_boot=100)
    ax = jl.plot.removal_effects(re)
    widths = [b.get_width() for b in bars(ax)]
    assert widths == sorted(widths)
    assert max(widths) == pytest.approx(100 * re["removal_effect"].max())
    assert ax.get_title() == "Removal effects with intervals"
    plt.close("all")


def test_transition_matrix_heatmap() -> None:
    model = jl.MarkovModel().fit(journeys())
    ax = jl.plot.transition_matrix(model)
    image = ax.get_images()[0].get_array()
    # Rows START, a, b, c; columns CONVERSION, NULL, a, b, c.
    assert image.shape == (4, 5)
    assert list(image.sum(axis=1)) == pytest.approx([1, 1, 1, 1])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["START", "a", "b", "c"]
    assert len(ax.texts) == int((image > 0).sum())
    plt.close("all")


def test_bad_frames_and_missing_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(jl.InvalidInputError, match="key columns"):
        jl.plot.attribution(journeys().to_frame())
    with pytest.raises(jl.InvalidInputError, match="column 'nope'"):
        jl.plot.removal_effects(jl.MarkovModel().fit(journeys()).removal_effects(), column="nope")
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.delitem(sys.modules, "matplotlib.pyplot")
    with pytest.raises(ImportError, match=r"pip install journeyloop\[plot\]"):
        jl.plot.removal_effects(jl.MarkovModel().fit(journeys()).removal_effects())
    monkeypatch.undo()
    importlib.import_module("matplotlib.pyplot")


def test_handoffs_and_opener_closer() -> None:
    df = jl.datasets.load_b2b_paths()
    j = jl.Journeys.from_paths(
        df, path="path", conversions="conversions", nulls="nulls", value="value"
    )
    teams = jl.datasets.b2b_teams()
    h = j.handoffs(teams)
    ax = jl.plot.handoffs(h)
    grid = ax.get_images()[0].get_array()
    assert grid.shape == (2, 2)
    assert list(grid.sum(axis=1)) == pytest.approx([1, 1])
    assert [t.get_text() for t in ax.texts][1] == f"{h['probability'][1]:.2f}\n(22,900)"
    oc = j.opener_closer(teams)
    ax2 = jl.plot.opener_closer(oc)
    assert ax2.get_images()[0].get_array().sum() == pytest.approx(oc.to_numpy().sum())
    assert len(ax2.texts) == 4
    with pytest.raises(jl.InvalidInputError, match="missing"):
        jl.plot.handoffs(oc)
    plt.close("all")
