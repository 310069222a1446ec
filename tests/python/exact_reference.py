"""An independent exact solver for the tests: plain Python counting and a
dense numpy solve of the absorbing chain, written from DESIGN.md without the
library, to compare the library against at 1e-9."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np


def split(path: str, sep: str = ">") -> list[str]:
    return [t.strip() for t in path.split(sep)]


def exact_markov(
    paths: list[list[str]],
    conversions: list[float],
    nulls: list[float],
    values: list[float],
    order: int = 1,
    collapse_repeats: bool = True,
) -> tuple[float, dict[str, float], dict[str, float], dict[str, float]]:
    """(conversion rate, removal effects, attributed conversions, attributed value).

    ``collapse_repeats=False`` keeps a state repeated in a row as a self-transition."""
    solve, states = _chain(paths, conversions, nulls, values, order, collapse_repeats)
    p, v = solve(set())
    channels = list(dict.fromkeys(ch for path in paths for ch in path))
    re: dict[str, float] = {}
    re_v: dict[str, float] = {}
    for ch in channels:
        removed = {i for s, i in states.items() if ch in s}
        pc, vc = solve(removed)
        re[ch] = 1 - pc / p if p > 0 else 0.0
        re_v[ch] = 1 - vc / v if v > 0 else 0.0
    total_c = sum(conversions)
    total_v = sum(values)
    sum_re = sum(re.values())
    sum_rev = sum(re_v.values())
    conv_attr = {ch: re[ch] / sum_re * total_c if sum_re > 0 else 0.0 for ch in channels}
    val_attr = {ch: re_v[ch] / sum_rev * total_v if sum_rev > 0 else 0.0 for ch in channels}
    return p, re, conv_attr, val_attr


def exact_shapley(
    paths: list[list[str]],
    conversions: list[float],
    nulls: list[float],
    players: dict[str, set[str]],
    order: int = 1,
) -> dict[str, float]:
    """Shapley values of the conversion probability over players (sets of
    channels): the mean marginal contribution over every ordering of the
    players (a different formula from the library's subset sum)."""
    from itertools import permutations

    solve, states = _chain(paths, conversions, nulls, [0.0] * len(paths), order)
    names = list(players)

    def value(coalition: frozenset[str]) -> float:
        gone = set().union(*(players[n] for n in names if n not in coalition))
        removed = {i for s, i in states.items() if any(ch in s for ch in gone)}
        return solve(removed)[0]

    cache: dict[frozenset[str], float] = {}
    phi = dict.fromkeys(names, 0.0)
    orderings = list(permutations(names))
    for ordering in orderings:
        coalition: frozenset[str] = frozenset()
        for name in ordering:
            bigger = coalition | {name}
            for c in (coalition, bigger):
                if c not in cache:
                    cache[c] = value(c)
            phi[name] += (cache[bigger] - cache[coalition]) / len(orderings)
            coalition = bigger
    return phi


Counts = dict[tuple[object, object], float]


def count_chain(
    paths: list[list[str]],
    conversions: list[float],
    nulls: list[float],
    values: list[float],
    order: int,
    collapse_repeats: bool = True,
) -> tuple[Counts, dict[object, float], dict[object, float], dict[tuple[str, ...], int]]:
    """Transition counts (``"START"``, ``"CONV"`` and ``"NULL"`` besides the
    channel tuples), conversions and value ending at each state, and the
    state index."""
    counts: Counts = defaultdict(float)
    end_conv: dict[object, float] = defaultdict(float)
    end_val: dict[object, float] = defaultdict(float)
    states: dict[tuple[str, ...], int] = {}
    for p, c, n, v in zip(paths, conversions, nulls, values):
        if c + n == 0:
            continue
        windows = (
            [tuple(p)]
            if len(p) < order
            else [tuple(p[i : i + order]) for i in range(len(p) - order + 1)]
        )
        prev: object = "START"
        for s in windows:
            if s == prev and collapse_repeats:
                continue
            states.setdefault(s, len(states))
            counts[(prev, s)] += c + n
            prev = s
        counts[(prev, "CONV")] += c
        counts[(prev, "NULL")] += n
        end_conv[prev] += c
        end_val[prev] += v
    return counts, end_conv, end_val, states


class ChainArrays(NamedTuple):
    """The transient chain as arrays: START is the last state; transitions
    (rows[e] -> cols[e] with probability probs[e]); r and r_value are
    P(-> CONVERSION) and that times the state's mean conversion value."""

    states: dict[tuple[str, ...], int]
    start: int
    rows: np.ndarray
    cols: np.ndarray
    probs: np.ndarray
    r: np.ndarray
    r_value: np.ndarray


def chain_arrays(
    paths: list[list[str]],
    conversions: list[float],
    nulls: list[float],
    values: list[float],
    order: int,
    collapse_repeats: bool = True,
) -> ChainArrays:
    """Maximum-likelihood transition probabilities of ``count_chain``'s counts."""
    counts, end_conv, end_val, states = count_chain(
        paths, conversions, nulls, values, order, collapse_repeats
    )
    n_t = len(states) + 1
    start = n_t - 1

    def idx(s: object) -> int:
        return start if s == "START" else states[s]  # type: ignore[index]

    out = np.zeros(n_t)
    for (a, _), w in counts.items():
        out[idx(a)] += w
    rows, cols, probs = [], [], []
    r = np.zeros(n_t)
    rv = np.zeros(n_t)
    for (a, b), w in counts.items():
        i = idx(a)
        if b == "CONV":
            r[i] += w / out[i]
            mean = end_val[a] / end_conv[a] if end_conv[a] > 0 else 0.0
            rv[i] += w / out[i] * mean
        elif b != "NULL":
            rows.append(i)
            cols.append(idx(b))
            probs.append(w / out[i])
    return ChainArrays(states, start, np.asarray(rows, dtype=np.int64),
                       np.asarray(cols, dtype=np.int64), np.asarray(probs), r, rv)  # fmt: skip


def _chain(
    paths: list[list[str]],
    conversions: list[float],
    nulls: list[float],
    values: list[float],
    order: int,
    collapse_repeats: bool = True,
) -> tuple[Callable[[set[int]], tuple[float, float]], dict[tuple[str, ...], int]]:
    """The dense chain: a solver of (rate, value) with some states removed,
    and the state index."""
    c = chain_arrays(paths, conversions, nulls, values, order, collapse_repeats)
    n_t, start, r, rv = len(c.states) + 1, c.start, c.r, c.r_value
    q = np.zeros((n_t, n_t))
    np.add.at(q, (c.rows, c.cols), c.probs)

    def solve(removed: set[int]) -> tuple[float, float]:
        keep = [i for i in range(n_t) if i not in removed]
        a = np.eye(len(keep)) - q[np.ix_(keep, keep)]
        x = np.linalg.solve(a, np.column_stack([r[keep], rv[keep]]))
        row = keep.index(start)
        return float(x[row, 0]), float(x[row, 1])

    return solve, c.states


Credit = tuple[dict[str, float], dict[str, float]]


def exact_heuristics(
    paths: list[list[str]], conversions: list[float], values: list[float]
) -> dict[str, Credit]:
    """(conversions, value) per channel of the five path heuristics, from their definitions:
    first and last touch; linear (every touch, repeats included, an equal part); position
    based (40 % each to the first and last touch and 20 % shared by the others; halves for two
    touches); time decay in steps (a touch k steps before the last weighs 2**-k)."""
    names = ["first_touch", "last_touch", "linear", "position_based", "time_decay"]
    out: dict[str, Credit] = {m: ({}, {}) for m in names}
    for p, c, v in zip(paths, conversions, values):
        n = len(p)
        if n > 2:
            middle = [0.2 / (n - 2)] * (n - 2)
            position = [0.4, *middle, 0.4]
        else:
            position = [1.0 / n] * n
        decay = [2.0 ** -(n - 1 - i) for i in range(n)]
        weights = {
            "first_touch": [1.0] + [0.0] * (n - 1),
            "last_touch": [0.0] * (n - 1) + [1.0],
            "linear": [1.0 / n] * n,
            "position_based": position,
            "time_decay": [w / sum(decay) for w in decay],
        }
        for m, ws in weights.items():
            conv, val = out[m]
            for ch, w in zip(p, ws):
                conv[ch] = conv.get(ch, 0.0) + w * c
                val[ch] = val.get(ch, 0.0) + w * v
    return out


def exact_channel_shapley(
    paths: list[list[str]], conversions: list[float], nulls: list[float], values: list[float]
) -> Credit:
    """Shapley values of the order-1 chain over its channels, conversions and value, scaled to
    the totals: v(S) is the (rate, value per journey) of the dense chain keeping only the
    states of S, summed over every subset with weights |S|! (n - |S| - 1)! / n!."""
    from math import factorial

    solve, states = _chain(paths, conversions, nulls, values, 1)
    channels = list(dict.fromkeys(ch for p in paths for ch in p))
    n = len(channels)
    v = []
    for mask in range(1 << n):
        kept = {channels[i] for i in range(n) if mask >> i & 1}
        v.append(solve({i for s, i in states.items() if not set(s) <= kept}))
    p, pv = v[-1]
    conv: dict[str, float] = {}
    val: dict[str, float] = {}
    for i, ch in enumerate(channels):
        a = b = 0.0
        for mask in range(1 << n):
            if mask >> i & 1:
                continue
            k = bin(mask).count("1")
            w = factorial(k) * factorial(n - k - 1) / factorial(n)
            a += w * (v[mask | 1 << i][0] - v[mask][0])
            b += w * (v[mask | 1 << i][1] - v[mask][1])
        conv[ch] = a * sum(conversions) / p
        val[ch] = b * sum(values) / pv
    return conv, val


def exact_simplified_shapley(
    paths: list[list[str]], conversions: list[float], values: list[float]
) -> Credit:
    """(conversions, value) per channel of the simplified Shapley value of Zhao et al.
    (2018), from its definition: each path's conversions and value split evenly between
    its distinct channels."""
    conv: dict[str, float] = {}
    val: dict[str, float] = {}
    for p, c, v in zip(paths, conversions, values):
        distinct = list(dict.fromkeys(p))
        for ch in distinct:
            conv[ch] = conv.get(ch, 0.0) + c / len(distinct)
            val[ch] = val.get(ch, 0.0) + v / len(distinct)
    return conv, val
