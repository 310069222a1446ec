"""jl.select_order: folds, held-out likelihood and AUC, ChannelAttribution's choose_order."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

import journeyloop as jl
from journeyloop import _core

from .conftest import random_paths

# --- an independent implementation of the definitions of docs/order.md ------


def _context(path: list[str], p: int, q: int) -> tuple[str, tuple[str, ...]]:
    return ("head", tuple(path[:p])) if p < q else ("tail", tuple(path[p - q : p]))


def _collapsed(path: list[str], p: int, q: int, collapse: bool) -> bool:
    return collapse and q <= p < len(path) and all(path[i] == path[p] for i in range(p - q, p))


def _symbols(path: list[str]) -> list[str]:
    return [*path, "<outcome>"]


def reference(
    paths: list[str], split: dict, k: int, prior: float, collapse: bool
) -> dict[str, float]:
    """Held-out log-likelihood per symbol, its standard error, the AUC and the
    unseen counts of order k, from the split given, by plain dictionaries."""
    tokens = [[t.strip() for t in p.split(">")] for p in paths]
    channels = {t for path in tokens for t in path}
    v = len(channels) + 2
    folds = split["folds"]
    offsets, fold = split["offsets"], split["fold"]
    conv, nulls = split["conversions"], split["nulls"]
    # counts[q][(ctx, symbol)] and ctx_counts[q][ctx]: per fold.
    counts = [defaultdict(lambda: np.zeros(folds)) for _ in range(k + 1)]
    ctx_counts = [defaultdict(lambda: np.zeros(folds)) for _ in range(k + 1)]
    for i, path in enumerate(tokens):
        for j in range(offsets[i], offsets[i + 1]):
            f, c, n = fold[j], conv[j], nulls[j]
            for q in range(1, k + 1):
                for p in range(len(path) + 1):
                    if _collapsed(path, p, q, collapse):
                        continue
                    ctx = _context(path, p, q)
                    ctx_counts[q][ctx][f] += c + n
                    if p < len(path):
                        counts[q][(ctx, path[p])][f] += c + n
                    else:
                        counts[q][(ctx, "CONV")][f] += c
                        counts[q][(ctx, "NULL")][f] += n

    def probability(path: list[str], p: int, symbol: str, f: int) -> tuple[float, bool, bool]:
        prob = 1.0 / v
        seen_pair = seen_ctx = False
        for q in range(1, k + 1):
            ctx = _context(path, p, q)
            cc = ctx_counts[q].get(ctx)
            nc = 0.0 if cc is None else cc.sum() - cc[f]
            pc = counts[q].get((ctx, symbol))
            np_ = 0.0 if pc is None else pc.sum() - pc[f]
            prob = (np_ + prior * prob) / (nc + prior)
            seen_pair, seen_ctx = np_ > 0, nc > 0
        return prob, seen_pair, seen_ctx

    ll = np.zeros(folds)
    sym = np.zeros(folds)
    unseen = unseen_states = 0.0
    preds: list[tuple[float, float, float]] = []
    for i, path in enumerate(tokens):
        for j in range(offsets[i], offsets[i + 1]):
            f, c, n = fold[j], conv[j], nulls[j]
            sym[f] += (c + n) * (len(path) + 1)
            for p in range(len(path) + 1):
                if _collapsed(path, p, k, collapse):
                    continue
                if p < len(path):
                    parts = [(path[p], c + n)]
                else:
                    parts = [("CONV", c), ("NULL", n)]
                got = {}
                for symbol, w in parts:
                    prob, sp, sc = probability(path, p, symbol, f)
                    got[symbol] = prob
                    if w == 0:
                        continue
                    ll[f] += w * math.log(prob)
                    unseen += 0 if sp else w
                    unseen_states += 0 if sc else w
                if p == len(path):
                    preds.append((got["CONV"] / (got["CONV"] + got["NULL"]), c, n))
    per_fold = ll / sym
    # AUC: P(converting prediction > non-converting), ties half.
    pos = sum(c for _, c, _ in preds)
    neg = sum(n for _, _, n in preds)
    auc = sum(
        c * n2 * (1.0 if p1 > p2 else 0.5 if p1 == p2 else 0.0)
        for p1, c, _ in preds
        for p2, _, n2 in preds
    ) / (pos * neg)
    return {
        "log_likelihood": ll.sum() / sym.sum(),
        "log_likelihood_se": per_fold.std(ddof=1) / math.sqrt(folds),
        "auc": auc,
        "unseen_transitions": unseen,
        "unseen_states": unseen_states,
    }


def loo_journeys() -> jl.Journeys:
    return jl.Journeys.from_paths(["a", "a", "b"], conversions=[1, 0, 0], nulls=[0, 1, 1])


# --- hand-worked -------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_leave_one_out_by_hand(seed: int) -> None:
    # As tests/cpp/test_order_selection.cpp: one journey a fold, so the
    # figures do not depend on the seed.
    s = jl.select_order(loo_journeys(), orders=[1, 2], folds=3, seed=seed)
    ll1 = 2 * math.log(5 / 12) + 2 * math.log(1 / 8) + math.log(1 / 12) + math.log(1 / 4)
    ll2 = 2 * math.log(17 / 36) + 2 * math.log(1 / 16) + math.log(1 / 36) + math.log(1 / 4)
    assert s["order"].tolist() == [1, 2]
    assert s["log_likelihood"].tolist() == pytest.approx([ll1 / 6, ll2 / 6], rel=1e-14)
    assert s["unseen_transitions"].tolist() == [4.0, 4.0]
    assert s["unseen_states"].tolist() == [1.0, 1.0]
    assert s.loc[0, "auc"] == 0.0
    assert s["states"].tolist() == [2, 2]
    assert s.attrs["recommended"] == 1
    assert s.attrs["best"] == 1
    assert s.attrs["symbols"] == 6.0
    assert s.attrs["units"] == 3
    assert s.attrs["unit"] == "journeys"
    assert "Order 1 predicts the held-out journeys best" in s.attrs["reason"]


def test_auc_by_hand() -> None:
    # "a" converts 3 times and not once, "b" once and not 3 times; leave one
    # out over the 8 journeys. The prediction from the last state is
    # (N(CONV) + 1/4) / (N(CONV) + N(NULL) + 1/2) in the training counts:
    j = jl.Journeys.from_paths(["a", "b"], conversions=[3, 1], nulls=[1, 3])
    s = jl.select_order(j, orders=[1], folds=8, seed=0)
    # a-conversion held out: a has 2 conversions, 1 null -> 9/14 (3 journeys)
    # a-null: 3 and 0 -> 13/14 (1); b-conversion: 0 and 3 -> 1/14 (1);
    # b-null: 1 and 2 -> 5/14 (3). Pairs a conversion wins: the a-conversions
    # against the b-nulls, 3 * 3 of 4 * 4: AUC = 9/16.
    assert s.loc[0, "auc"] == pytest.approx(9 / 16, abs=1e-15)


def test_matches_an_independent_implementation() -> None:
    rng, paths = random_paths(3, channels=4, rows=40, longest=5)
    conv = rng.integers(0, 4, size=len(paths))
    nulls = rng.integers(1, 4, size=len(paths))
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=nulls)
    for collapse in (True, False):
        for prior in (1.0, 0.3):
            s = jl.select_order(
                j, orders=[1, 2, 3], folds=4, seed=9, prior=prior, collapse_repeats=collapse
            )
            split = _core.split_folds(j._set, 4, 9)
            for row in s.itertuples():
                want = reference(paths, split, int(row.order), prior, collapse)
                for key, value in want.items():
                    assert getattr(row, key) == pytest.approx(value, rel=1e-12, abs=1e-12), (
                        key,
                        row.order,
                        collapse,
                        prior,
                    )


def test_split_partitions_the_journeys() -> None:
    j = jl.Journeys.from_paths(["a > b", "b", "c"], conversions=[4, 0, 2], nulls=[3, 5, 0])
    split = _core.split_folds(j._set, 4, 2)
    assert split["units"] == 14
    sizes = np.zeros(4)
    np.add.at(sizes, split["fold"], split["conversions"] + split["nulls"])
    assert sizes.tolist() == [4.0, 4.0, 3.0, 3.0]
    rows = np.repeat(np.arange(3), np.diff(split["offsets"]).astype(np.int64))
    assert np.bincount(rows, split["conversions"]).tolist() == [4.0, 0.0, 2.0]
    assert np.bincount(rows, split["nulls"]).tolist() == [3.0, 5.0, 0.0]


def test_events_split_by_customer() -> None:
    events = pd.DataFrame(
        {
            "customer": [1, 1, 1, 2, 2, 3, 4, 5],
            "time": [1, 2, 3, 1, 2, 1, 1, 1],
            "channel": ["a", "b", "a", "b", "a", "a", "b", "a"],
            "conversion": [0, 1, 0, 0, 1, 0, 0, 1],
        }
    )
    j = jl.Journeys.from_events(events, conversion="conversion")
    s = jl.select_order(j, orders=[1], folds=2, seed=4)
    assert s.attrs["unit"] == "customers"
    assert s.attrs["units"] == 5
    split = _core.split_folds(j._set, 2, 4)
    customers = j.to_frame()["customer"].to_numpy()
    rows = np.repeat(np.arange(len(customers)), np.diff(split["offsets"]).astype(np.int64))
    fold_of: dict[int, int] = {}
    for r, f in zip(rows, split["fold"], strict=True):
        assert fold_of.setdefault(int(customers[r]), int(f)) == f
    with pytest.raises(jl.InvalidInputError, match="5 customers"):
        jl.select_order(j, orders=[1], folds=6)


def test_deterministic_and_threads() -> None:
    rng, paths = random_paths(8, channels=5, rows=300, longest=6)
    j = jl.Journeys.from_paths(
        paths, conversions=rng.integers(0, 3, len(paths)), nulls=rng.integers(1, 3, len(paths))
    )
    calls: list[tuple[int, int]] = []
    a = jl.select_order(j, orders=range(1, 5), seed=3, threads=1)
    b = jl.select_order(
        j, orders=range(1, 5), seed=3, threads=2, progress=lambda d, t: calls.append((d, t))
    )
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs == b.attrs
    assert calls[-1] == (5, 5) and len(calls) == 5
    c = jl.select_order(j, orders=range(1, 5), seed=4)
    assert not a["log_likelihood"].equals(c["log_likelihood"])
    assert np.isfinite(a["log_likelihood"]).all()
    assert ((a["auc"] >= 0) & (a["auc"] <= 1)).all()


def test_one_standard_error_rule() -> None:
    rng, paths = random_paths(11, channels=4, rows=200, longest=4)
    j = jl.Journeys.from_paths(
        paths, conversions=rng.integers(0, 3, len(paths)), nulls=rng.integers(1, 3, len(paths))
    )
    s = jl.select_order(j, orders=[1, 2, 3], seed=0)
    best = s.loc[s["log_likelihood"].idxmax()]
    assert s.attrs["best"] == best["order"]
    bar = best["log_likelihood"] - best["log_likelihood_se"]
    assert s.attrs["recommended"] == s.loc[s["log_likelihood"] >= bar, "order"].min()
    assert isinstance(s.attrs["reason"], str) and str(s.attrs["recommended"]) in s.attrs["reason"]


def test_rows_without_journeys_are_counted_and_announced() -> None:
    j = jl.Journeys.from_paths(["a", "b", "a > b"], conversions=[1, 0, 0], nulls=[1, 1, 0])
    with pytest.warns(jl.DataWarning, match="1 rows hold no journey"):
        s = jl.select_order(j, orders=[1], folds=2)
    assert s.attrs["rows_without_journeys"] == 1
    assert s.attrs["units"] == 3


# --- ChannelAttribution's choose_order -----------------------------------------

# REFERENCE.md 3.3: order, nnodes penalty, observed states, AUC, pAUC.
CHOOSE_ORDER = [
    (1, 12, 12, 0.508670, 0.508603),
    (2, 78, 120, 0.517376, 0.516950),
    (3, 364, 933, 0.527848, 0.525895),
    (4, 1365, 3975, 0.542849, 0.535678),
    (5, 4368, 8349, 0.553812, 0.530615),
    (6, 12376, 11611, 0.558917, 0.487100),
    (7, 31824, 13117, 0.561891, 0.315393),
    (8, 75582, 13400, 0.563227, 0.0),
]


def test_choose_order_reference(data_journeys: jl.Journeys) -> None:
    s = jl.select_order(data_journeys, orders=range(1, 11), folds=2)
    for order, nodes, states, auc, pauc in CHOOSE_ORDER:
        row = s.loc[s["order"] == order].iloc[0]
        assert row["ca_nodes"] == pytest.approx(nodes, rel=1e-9)
        assert row["states"] == states
        assert row["ca_auc"] == pytest.approx(auc, abs=5e-7)
        assert row["ca_pauc"] == pytest.approx(pauc, abs=5e-7)
    assert s.loc[s["order"] >= 9, ["ca_auc", "ca_pauc"]].isna().all().all()
    assert s.attrs["ca_suggested"] == 4


def test_choose_order_agrees_with_the_channelattribution_package() -> None:
    ca = pytest.importorskip("ChannelAttribution")
    rng, paths = random_paths(21, channels=5, rows=400, longest=6)
    df = pd.DataFrame(
        {
            "path": paths,
            "conv": rng.integers(0, 4, len(paths)),
            "null": rng.integers(1, 4, len(paths)),
        }
    )
    j = jl.Journeys.from_paths(df, path="path", conversions="conv", nulls="null")
    s = jl.select_order(j, orders=[1, 2, 3], folds=2)
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        got = ca.choose_order(df, var_path="path", var_conv="conv", var_null="null",
                              max_order=3, plot=False)  # fmt: skip
    table = got[0]
    assert table["order"].tolist() == [1.0, 2.0, 3.0]
    assert s["ca_auc"].tolist() == pytest.approx(table["auc"].tolist(), abs=1e-12)
    assert s["ca_pauc"].tolist() == pytest.approx(table["pauc"].tolist(), abs=1e-12)


# --- bad arguments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"orders": []}, "orders is empty"),
        ({"orders": [0]}, "orders: every order"),
        ({"orders": [1, 1]}, "given twice"),
        ({"orders": "12"}, "orders must be an iterable"),
        ({"orders": [1.5]}, "orders: every order"),
        ({"folds": 1}, "folds must be an integer >= 2"),
        ({"folds": 4}, r"folds \(4\) exceeds the 3 journeys"),
        ({"seed": -1}, "seed"),
        ({"prior": 0}, "prior"),
        ({"prior": float("nan")}, "prior"),
        ({"roc_points": 1}, "roc_points"),
        ({"threads": 0}, "threads"),
        ({"progress": 3}, "progress"),
        ({"collapse_repeats": "yes"}, "collapse_repeats"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    args = {"orders": [1], "folds": 3} | kwargs
    with pytest.raises(jl.InvalidInputError, match=match):
        jl.select_order(loo_journeys(), **args)


def test_bad_journeys() -> None:
    with pytest.raises(jl.InvalidInputError, match="non-converting"):
        jl.select_order(jl.Journeys.from_paths(["a", "b"], conversions=[1, 2]), folds=2)
    with pytest.raises(jl.InvalidInputError, match="row 0, column conversions"):
        jl.select_order(
            jl.Journeys.from_paths(["a", "b"], conversions=[1.5, 2], nulls=[1, 1]), folds=2
        )
    with pytest.raises(jl.InvalidInputError, match="funnel journeys"):
        jl.select_order(pd.DataFrame({"path": ["a"]}))  # type: ignore[arg-type]


# --- back-off of sparse states (MarkovModel(min_count=...)) -------------------


def test_back_off_by_hand() -> None:
    # As tests/cpp/test_order_selection.cpp: (c,b) seen once backs off into (b).
    j = jl.Journeys.from_paths(["a > b", "c > b", "b"], conversions=[3, 0, 1], nulls=[0, 1, 1])
    m = jl.MarkovModel(order=2, min_count=2).fit(j)
    t = m.transition_matrix()
    got = {(r["from"], r["to"]): (r["count"], r["probability"]) for _, r in t.iterrows()}
    assert got == {
        ("START", "a > b"): (3.0, 0.5),
        ("START", "b"): (3.0, 0.5),
        ("a > b", "CONVERSION"): (3.0, 1.0),
        ("b", "CONVERSION"): (1.0, pytest.approx(1 / 3, rel=1e-15)),
        ("b", "NULL"): (2.0, pytest.approx(2 / 3, rel=1e-15)),
    }
    assert m.conversion_rate_ == pytest.approx(2 / 3, rel=1e-15)
    re = dict(zip(m.removal_effects()["channel"], m.removal_effects()["removal_effect"]))
    assert re == {"a": pytest.approx(0.75, rel=1e-14), "b": pytest.approx(1.0), "c": 0.0}
    credit = dict(zip(m.attribution()["channel"], m.attribution()["conversions"]))
    assert credit == {
        "a": pytest.approx(12 / 7, rel=1e-14),
        "b": pytest.approx(16 / 7, rel=1e-14),
        "c": 0.0,
    }
    # From counts too; min_count=1 backs nothing off.
    counts = jl.TransitionCounts.from_journeys(j, 2)
    assert jl.MarkovModel(order=2, min_count=2).fit(counts).conversion_rate_ == pytest.approx(
        2 / 3, rel=1e-15
    )
    pd.testing.assert_frame_equal(
        jl.MarkovModel(order=2, min_count=1).fit(j).transition_matrix(),
        jl.MarkovModel(order=2).fit(j).transition_matrix(),
    )


@pytest.mark.parametrize("collapse", [True, False])
def test_back_off_keeps_the_observed_rate_and_the_totals(collapse: bool) -> None:
    rng, paths = random_paths(5, channels=5, rows=300, longest=6)
    j = jl.Journeys.from_paths(
        paths, conversions=rng.integers(0, 3, len(paths)), nulls=rng.integers(1, 3, len(paths))
    )
    observed = j.total_conversions / (j.total_conversions + j.total_nulls)
    full = jl.MarkovModel(order=3, collapse_repeats=collapse).fit(j)
    for min_count in (2, 5, 20):
        m = jl.MarkovModel(order=3, collapse_repeats=collapse, min_count=min_count).fit(j)
        assert m.conversion_rate_ == pytest.approx(observed, rel=1e-12)
        assert m.attribution()["conversions"].sum() == pytest.approx(j.total_conversions)
        assert len(m.transition_matrix()) < len(full.transition_matrix())


def test_back_off_limits() -> None:
    j = jl.Journeys.from_paths(["a > b", "c > b", "b"], conversions=[3, 0, 1], nulls=[0, 1, 1])
    m = jl.MarkovModel(order=2, min_count=2).fit(j)
    with pytest.raises(jl.InvalidInputError, match="min_count cannot be saved"):
        m.to_bytes()
    h = jl.Histories.from_paths(["a > purchase"], count=[1])
    with pytest.raises(jl.InvalidInputError, match="min_count applies to funnel"):
        jl.MarkovModel(min_count=2).fit(h)
    with pytest.raises(jl.InvalidInputError, match="unpadded"):
        jl.MarkovModel(order=2, padded=True, min_count=2).fit(j)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_min_count(bad: object) -> None:
    with pytest.raises(jl.InvalidInputError, match="min_count"):
        jl.MarkovModel(order=2, min_count=bad)  # type: ignore[arg-type]


def test_leave_one_out_with_many_folds() -> None:
    # Past 64 folds the folds' counts are kept in hash maps, not arrays: the
    # same definitions, and leave-one-out gives the same figures for every seed.
    rng, paths = random_paths(13, channels=3, rows=30, longest=4)
    conv = rng.integers(0, 3, len(paths))
    nulls = rng.integers(1, 3, len(paths))
    j = jl.Journeys.from_paths(paths, conversions=conv, nulls=nulls)
    units = int(conv.sum() + nulls.sum())
    assert units > 64
    a = jl.select_order(j, orders=[1, 2], folds=units, seed=0)
    b = jl.select_order(j, orders=[1, 2], folds=units, seed=7)
    split = _core.split_folds(j._set, units, 0)
    for row in a.itertuples():
        want = reference(paths, split, int(row.order), 1.0, False)
        for key in ("log_likelihood", "auc", "unseen_transitions", "unseen_states"):
            assert getattr(row, key) == pytest.approx(want[key], rel=1e-12, abs=1e-12)
    for key in ("log_likelihood", "auc", "unseen_transitions"):
        assert a[key].tolist() == pytest.approx(b[key].tolist(), rel=1e-12)
