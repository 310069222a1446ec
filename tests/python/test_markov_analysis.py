"""Chain quantities, removal by team/group/sequence, the journey graph."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl

from .conftest import random_paths
from .exact_reference import _chain, exact_markov


def by_key(frame: pd.DataFrame, key: str, column: str) -> dict[str, float]:
    return dict(zip(frame[key], frame[column]))


def test_states_by_hand(abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    states = model.states()
    assert by_key(states, "state", "conversion_probability") == pytest.approx(
        {"START": 0.5, "CONVERSION": 1.0, "NULL": 0.0, "a": 5 / 8, "b": 1 / 4, "c": 1.0},
        rel=1e-12,
        abs=1e-12,
    )
    assert by_key(states, "state", "expected_visits") == pytest.approx(
        {"START": 1.0, "CONVERSION": 0.5, "NULL": 0.5, "a": 2 / 3, "b": 2 / 3, "c": 1 / 3},
        rel=1e-12,
        abs=1e-12,
    )
    assert model.expected_touches_ == pytest.approx(
        5 / 3, rel=1e-12, abs=1e-12
    )  # 10 touches, 6 journeys
    assert model.expected_touches_converting_ == pytest.approx(11 / 6, rel=1e-12, abs=1e-12)


def test_removal_by_team_group_and_sequence(abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    teams = model.removal_effects("team", teams={"a": "marketing", "b": "sales", "c": "sales"})
    assert by_key(teams, "team", "removal_effect") == pytest.approx(
        {"marketing": 5 / 6, "sales": 1.0},
        rel=1e-12,
        abs=1e-12,
    )
    groups = model.removal_effects("group", groups={"ab": ["a", "b"], "c": ["c"]})
    # without a and b nothing converts; without c: 1/6 of 1/2 is lost... RE = 2/3
    assert by_key(groups, "group", "removal_effect") == pytest.approx(
        {"ab": 1.0, "c": 2 / 3}, rel=1e-12, abs=1e-12
    )
    seq = model.removal_effects("sequence", sequences=["b", ("c",)])
    assert by_key(seq, "sequence", "removal_effect") == pytest.approx(
        {"b": 1 / 3, "c": 2 / 3}, rel=1e-12, abs=1e-12
    )
    with pytest.raises(jl.UnknownChannelError, match="unknown channel 'x' in group 'g'"):
        model.removal_effects("group", groups={"g": ["x"]})
    with pytest.raises(jl.UnknownChannelError, match="unknown sequence 'a > b'"):
        model.removal_effects("sequence", sequences=["a > b"])


def test_sequences_at_order_two() -> None:
    j = jl.Journeys.from_paths(["a > b > c", "a > c"], conversions=[1, 0], nulls=[0, 1])
    model = jl.MarkovModel(order=2).fit(j)
    seq = model.removal_effects("sequence", sequences=["a > b", "a>c"])
    assert seq["sequence"].tolist() == ["a > b", "a > c"]
    assert seq["removal_effect"].tolist() == pytest.approx([1.0, 0.0], rel=1e-12, abs=1e-12)


def test_sequence_attribution_by_hand() -> None:
    # START -> (a,b), (a,c), (b,c) with 1/3 each; (a,b) -> (b,c), which
    # converts half the time: p = 1/3. RE: (a,b) 1/2, (a,c) 0, (b,c) 1.
    j = jl.Journeys.from_paths(
        ["a > b > c", "a > c", "b > c"], conversions=[1, 0, 0], nulls=[0, 1, 1], value=[10, 0, 0]
    )
    model = jl.MarkovModel(order=2).fit(j)
    out = model.attribution("sequence", sequences=["a > b", ("a", "c"), "b>c"])
    assert out["sequence"].tolist() == ["a > b", "a > c", "b > c"]
    assert out["conversions"].tolist() == pytest.approx([1 / 3, 0.0, 2 / 3], abs=1e-12)
    assert out["value"].tolist() == pytest.approx([10 / 3, 0.0, 20 / 3], abs=1e-12)
    with pytest.raises(jl.InvalidInputError, match="needs sequences"):
        model.attribution("sequence")
    with pytest.raises(jl.UnknownChannelError, match="unknown sequence 'c > a'"):
        model.attribution("sequence", sequences=["c > a"])


def test_sequence_removals_batched_agree_with_single() -> None:
    import numpy as np

    from journeyloop import _core

    rng, paths = random_paths(11, channels=25, rows=8000, longest=6)
    conv = rng.integers(0, 3, size=len(paths)).astype(float)
    value = conv * rng.uniform(5, 50, size=len(paths))
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=np.ones(len(paths)), value=value)
    model = jl.MarkovModel(order=2).fit(j)
    assert model.n_states_ > 256 + 3  # the batched solver's size
    labels = model.states()["state"].tolist()[3::10]
    calls: list[tuple[int, int]] = []
    got = model.removal_effects(
        "sequence", sequences=labels, progress=lambda d, t: calls.append((d, t))
    )
    batches = (len(labels) + 7) // 8
    assert calls == [(i, batches) for i in range(1, batches + 1)]
    index = {label: s for s, label in enumerate(model.states()["state"])}
    for label, eff, vre in zip(got["sequence"], got["removal_effect"], got["value_removal_effect"]):
        one = _core.state_removal_effect(model._fitted, index[label])
        assert eff == pytest.approx(one[0], rel=1e-10, abs=1e-13)
        assert vre == pytest.approx(one[1], rel=1e-10, abs=1e-13)
    a = model.attribution("sequence", sequences=labels)
    assert a["conversions"].sum() == pytest.approx(j.total_conversions, rel=1e-12)
    share = got["removal_effect"] / got["removal_effect"].sum()
    assert a["share"].tolist() == pytest.approx(share.tolist(), rel=1e-12)


def test_group_attribution_sums_to_totals(abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    out = model.attribution("group", groups={"ab": ["a", "b"], "c": ["c"], "none": []})
    assert out["group"].tolist() == ["ab", "c", "none"]
    assert out["conversions"].tolist() == pytest.approx(
        [3 * 1 / (5 / 3), 3 * (2 / 3) / (5 / 3), 0], rel=1e-12, abs=1e-12
    )
    assert out["value"].sum() == pytest.approx(40.0, rel=1e-12, abs=1e-12)
    # Value: a conversion through b is worth 10, through c 15; value per journey 20/3.
    # Removing a and b leaves no value (removal effect 1); removing c leaves START -> a -> b
    # (2/3 * 1/2 * 1/4 * 10) and START -> b (1/3 * 1/4 * 10), 5/3 per journey: 1 - 1/4 = 3/4.
    # 40 split as 1 : 3/4 gives 160/7 and 120/7.
    assert out["value"].tolist() == pytest.approx([160 / 7, 120 / 7, 0], rel=1e-12, abs=1e-12)
    assert out["share"].tolist() == pytest.approx([3 / 5, 2 / 5, 0], rel=1e-12, abs=1e-12)
    effects = model.removal_effects("group", groups={"ab": ["a", "b"], "c": ["c"], "none": []})
    assert effects["removal_effect"].tolist() == pytest.approx(
        [1.0, 2 / 3, 0.0], rel=1e-12, abs=1e-12
    )
    assert effects["value_removal_effect"].tolist() == pytest.approx(
        [1.0, 3 / 4, 0.0], rel=1e-12, abs=1e-12
    )


def test_smoothing_and_padding(abc_journeys: jl.Journeys) -> None:
    smooth = jl.MarkovModel(smoothing=1.0).fit(abc_journeys)
    probs = smooth.transition_probabilities()
    row = probs[probs["from"] == "START"]
    assert by_key(row, "to", "probability") == pytest.approx(
        {"a": 5 / 11, "b": 3 / 11, "c": 1 / 11, "CONVERSION": 1 / 11, "NULL": 1 / 11},
        rel=1e-12,
        abs=1e-12,
    )
    assert smooth.transition_matrix()["probability"].notna().all()
    padded = jl.MarkovModel(order=2, padded=True).fit(abc_journeys)
    assert "(start) > a" in padded.states()["state"].tolist()
    assert padded.conversion_rate_ == pytest.approx(0.5, rel=1e-12, abs=1e-12)


def test_graph_exports(abc_journeys: jl.Journeys) -> None:
    model = jl.MarkovModel().fit(abc_journeys)
    assert 'label="0.667"' in model.to_dot()
    assert "<graphml" in model.to_graphml()
    nx = pytest.importorskip("networkx")
    g = model.to_networkx()
    assert isinstance(g, nx.DiGraph)
    assert g.number_of_nodes() == 6
    assert g["START"]["a"]["probability"] == pytest.approx(2 / 3, rel=1e-12, abs=1e-12)
    assert g.nodes["a"]["conversion_probability"] == pytest.approx(5 / 8, rel=1e-12, abs=1e-12)


# The abc funnel's transitions by hand: (from, to) -> (count, probability).
ABC_EDGES = {
    ("START", "a"): (4, 2 / 3),
    ("START", "b"): (2, 1 / 3),
    ("a", "b"): (2, 1 / 2),
    ("a", "c"): (2, 1 / 2),
    ("b", "CONVERSION"): (1, 1 / 4),
    ("b", "NULL"): (3, 3 / 4),
    ("c", "CONVERSION"): (2, 1.0),
}


def test_graphml_reads_back(abc_journeys: jl.Journeys) -> None:
    """The GraphML export parses (networkx's reader) to the hand-worked graph, with the same
    attributes as ``to_networkx()``."""
    nx = pytest.importorskip("networkx")
    model = jl.MarkovModel().fit(abc_journeys)
    read = nx.read_graphml(io.BytesIO(model.to_graphml().encode()))
    assert isinstance(read, nx.DiGraph)
    read = nx.relabel_nodes(read, {n: d["label"] for n, d in read.nodes(data=True)})
    edges = {(u, v): (d["count"], d["probability"]) for u, v, d in read.edges(data=True)}
    assert edges.keys() == ABC_EDGES.keys()
    for e, (count, p) in ABC_EDGES.items():
        assert edges[e][0] == count
        assert edges[e][1] == pytest.approx(p, rel=1e-15)
    direct = model.to_networkx()
    for n, d in direct.nodes(data=True):
        for key in ("conversion_probability", "expected_visits"):
            assert read.nodes[n][key] == d[key]  # printed to 17 digits: the same double
    assert read.nodes["b"]["conversion_probability"] == pytest.approx(1 / 4, rel=1e-12, abs=1e-12)
    assert read.nodes["a"]["expected_visits"] == pytest.approx(2 / 3, rel=1e-12, abs=1e-12)


def test_dot_reads_back(abc_journeys: jl.Journeys) -> None:
    """Every node and edge of the DOT export, read back line by line: the labels, the counts as
    weights and the probabilities to three decimals."""
    dot = jl.MarkovModel().fit(abc_journeys).to_dot()
    assert dot.startswith("digraph journey {") and dot.rstrip().endswith("}")
    names = dict(re.findall(r'^  (\d+) \[label="([^"]+)"', dot, flags=re.M))
    assert sorted(names.values()) == ["CONVERSION", "NULL", "START", "a", "b", "c"]
    edges = {
        (names[u], names[v]): (float(w), p)
        for u, v, p, w in re.findall(
            r'^  (\d+) -> (\d+) \[label="([0-9.]+)", weight=([0-9.]+)\];$', dot, flags=re.M
        )
    }
    assert edges == {e: (float(c), f"{p:.3f}") for e, (c, p) in ABC_EDGES.items()}


def test_loops_and_top_paths(ab_journeys: jl.Journeys, abc_journeys: jl.Journeys) -> None:
    assert jl.MarkovModel().fit(abc_journeys).loops() == []
    assert jl.MarkovModel().fit(ab_journeys).loops() == [["A", "B"]]
    top = jl.MarkovModel().fit(abc_journeys).top_paths(5)
    assert top["path"].tolist()[0] == "a > c"
    assert top["probability"].tolist() == pytest.approx(
        [1 / 3, 1 / 12, 1 / 12], rel=1e-12, abs=1e-12
    )
    assert top["length"].tolist()[0] == 2
    with pytest.warns(RuntimeWarning, match="stopped after expanding 2 walks, with 0 of the 5"):
        few = jl.MarkovModel().fit(abc_journeys).top_paths(5, max_expanded=2)
    assert len(few) == 0


def removal_effects_from_four_threads(model: jl.MarkovModel) -> None:
    """``model.removal_effects()`` from four threads at once equals one call, exactly."""
    expected = model.removal_effects()
    results: list[pd.DataFrame] = []
    threads = [
        threading.Thread(target=lambda: results.append(model.removal_effects())) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for r in results:
        pd.testing.assert_frame_equal(r, expected, check_exact=True)


def test_const_methods_from_several_threads(data_journeys: jl.Journeys) -> None:
    # 120 states: the removals are solved one at a time.
    removal_effects_from_four_threads(jl.MarkovModel(order=2).fit(data_journeys))


def notes_inside(call: Callable[[], object], seconds: float = 0.5) -> tuple[int, float]:
    """Calls ``call`` until ``seconds`` have passed inside it, while a second Python thread
    wakes every millisecond and notes the time. It needs the GIL to run at all: were the
    GIL held through the call, no note could fall inside it (away from its ends, where the
    threads switch). Returns the notes inside the calls and the calls' time clear of ends."""
    import time

    notes: list[float] = []
    stop = threading.Event()

    def note() -> None:
        while not stop.is_set():
            notes.append(time.perf_counter())
            time.sleep(0.001)

    ticker = threading.Thread(target=note)
    ticker.start()
    calls: list[tuple[float, float]] = []
    try:
        while sum(b - a for a, b in calls) < seconds:
            t0 = time.perf_counter()
            call()
            calls.append((t0, time.perf_counter()))
    finally:
        stop.set()
        ticker.join(timeout=10)
    margin = 0.01  # s kept clear of each call's ends
    inside = [t for t in notes for a, b in calls if a + margin < t < b - margin]
    return len(inside), sum(max(0.0, b - a - 2 * margin) for a, b in calls)


def test_solving_releases_the_gil() -> None:
    # Counting, fitting and the removal effects (no Python callback) let a
    # Python thread run while they work.
    rng, paths = random_paths(5, channels=60, rows=30000, longest=10)
    conv = rng.integers(0, 2, size=len(paths)).astype(float)
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=np.ones(len(paths)))
    model = jl.MarkovModel(order=3).fit(j)  # 87,085 states
    assert model.n_states_ > 50000
    # Fits and counts of 30,000 rows are too short to tell: 200,000 rows at order 4.
    rng, more = random_paths(6, channels=60, rows=200_000, longest=10)
    conv_more = rng.integers(0, 2, size=len(more)).astype(float)
    big = jl.Journeys.from_paths(more, conversions=conv_more, nulls=np.ones(len(more)))
    counts = jl.TransitionCounts.from_journeys(big, order=4)
    # The removals of 200,000 rows at order 3 (211,835 states) are long enough to tell.
    removals = jl.MarkovModel(order=3).fit(big)
    for name, call in [
        ("removal_effects", removals.removal_effects),
        ("fit", lambda: jl.MarkovModel(order=4).fit(counts)),
        ("count", lambda: jl.TransitionCounts.from_journeys(big, order=4)),
    ]:
        inside, long_calls = notes_inside(call)
        assert long_calls > 0.1, f"{name}: calls too short to tell"
        assert inside > 10, f"{name}: {inside} notes inside {long_calls:.2f} s of calls"
    # Batched removals (more than 256 states) from four threads at once.
    removal_effects_from_four_threads(model)
    # The matrix P (built on first use, without the GIL) from two threads at once.
    threads = [threading.Thread(target=model.transition_probabilities) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert jl.MarkovModel.from_bytes(model.to_bytes()).n_states_ == model.n_states_


@pytest.mark.parametrize(("channels", "order"), [(12, 2), (20, 2), (200, 1)])
def test_nearly_closed_chains_are_solved_directly(channels: int, order: int) -> None:
    # One journey of 50,000 touches: absorption once in 50,000 steps, which
    # Gauss-Seidel would take millions of sweeps to reach. Blocks that it has
    # not solved in slow_block_sweeps are solved by sparse LU (147 states at
    # order 2 over 12 channels: the fit; 403 over 20: batched removals; 203 at
    # order 1 over 200 channels: the fit before the dense inverse).
    rng = np.random.default_rng(channels)
    path = [f"c{t}" for t in rng.integers(0, channels, 50_000)]
    j = jl.Journeys.from_paths([" > ".join(path)], conversions=[1], nulls=[1], value=[10.0])
    model = jl.MarkovModel(order=order).fit(j)
    assert model.conversion_rate_ == pytest.approx(0.5, abs=1e-9)
    _, ref, _, _ = exact_markov([path], [1], [1], [10.0], order)
    re = model.removal_effects()
    assert re["removal_effect"].tolist() == pytest.approx([ref[c] for c in re["channel"]], abs=1e-9)
    assert re["removal_effect"].min() > 0


@pytest.mark.parametrize("order", [2, 3])
def test_padded_removal_effects_match_the_independent_solve(order: int) -> None:
    # Padding the paths by hand with k - 1 "(start)" symbols and solving them
    # unpadded must give what padded=True gives. Neither the conversion rate
    # nor the channels' removal effects can tell (padding only splits each
    # START transition in two), so the padded states' own removals are
    # checked too, against the independent solve.
    rng, paths = random_paths(21, channels=6, rows=400, longest=5)
    conv = rng.integers(0, 2, size=len(paths)).astype(float)
    nulls = 1.0 - conv
    value = conv * rng.uniform(1, 20, size=len(paths))
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=nulls, value=value)
    model = jl.MarkovModel(order=order, padded=True).fit(j)
    tokens = [["(start)"] * (order - 1) + [t.strip() for t in p.split(">")] for p in paths]
    p, ref, conv_ref, value_ref = exact_markov(tokens, list(conv), list(nulls), list(value), order)
    assert model.conversion_rate_ == pytest.approx(p, abs=1e-12)
    re = model.removal_effects()
    assert re["removal_effect"].tolist() == pytest.approx([ref[c] for c in re["channel"]], abs=1e-9)
    # Attribution: the reference also credits "(start)", which holds no
    # credit of its own (removing it removes every journey): it is left out.
    a = model.attribution()
    channels = a["channel"].tolist()
    scale_c = sum(conv_ref[c] for c in channels) / conv.sum()
    scale_v = sum(value_ref[c] for c in channels) / value.sum()
    assert (a["conversions"] * scale_c).tolist() == pytest.approx(
        [conv_ref[c] for c in channels], rel=1e-9
    )
    expected_value = [value_ref[c] for c in channels]
    assert (a["value"] * scale_v).tolist() == pytest.approx(expected_value, rel=1e-9)
    solve, states = _chain(tokens, list(conv), list(nulls), list(value), order)
    first = [s for s in states if all(t == "(start)" for t in s[:-1])]
    assert len(first) == 6  # one first state per channel
    seq = model.removal_effects(by="sequence", sequences=[" > ".join(s) for s in first])
    expected = [1 - solve({states[s]})[0] / p for s in first]
    assert seq["removal_effect"].tolist() == pytest.approx(expected, abs=1e-9)
    assert min(expected) > 0.01
