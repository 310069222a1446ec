"""journeyloop.plot: each function draws on the given axes and returns them."""

from __future__ import annotations

import builtins
import importlib
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
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


# -- the journey graph and the circular journey ----------------------------------


def graphviz() -> str:
    """Graphviz's dot, which make test installs; skipped without it, failed under CI."""
    import os
    import shutil

    found = shutil.which("dot")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's dot is missing: make test installs Debian's graphviz")
        pytest.skip("Graphviz's dot is not installed (make test installs it)")
    return found


def arrows(ax: Any) -> list[Any]:
    return [p for p in ax.patches if isinstance(p, matplotlib.patches.FancyArrowPatch)]


def boxes(ax: Any) -> list[Any]:
    return [p for p in ax.patches if isinstance(p, matplotlib.patches.FancyBboxPatch)]


# The transitions of journeys(), worked by hand: from, to, probability, expected traversals
# per journey (the expected visits of START 1, a 16/27, c 11/27, b 23/27).
HAND = {
    ("START", "a"): (16 / 27, 16 / 27),
    ("START", "b"): (4 / 27, 4 / 27),
    ("START", "c"): (7 / 27, 7 / 27),
    ("a", "b"): (3 / 4, 4 / 9),
    ("a", "c"): (1 / 4, 4 / 27),
    ("b", "CONVERSION"): (8 / 23, 8 / 27),
    ("b", "NULL"): (15 / 23, 15 / 27),
    ("c", "CONVERSION"): (4 / 11, 4 / 27),
    ("c", "b"): (7 / 11, 7 / 27),
}


def check_hand_graph(ax: Any) -> None:
    graph = ax.journeyloop_graph
    assert graph["nodes"] == ["START", "CONVERSION", "NULL", "a", "b", "c"]
    edges = graph["edges"]
    got = {(f, t): (p, w) for f, t, p, w in edges.itertuples(index=False)}
    assert set(got) == set(HAND)
    for key, (p, flow) in HAND.items():
        assert got[key][0] == pytest.approx(p, abs=1e-12)
        assert got[key][1] == pytest.approx(flow, abs=1e-12)
    # Largest flow first: the twelve strongest (here all nine) are labelled.
    assert list(edges["flow"]) == sorted(edges["flow"], reverse=True)
    assert len(boxes(ax)) == 6
    assert len(arrows(ax)) == 9
    assert len(ax.texts) == 6 + 9  # the node names and the edge labels
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels.count("0.75") == 1 and labels.count("0.15") == 1
    # Wider edges for larger probabilities.
    widths = {key: a.get_linewidth() for key, a in zip(got, arrows(ax), strict=True)}
    assert widths[("a", "b")] > widths[("a", "c")]
    # START left of every channel, the outcomes right of them.
    x = {t.get_text(): t.get_position()[0] for t in ax.texts[:6]}
    assert x["START"] < min(x["a"], x["b"], x["c"]) < max(x["a"], x["b"], x["c"]) < x["NULL"]
    assert max(x["a"], x["b"], x["c"]) < x["CONVERSION"]


def test_journey_graph_matplotlib_layout() -> None:
    model = jl.MarkovModel().fit(journeys())
    fig, ax = plt.subplots()
    assert jl.plot.journey_graph(model, ax=ax, engine="matplotlib") is ax
    assert ax.journeyloop_engine == "matplotlib"
    assert ax.get_title() == "Journey graph (layout: matplotlib)"
    check_hand_graph(ax)
    plt.close(fig)


def test_journey_graph_graphviz_layout() -> None:
    graphviz()
    model = jl.MarkovModel().fit(journeys())
    _fig, ax = plt.subplots()
    assert jl.plot.journey_graph(model, ax=ax, engine="graphviz") is ax
    assert ax.journeyloop_engine == "graphviz"
    assert ax.get_title() == "Journey graph (layout: Graphviz dot)"
    check_hand_graph(ax)
    # engine="auto" takes dot when it is there.
    assert jl.plot.journey_graph(model).journeyloop_engine == "graphviz"
    plt.close("all")


def test_journey_graph_without_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "dot" else real_which(name))
    model = jl.MarkovModel().fit(journeys())
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        jl.plot.journey_graph(model, engine="graphviz")
    ax = jl.plot.journey_graph(model)
    assert ax.journeyloop_engine == "matplotlib"
    check_hand_graph(ax)
    plt.close("all")


def test_journey_graph_top_and_min_probability() -> None:
    model = jl.MarkovModel().fit(journeys())
    ax = jl.plot.journey_graph(model, top=4, labels=2, engine="matplotlib")
    edges = ax.journeyloop_graph["edges"]
    # The four largest flows: START > a 16/27, b > NULL 15/27, a > b 12/27, b > CONVERSION 8/27.
    assert list(zip(edges["from"], edges["to"], strict=True)) == [
        ("START", "a"), ("b", "NULL"), ("a", "b"), ("b", "CONVERSION")]  # fmt: skip
    assert ax.journeyloop_graph["nodes"] == ["START", "CONVERSION", "NULL", "a", "b"]
    assert len(boxes(ax)) == 5 and len(arrows(ax)) == 4
    assert len(ax.texts) == 5 + 2
    ax = jl.plot.journey_graph(model, min_probability=0.5, engine="matplotlib")
    # Probabilities of at least one half: 16/27, 3/4, 15/23 and 7/11.
    pairs = list(zip(ax.journeyloop_graph["edges"]["from"], ax.journeyloop_graph["edges"]["to"],
                     strict=True))  # fmt: skip
    assert sorted(pairs) == [("START", "a"), ("a", "b"), ("b", "NULL"), ("c", "b")]
    assert len(arrows(ax)) == 4
    plt.close("all")


def test_journey_graph_bad_arguments() -> None:
    model = jl.MarkovModel().fit(journeys())
    with pytest.raises(jl.InvalidInputError, match="engine"):
        jl.plot.journey_graph(model, engine="neato")
    with pytest.raises(jl.InvalidInputError, match="top"):
        jl.plot.journey_graph(model, top=0)
    with pytest.raises(jl.InvalidInputError, match="min_probability"):
        jl.plot.journey_graph(model, min_probability=1.5)
    with pytest.raises(jl.InvalidInputError, match="min_probability"):
        jl.plot.journey_graph(model, min_probability=True)
    with pytest.raises(jl.InvalidInputError, match="min_probability"):
        jl.plot.circular_journey(journeys(), stages=STAGE_MAP, min_probability=float("nan"))
    with pytest.raises(jl.InvalidInputError, match="labels"):
        jl.plot.journey_graph(model, labels=-1)
    with pytest.raises(jl.InvalidInputError, match="level"):
        jl.plot.journey_graph(model, level="team")
    with pytest.raises(jl.InvalidInputError, match="fitted MarkovModel or LoopModel"):
        jl.plot.journey_graph(journeys())
    with pytest.raises(jl.NotFittedError):
        jl.plot.journey_graph(jl.MarkovModel())
    plt.close("all")


def test_journey_graph_higher_order_by_channel_and_by_state() -> None:
    # Order 2 drawn by channel: each move between windows is a move between their last
    # channels, so the counts summed are the first-order ones.
    model = jl.MarkovModel(order=2).fit(journeys())
    ax = jl.plot.journey_graph(model, engine="matplotlib")
    assert ax.get_title() == "Journey graph, order 2 by channels (layout: matplotlib)"
    check_hand_graph(ax)
    padded = jl.MarkovModel(order=3, padded=True).fit(journeys())
    check_hand_graph(jl.plot.journey_graph(padded, engine="matplotlib"))
    states = jl.plot.journey_graph(model, level="state", engine="matplotlib")
    assert states.journeyloop_graph["nodes"] == list(model.states()["state"])
    assert len(arrows(states)) == len(model.transition_matrix())
    plt.close("all")


def loop_histories() -> jl.Histories:
    return jl.Histories.from_paths(
        ["a > b > purchase > c > purchase", "a > b > purchase", "a"], count=[2, 3, 5]
    )


STAGE_MAP = {"a": "awareness", "b": "evaluation", "c": "loyalty"}


def test_journey_graph_of_a_loop_model() -> None:
    model = jl.LoopModel().fit(loop_histories())
    ax = jl.plot.journey_graph(model, engine="matplotlib")
    assert ax.journeyloop_graph["nodes"] == ["START", "PURCHASE", "END", "a", "b", "c"]
    got = {(f, t): p for f, t, p, _ in ax.journeyloop_graph["edges"].itertuples(index=False)}
    assert got == pytest.approx({("START", "a"): 1.0, ("a", "b"): 0.5, ("a", "END"): 0.5,
                                 ("b", "PURCHASE"): 1.0, ("PURCHASE", "c"): 2 / 7,
                                 ("PURCHASE", "END"): 5 / 7, ("c", "PURCHASE"): 1.0},
                                abs=1e-12)  # fmt: skip
    assert len(arrows(ax)) == 7 and len(boxes(ax)) == 6
    plt.close("all")


def check_circle(ax: Any) -> None:
    graph = ax.journeyloop_graph
    assert graph["nodes"] == ["awareness", "evaluation", "PURCHASE", "loyalty"]
    edges = graph["edges"]
    # Hand-worked: half the customers go on to evaluation, all of whom buy; 2 of the 7
    # purchases are followed by a loyalty touch and another purchase. Expected purchases
    # per customer v = 0.5 + 2/7 v = 0.7.
    assert [tuple(r) for r in edges[["from", "to", "loop"]].itertuples(index=False)] == [
        ("awareness", "evaluation", False),
        ("evaluation", "PURCHASE", False),
        ("PURCHASE", "loyalty", True),
        ("loyalty", "PURCHASE", True),
    ]
    assert list(edges["probability"]) == pytest.approx([0.5, 1.0, 2 / 7, 1.0], abs=1e-12)
    assert list(edges["flow"]) == pytest.approx([0.5, 0.5, 0.2, 0.2], abs=1e-12)
    assert ax.journeyloop_loyalty_loop_rate == pytest.approx(2 / 7, abs=1e-12)
    assert len(boxes(ax)) == 4 and len(arrows(ax)) == 4
    loop_colour = matplotlib.colors.to_rgba("#d9731a")[:3]
    colours = [a.get_edgecolor()[:3] for a in arrows(ax)]
    assert [c == pytest.approx(loop_colour) for c in colours] == [False, False, True, True]
    texts = [t.get_text() for t in ax.texts]
    # Four stage names, three notes (not the purchase), four labels and the loop rate.
    assert len(texts) == 4 + 3 + 4 + 1
    assert "first 100% · stop 50%" in texts
    assert texts[-1].startswith("loyalty loop: 28.6% of purchases")


def test_circular_journey_of_histories_and_of_a_stage_model() -> None:
    _fig, ax = plt.subplots()
    assert jl.plot.circular_journey(loop_histories(), stages=STAGE_MAP, ax=ax) is ax
    check_circle(ax)
    # The histories' model with stage metadata, and a model fitted on the stages: the same.
    model = jl.LoopModel().fit(loop_histories())
    check_circle(jl.plot.circular_journey(model, stages=STAGE_MAP))
    staged = jl.LoopModel().fit(loop_histories().by_stage(STAGE_MAP))
    check_circle(jl.plot.circular_journey(staged))
    plt.close("all")


def test_circular_journey_of_funnel_journeys_and_errors() -> None:
    stages = {"a": "consideration", "b": "awareness", "c": "evaluation"}
    ax = jl.plot.circular_journey(journeys(), stages=stages)
    assert ax.journeyloop_graph["nodes"] == ["awareness", "consideration", "evaluation",
                                             "CONVERSION"]  # fmt: skip
    assert ax.journeyloop_loyalty_loop_rate is None
    assert not ax.journeyloop_graph["edges"]["loop"].any()
    assert ax.texts[-1].get_text() == "funnel journeys: nothing returns after the conversion"
    with pytest.raises(jl.InvalidInputError, match="stages"):
        jl.plot.circular_journey(journeys())
    with pytest.raises(jl.InvalidInputError, match="expects Journeys or Histories"):
        jl.plot.circular_journey(journeys().to_frame())
    loaded = jl.LoopModel.from_bytes(jl.LoopModel().fit(loop_histories()).to_bytes())
    with pytest.raises(jl.InvalidInputError, match="holds no journeys"):
        jl.plot.circular_journey(loaded, stages=STAGE_MAP)
    plt.close("all")


def test_docstring_examples_of_the_graphs() -> None:
    import doctest

    from journeyloop import _graph

    result = doctest.testmod(_graph, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10
    assert result.failed == 0
    plt.close("all")


def test_the_plot_methods_draw_what_the_functions_draw() -> None:
    j = jl.Journeys.from_paths(
        ["a > b", "b", "a > c", "c > b"], conversions=[30, 0, 20, 10], nulls=[30, 20, 0, 25]
    )
    model = jl.MarkovModel().fit(j)
    _, (one, two) = plt.subplots(1, 2)
    assert model.plot_graph(ax=one, engine="matplotlib") is one
    jl.plot.journey_graph(model, ax=two, engine="matplotlib")
    pd.testing.assert_frame_equal(one.journeyloop_graph["edges"], two.journeyloop_graph["edges"])
    _, (one, two) = plt.subplots(1, 2)
    assert model.plot_transitions(ax=one) is one
    jl.plot.transition_matrix(model, ax=two)
    assert one.images[0].get_array().tolist() == two.images[0].get_array().tolist()
    teams = {"a": "marketing", "b": "sales", "c": "sales"}
    _, (one, two) = plt.subplots(1, 2)
    assert j.plot_handoffs(teams, ax=one) is one
    jl.plot.handoffs(j.handoffs(teams), ax=two)
    assert one.images[0].get_array().tolist() == two.images[0].get_array().tolist()
    h = jl.Histories.from_paths(["a > b > purchase > c > purchase", "a"], count=[2, 5])
    stages = {"a": "awareness", "b": "evaluation", "c": "loyalty"}
    _, (one, two) = plt.subplots(1, 2)
    assert h.plot_circle(stages, ax=one) is one
    jl.plot.circular_journey(h, stages=stages, ax=two)
    pd.testing.assert_frame_equal(one.journeyloop_graph["edges"], two.journeyloop_graph["edges"])
    plt.close("all")


def test_attribution_labels_and_a_legend_beside_the_bars() -> None:
    h = jl.Histories.from_paths(["a > purchase > b > purchase", "b > purchase"], count=[2, 3])
    credit = jl.LoopModel().fit(h).attribution()
    ax = jl.plot.attribution(credit, column="repeat_purchases")
    assert ax.get_xlabel() == "repeat purchases attributed"
    assert ax.get_title() == "Repeat purchases by channel"
    j = jl.Journeys.from_paths(["a > b", "b"], conversions=[3, 1], nulls=[1, 2])
    ax = jl.plot.attribution(jl.attribute(j, ["first_touch", "last_touch"]))
    # The legend starts right of the axes: it never covers a bar.
    legend = ax.get_legend()
    assert legend._loc == 2  # upper left, of its anchor
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.x0 == pytest.approx(1.01)
    plt.close("all")


def test_attribution_over_time_one_line_per_channel_with_bands() -> None:
    events = pd.DataFrame(
        {
            "customer": [1, 1, 2, 2, 3, 3, 4],
            "time": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-02",
                    "2024-01-03",
                    "2024-01-09",
                    "2024-01-10",
                    "2024-01-11",
                    "2024-01-16",
                ]
            ),
            "channel": ["a", "b", "a", "c", "b", "c", "a"],
            "conversion": [0, 1, 0, 1, 0, 1, 1],
        }
    )
    weekly = jl.PeriodCounts.from_events(events, conversion="conversion", period="W",
                                         methods=["linear"])  # fmt: skip
    frame = weekly.attribution(ci=0.9, n_samples=20)
    with pytest.raises(jl.InvalidInputError, match="several methods"):
        jl.plot.attribution_over_time(frame)
    fig, ax = plt.subplots()
    assert jl.plot.attribution_over_time(frame, method="markov", column="conversions", ax=ax) is ax
    # Three channels, one line each, a point per week; a band each (the intervals).
    assert sorted(line.get_label() for line in ax.get_lines()) == ["a", "b", "c"]
    assert {len(line.get_xdata()) for line in ax.get_lines()} == {3}
    assert len(ax.collections) == 3
    # The line of a channel holds its conversions in each week.
    a = next(line for line in ax.get_lines() if line.get_label() == "a")
    want = frame[(frame["method"] == "markov") & (frame["channel"] == "a")]["conversions"]
    assert [y for y in a.get_ydata() if y == y] == pytest.approx(list(want), abs=1e-12)
    fig2, ax2 = plt.subplots()
    jl.plot.attribution_over_time(frame, method="linear", top=1, ax=ax2)
    assert len(ax2.get_lines()) == 1
    assert ax2.get_legend().get_title().get_text() == "channel (+2 more)"
    plt.close(fig)
    plt.close(fig2)
