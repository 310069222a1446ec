"""Synthetic journeys with a known truth, and the data losses of real tracking.

:func:`generate` simulates customers through a documented structural process in
which every channel has a known incremental effect on the first purchase and on
repeat purchases, and returns the event log, the matching path tables, the team
and stage maps and the ground truth: each channel's and each team's true
incremental conversions and value. :func:`split_identities`,
:func:`drop_touches`, :func:`drop_conversions` and :func:`stop_tracking` degrade
an event log as tracking does in the field, each reporting what it changed.

The process (see ``docs/synthetic.md``)
--------------------------------------
Every customer belongs to a latent class (``high`` or ``low`` propensity,
drawn with the regime's shares). A journey is a sequence of touches:

1. the first touch is drawn from the regime's first-touch distribution;
2. the n-th touch, on channel c, raises the customer's interest level by one
   with probability ``warm[c]`` (up to level 4): the effect that lasts;
3. the customer then purchases with probability
   ``min(1, response[class] * (effect[c] + lift * level))``: ``effect[c]`` is
   the touch's immediate effect, ``lift * level`` what earlier touches built up;
4. otherwise the journey ends at the regime's ``max_touches``, or drops out
   with probability ``drop[class, c]`` plus a fatigue term
   ``fatigue * max(0, n - onset)``; otherwise the next channel is drawn from
   the row ``c`` of the class's transition matrix.

Exposure (which channel comes next) is the customer's own course and is not
changed by the touches' effects; a retargeting-like channel is shown far more
often to high-propensity customers (who also respond more to every channel),
so it is frequent on converting paths while both its effects are zero.

In the loyalty regime a buyer goes on: after each purchase the next touch is
drawn from the after-purchase distribution (or none: the customer stays away),
each touch then adds its repeat effect, with drop-outs and transitions of its
own, up to ``max_purchases`` purchases. Values are lognormal, with a median per
class for first and for repeat purchases, rounded to cents.

Ground truth
------------
A channel *switched off* keeps its exposures (the customer's course is the
same) but has no effect: neither ``effect[c]`` nor ``warm[c]``. A channel's
true incremental conversions are the expected drop in conversions
(purchases, in the loop) when it alone is switched off, over ``n_customers``
customers; a team's, when all its channels are. Both are computed exactly by
propagating the distribution of the (class, channel, interest level) state
touch by touch, a finite computation because journeys stop at
``max_touches`` and purchases at ``max_purchases``. Effects are not additive
(a customer converted by one channel cannot be converted by the next), so
the truth also gives each channel's exact Shapley value of the process,
which sums to the expected conversions with every channel on minus those
with every channel off (0).

The ``"b2b"`` and ``"b2b_loop"`` regimes are the processes of the bundled
sample (:mod:`journeyloop.datasets`): for ``seed=20240531,
n_customers=60_000`` the path table of ``"b2b"`` is row for row that of
``load_b2b_paths()``, and for ``seed=20240532, n_customers=20_000`` the
history table of ``"b2b_loop"`` that of ``load_b2b_histories()``. Their truth
is estimated by common random numbers (each customer simulated with
everything on and with the channel or teams switched off, from the same
random stream), with a standard error.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._errors import InvalidInputError

if TYPE_CHECKING:
    from ._journeys import Histories, Journeys

__all__ = [
    "REGIMES",
    "Degraded",
    "Synthetic",
    "drop_conversions",
    "drop_touches",
    "generate",
    "split_identities",
    "stop_tracking",
]

#: The regimes :func:`generate` knows.
REGIMES: tuple[str, ...] = (
    "short",
    "long",
    "retargeting",
    "sales_followup",
    "loyalty",
    "b2b",
    "b2b_loop",
)

SEPARATOR = " > "
PURCHASE = "purchase"
_START_DATE = np.datetime64("2025-01-01T00:00:00", "s")
_WINDOW_DAYS = 90.0
_MIN_GAP_DAYS = 1.0 / 1440.0  # one minute: two touches of a customer never share a second

# channel -> (team, stage)
_CHANNELS: dict[str, tuple[str, str]] = {
    "paid_search": ("marketing", "awareness"),
    "paid_social": ("marketing", "awareness"),
    "display": ("marketing", "awareness"),
    "email": ("marketing", "consideration"),
    "webinar": ("marketing", "consideration"),
    "retargeting": ("marketing", "consideration"),
    "sdr_call": ("sales", "evaluation"),
    "demo": ("sales", "evaluation"),
    "sales_email": ("sales", "evaluation"),
    "onboarding": ("service", "experience"),
    "nurture_email": ("marketing", "loyalty"),
    "account_review": ("sales", "loyalty"),
}
_FUNNEL = ["paid_search", "paid_social", "display", "email", "webinar", "sdr_call", "demo",
           "sales_email"]  # fmt: skip

# Relative exposure weights: row = current channel, column = next channel.
# fmt: off
_FUNNEL_ROWS: dict[str, dict[str, float]] = {
    "paid_search": {"paid_search": .20, "paid_social": .05, "display": .05, "email": .40,
                    "webinar": .10, "sdr_call": .15, "demo": .05},
    "paid_social": {"paid_search": .10, "paid_social": .20, "display": .10, "email": .40,
                    "webinar": .10, "sdr_call": .10},
    "display":     {"paid_search": .10, "paid_social": .10, "display": .20, "email": .40,
                    "webinar": .10, "sdr_call": .10},
    "email":       {"paid_search": .05, "paid_social": .02, "display": .03, "email": .40,
                    "webinar": .20, "sdr_call": .20, "demo": .10},
    "webinar":     {"email": .25, "webinar": .05, "sdr_call": .35, "demo": .35},
    "retargeting": {"paid_search": .10, "paid_social": .05, "display": .05, "email": .30,
                    "webinar": .15, "sdr_call": .20, "demo": .15},
    "sdr_call":    {"email": .10, "webinar": .05, "sdr_call": .15, "demo": .60,
                    "sales_email": .10},
    "demo":        {"email": .05, "sdr_call": .10, "demo": .15, "sales_email": .70},
    "sales_email": {"email": .05, "sdr_call": .10, "demo": .25, "sales_email": .60},
}
_FIRST_TOUCH = {"paid_search": .35, "paid_social": .25, "display": .20, "email": .10,
                "sdr_call": .10}
_EFFECT = {"paid_search": .004, "paid_social": .002, "display": .001, "email": .006,
           "webinar": .015, "retargeting": .0, "sdr_call": .015, "demo": .060,
           "sales_email": .040}
# Probability that a touch raises the customer's interest level by one.
_WARM = {"paid_search": .5, "paid_social": .4, "display": .3, "email": .3, "webinar": .5,
         "retargeting": .0, "sdr_call": .2, "demo": .3, "sales_email": .1}
_LIFT, _LEVELS = 0.015, 4
_DROP = {"awareness": .25, "consideration": .20, "evaluation": .15, "experience": .25,
         "loyalty": .30}
_GAP_DAYS = {"awareness": 3.0, "consideration": 2.0, "evaluation": 1.5, "experience": 10.0,
             "loyalty": 15.0}
# The loyalty loop: after a purchase, and between the touches that follow it.
_AFTER_PURCHASE = {"onboarding": .40, "nurture_email": .25, "account_review": .15}
_LOOP_ROWS: dict[str, dict[str, float]] = {
    "onboarding":     {"onboarding": .10, "nurture_email": .50, "account_review": .40},
    "nurture_email":  {"nurture_email": .40, "account_review": .35, "demo": .25},
    "account_review": {"nurture_email": .30, "demo": .30, "sales_email": .40},
    "demo":           {"sales_email": .60, "account_review": .40},
    "sales_email":    {"sales_email": .30, "account_review": .70},
}
_REPEAT_EFFECT = {"onboarding": .02, "nurture_email": .04, "account_review": .10,
                  "demo": .08, "sales_email": .06}
_REPEAT_WARM = {"onboarding": .6, "nurture_email": .4, "account_review": .3, "demo": .2,
                "sales_email": .1}
# fmt: on


@dataclass(frozen=True)
class _Segment:
    """One stretch of touches up to a purchase (or the end)."""

    start: np.ndarray  # (K, C): first-touch probabilities; 1 - row sum: no touch at all
    transitions: np.ndarray  # (K, C, C): next-channel probabilities, rows sum to 1
    drop: np.ndarray  # (K, C): drop-out probability after a touch that did not convert
    effect: np.ndarray  # (C,): the planted hazard increment of each channel
    warm: np.ndarray  # (C,): probability that a touch raises the interest level by one
    gap_days: np.ndarray  # (C,): mean days before a touch of each channel (after the minute)
    max_touches: int
    fatigue_onset: int
    fatigue: float
    lift: float = 0.0  # hazard added per interest level
    levels: int = 0  # highest interest level


@dataclass(frozen=True)
class _Process:
    channels: list[str]
    class_names: tuple[str, ...]
    class_share: np.ndarray  # (K,)
    response: np.ndarray  # (K,)
    first: _Segment
    repeat: _Segment | None
    max_purchases: int
    first_median: np.ndarray  # (K,)
    repeat_median: np.ndarray  # (K,)
    value_sigma: float

    def hazards(self, segment: _Segment, on: np.ndarray) -> np.ndarray:
        """(S, K, C, L) purchase hazards for S on/off masks of shape (S, C), by
        class, channel and interest level."""
        level = np.arange(segment.levels + 1)[None, None, None, :] * segment.lift
        own = (segment.effect[None, :] * on)[:, None, :, None]
        h = self.response[None, :, None, None] * (own + level)
        return np.asarray(np.minimum(h, 1.0))

    def mean_value(self, median: np.ndarray) -> np.ndarray:
        return np.asarray(median * math.exp(self.value_sigma**2 / 2.0))


def _matrix(rows: Mapping[str, Mapping[str, float]], channels: list[str]) -> np.ndarray:
    """Row-normalised (C, C) matrix; a channel without a row stays where it is
    (such a row is never reached)."""
    index = {c: i for i, c in enumerate(channels)}
    m = np.zeros((len(channels), len(channels)))
    for c in channels:
        row = rows.get(c)
        for d, w in (row or {c: 1.0}).items():
            if d in index:
                m[index[c], index[d]] = w
        if m[index[c]].sum() == 0:
            m[index[c], index[c]] = 1.0
        m[index[c]] /= m[index[c]].sum()
    return m


def _vector(values: Mapping[str, float], channels: list[str]) -> np.ndarray:
    return np.array([float(values.get(c, 0.0)) for c in channels])


def _process(regime: str) -> _Process:
    """The parameters of a structural regime: the constants above, changed as
    docs/synthetic.md describes for each regime."""
    channels = list(_FUNNEL)
    rows = {c: dict(r) for c, r in _FUNNEL_ROWS.items()}
    effect = dict(_EFFECT)
    lift = _LIFT
    drop_scale, fatigue, onset, max_touches = 1.0, 0.02, 5, 30
    gap = {c: _GAP_DAYS[_CHANNELS[c][1]] for c in _CHANNELS}
    retarget = (0.0, 0.0)  # weight of retargeting in every row, per class (high, low)
    loop = False
    if regime == "short":
        drop_scale, max_touches = 1.8, 8
        effect = {c: 1.5 * e for c, e in effect.items()}
    elif regime == "long":
        drop_scale, fatigue, onset, max_touches = 0.35, 0.005, 10, 60
        effect = {c: 0.5 * e for c, e in effect.items()}
        lift = 0.5 * _LIFT
    elif regime == "retargeting":
        channels.insert(5, "retargeting")
        retarget = (0.8, 0.03)
    elif regime == "sales_followup":
        rows["demo"] = {"sdr_call": 0.05, "demo": 0.05, "sales_email": 0.90}
        rows["sales_email"] = {"demo": 0.30, "sales_email": 0.65, "sdr_call": 0.05}
        rows["webinar"] = {"email": 0.10, "sdr_call": 0.30, "demo": 0.60}
        effect.update(sdr_call=0.04, demo=0.12, sales_email=0.10)
        gap["sales_email"] = 0.5
    elif regime == "loyalty":
        channels += ["onboarding", "nurture_email", "account_review"]
        loop = True
    classes = ("high", "low")
    share = np.array([0.25, 0.75])
    response = np.array([3.0, 0.6])
    drop_factor = np.array([0.7, 1.0])
    c_count = len(channels)

    trans = np.empty((2, c_count, c_count))
    for k in range(2):
        rk = {c: dict(r) for c, r in rows.items()}
        if "retargeting" in channels:
            for r in rk.values():
                r["retargeting"] = retarget[k]
        trans[k] = _matrix(rk, channels)
    first_touch = _vector(_FIRST_TOUCH, channels)
    start = np.tile(first_touch / first_touch.sum(), (2, 1))
    stage_drop = np.array([_DROP[_CHANNELS[c][1]] for c in channels]) * drop_scale
    drop = np.minimum(drop_factor[:, None] * stage_drop[None, :], 1.0)
    gaps = _vector(gap, channels)
    first = _Segment(start, trans, drop, _vector(effect, channels), _vector(_WARM, channels), gaps,
                     max_touches, onset, fatigue, lift, _LEVELS)  # fmt: skip
    repeat = None
    if loop:
        after = _vector(_AFTER_PURCHASE, channels)
        loop_trans = _matrix(_LOOP_ROWS, channels)
        repeat = _Segment(
            np.tile(after, (2, 1)),
            np.stack([loop_trans, loop_trans]),
            drop,
            _vector(_REPEAT_EFFECT, channels),
            _vector(_REPEAT_WARM, channels),
            gaps,
            max_touches,
            onset,
            fatigue,
            _LIFT,
            _LEVELS,
        )
    return _Process(
        channels=channels,
        class_names=classes,
        class_share=share,
        response=response,
        first=first,
        repeat=repeat,
        max_purchases=6 if loop else 1,
        first_median=np.array([20_000.0, 8_000.0]),
        repeat_median=np.array([8_000.0, 3_000.0]),
        value_sigma=0.5,
    )


# ---------------------------------------------------------------------------
# Exact expectations


def _segment_probability(segment: _Segment, hazard: np.ndarray, on: np.ndarray) -> np.ndarray:
    """(S, K): the probability that a segment ends in a purchase, for S on/off
    masks (S, C) and their hazards (S, K, C, L), by propagating the
    distribution of (class, channel, interest level) touch by touch up to
    ``max_touches``."""
    s_count, k_count = hazard.shape[:2]
    warm = (segment.warm[None, :] * on)[:, None, :]  # (S, 1, C)
    dist = np.zeros(hazard.shape)
    dist[..., 0] = segment.start[None]
    total = np.zeros((s_count, k_count))
    for n in range(1, segment.max_touches + 1):
        # the touch raises the interest level (capped at the highest level)
        raised = dist * warm[..., None]
        dist = dist - raised
        dist[..., 1:] += raised[..., :-1]
        dist[..., -1] += raised[..., -1]
        total += (dist * hazard).sum(axis=(2, 3))
        if n == segment.max_touches:
            break
        drop = np.minimum(segment.drop + segment.fatigue * max(0, n - segment.fatigue_onset), 1.0)
        stay = dist * (1.0 - hazard) * (1.0 - drop)[None, :, :, None]
        dist = np.einsum("skcl,kcd->skdl", stay, segment.transitions)
        if not dist.any():
            break
    return total


def _expectations(process: _Process, on: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per customer, for S on/off masks (S, C): expected purchases, first
    purchases and value, each of shape (S,)."""
    h1 = _segment_probability(process.first, process.hazards(process.first, on), on)
    v1 = process.mean_value(process.first_median)
    if process.repeat is None:
        first = h1 @ process.class_share
        return first, first, (h1 * v1) @ process.class_share
    r = _segment_probability(process.repeat, process.hazards(process.repeat, on), on)
    more = np.zeros_like(r)  # expected repeat purchases per buyer
    for j in range(1, process.max_purchases):
        more += r**j
    v2 = process.mean_value(process.repeat_median)
    purchases = (h1 * (1.0 + more)) @ process.class_share
    value = (h1 * (v1 + v2 * more)) @ process.class_share
    return purchases, h1 @ process.class_share, value


def _shapley(v: np.ndarray, players: int) -> np.ndarray:
    """Exact Shapley values from v over all 2**players coalitions (bit i of the
    index: player i is in)."""
    masks = np.arange(1 << players)
    sizes = np.array([bin(m).count("1") for m in masks])
    fact = [math.factorial(i) for i in range(players + 1)]
    weight = np.array([fact[s] * fact[players - s - 1] / fact[players] if s < players else 0.0
                       for s in sizes])  # fmt: skip
    phi = np.zeros(players)
    for i in range(players):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = float(np.sum(weight[without] * (v[without | (1 << i)] - v[without])))
    return phi


def _exact_truth(
    process: _Process, n: int, teams: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    channels = process.channels
    c_count = len(channels)
    team_names = list(dict.fromkeys(teams[c] for c in channels))
    masks = np.arange(1 << c_count)
    on_all = ((masks[:, None] >> np.arange(c_count)[None, :]) & 1).astype(float)
    purchases, first, value = _expectations(process, on_all)
    full = (1 << c_count) - 1
    off_one = [full & ~(1 << i) for i in range(c_count)]
    team_bits = [sum(1 << i for i, c in enumerate(channels) if teams[c] == t) for t in team_names]
    rows = []
    shap_p = _shapley(purchases, c_count)
    shap_v = _shapley(value, c_count)
    for i, c in enumerate(channels):
        m = off_one[i]
        rows.append(_truth_row(c, n, purchases, first, value, full, m) | {
            "shapley_conversions": n * shap_p[i], "shapley_value": n * shap_v[i]})  # fmt: skip
    team_v = np.array([[purchases[_team_mask(s, team_bits)], value[_team_mask(s, team_bits)]]
                       for s in range(1 << len(team_names))])  # fmt: skip
    t_shap_p = _shapley(team_v[:, 0], len(team_names))
    t_shap_v = _shapley(team_v[:, 1], len(team_names))
    team_rows = []
    for j, t in enumerate(team_names):
        m = full & ~team_bits[j]
        team_rows.append(_truth_row(t, n, purchases, first, value, full, m) | {
            "shapley_conversions": n * t_shap_p[j], "shapley_value": n * t_shap_v[j]})  # fmt: skip
    expected = {
        "conversions": n * float(purchases[full]),
        "first_conversions": n * float(first[full]),
        "value": n * float(value[full]),
        "conversions_all_off": n * float(purchases[0]),
        "value_all_off": n * float(value[0]),
    }
    return _truth_frame(rows, "channel"), _truth_frame(team_rows, "team"), expected


def _team_mask(coalition: int, team_bits: list[int]) -> int:
    return sum(bits for j, bits in enumerate(team_bits) if coalition >> j & 1)


def _truth_row(
    name: str,
    n: int,
    purchases: np.ndarray,
    first: np.ndarray,
    value: np.ndarray,
    full: int,
    off: int,
) -> dict[str, Any]:
    conversions = n * float(purchases[full] - purchases[off])
    first_drop = n * float(first[full] - first[off])
    return {
        "name": name,
        "conversions": conversions,
        "value": n * float(value[full] - value[off]),
        "first_conversions": first_drop,
        "repeat_conversions": conversions - first_drop,
        "conversions_se": 0.0,
        "value_se": 0.0,
    }


def _truth_frame(rows: list[dict[str, Any]], key: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows).rename(columns={"name": key})
    total = frame["conversions"].sum()
    share = frame["conversions"] / total if total > 0 else frame["conversions"] * 0.0
    frame.insert(3, "share", share)
    return frame


# ---------------------------------------------------------------------------
# Simulation


def _categorical(rng: np.random.Generator, cum: np.ndarray) -> np.ndarray:
    """One draw per row of a cumulative probability matrix; the row's last
    column + 1 when the draw falls beyond the row's total (no choice)."""
    u = np.asarray(rng.random(cum.shape[0]), dtype=float)
    return np.asarray((u[:, None] >= cum).sum(axis=1))


def _run_segment(
    rng: np.random.Generator,
    process: _Process,
    segment: _Segment,
    cls: np.ndarray,
    t0: np.ndarray,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Simulate one segment for m customers (their classes and start times, in
    days). Returns the touches (position among the m, time, channel, purchase
    flag) as four arrays, and per customer whether it purchased and when."""
    m = cls.shape[0]
    hazard = process.hazards(segment, np.ones((1, len(process.channels))))[0]  # (K, C, L)
    start_cum = np.cumsum(segment.start, axis=1)
    trans_cum = np.cumsum(segment.transitions, axis=2)
    trans_cum[:, :, -1] = 1.0  # rounding: a draw never falls beyond a full row
    chan = _categorical(rng, start_cum[cls])
    alive = np.flatnonzero(chan < len(process.channels))
    chan = chan[alive]
    time = t0[alive] + _gap(rng, segment, chan)
    level = np.zeros(alive.size, dtype=np.int64)
    bought = np.zeros(m, dtype=bool)
    bought_at = np.zeros(m)
    out: list[list[np.ndarray]] = [[], [], [], []]
    for n in range(1, segment.max_touches + 1):
        if alive.size == 0:
            break
        k = cls[alive]
        warmed = rng.random(alive.size) < segment.warm[chan]
        level = np.minimum(level + warmed, segment.levels)
        buys = rng.random(alive.size) < hazard[k, chan, level]
        for part, arr in zip(out, (alive, time, chan, buys)):
            part.append(arr)
        bought[alive[buys]] = True
        bought_at[alive[buys]] = time[buys]
        if n == segment.max_touches:
            break
        rest = ~buys
        alive, chan, time, k, level = alive[rest], chan[rest], time[rest], k[rest], level[rest]
        fatigue = segment.fatigue * max(0, n - segment.fatigue_onset)
        stays = rng.random(alive.size) >= np.minimum(segment.drop[k, chan] + fatigue, 1.0)
        alive, chan, time, k, level = alive[stays], chan[stays], time[stays], k[stays], level[stays]
        chan = _categorical(rng, trans_cum[k, chan])
        time = time + _gap(rng, segment, chan)
    touches = [np.concatenate(p) if p else np.empty(0) for p in out]
    return touches, bought, bought_at


def _gap(rng: np.random.Generator, segment: _Segment, chan: np.ndarray) -> np.ndarray:
    draws: np.ndarray = rng.exponential(1.0, chan.size)
    return np.asarray(_MIN_GAP_DAYS + draws * segment.gap_days[chan])


def _simulate(process: _Process, n: int, seed: int) -> pd.DataFrame:
    """The event log of n customers: customer, time, channel, conversion, value."""
    rng = np.random.Generator(np.random.PCG64(seed))
    cls = _categorical(rng, np.tile(np.cumsum(process.class_share), (n, 1)))
    cls = np.minimum(cls, len(process.class_share) - 1)
    t0 = rng.random(n) * _WINDOW_DAYS
    ids = np.arange(n)
    parts: list[tuple[np.ndarray, ...]] = []
    segment: _Segment | None = process.first
    medians = process.first_median
    for _purchase in range(process.max_purchases):
        if segment is None or ids.size == 0:
            break
        (pos, time, chan, buys), bought, bought_at = _run_segment(
            rng, process, segment, cls[ids], t0
        )
        pos = pos.astype(np.int64)
        chan = chan.astype(np.int64)
        buys = buys.astype(bool)
        value = np.full(pos.size, np.nan)
        k = cls[ids[pos[buys]]]
        value[buys] = np.round(rng.lognormal(np.log(medians[k]), process.value_sigma), 2)
        parts.append((ids[pos], time, chan, buys, value))
        ids, t0 = ids[bought], bought_at[bought]
        segment, medians = process.repeat, process.repeat_median
    customer = np.concatenate([p[0] for p in parts])
    days = np.concatenate([p[1] for p in parts])
    seconds = np.floor(days * 86_400.0).astype(np.int64)
    frame = pd.DataFrame(
        {
            "customer": customer,
            "time": _START_DATE + seconds.astype("timedelta64[s]"),
            "channel": np.array(process.channels, dtype=object)[
                np.concatenate([p[2] for p in parts])
            ],
            "conversion": np.concatenate([p[3] for p in parts]),
            "value": np.concatenate([p[4] for p in parts]),
        }
    )
    frame = frame.sort_values(["customer", "time"], kind="stable", ignore_index=True)
    frame["time"] = frame["time"].astype("datetime64[ns]")
    return frame


# ---------------------------------------------------------------------------
# Path tables from an event log


def _joined(tokens: np.ndarray, group_start: np.ndarray) -> list[str]:
    """The tokens of each group (consecutive rows from each start) joined by the separator."""
    bounds = [*group_start.tolist(), len(tokens)]
    items = tokens.tolist()
    return [SEPARATOR.join(items[a:b]) for a, b in itertools.pairwise(bounds)]


def _paths(events: pd.DataFrame) -> pd.DataFrame:
    """The funnel path table of an event log sorted by customer and time, cut as
    ``Journeys.from_events`` cuts it (a conversion row ends its journey)."""
    conv = events["conversion"].to_numpy(dtype=bool)
    customer = events["customer"].to_numpy()
    new_customer = np.r_[True, customer[1:] != customer[:-1]]
    after_conv = np.r_[False, conv[:-1]]
    starts = np.flatnonzero(new_customer | after_conv)
    value = np.where(conv, events["value"].fillna(0.0).to_numpy(), 0.0)
    converted = np.add.reduceat(conv.astype(np.int64), starts) if starts.size else np.empty(0)
    per = pd.DataFrame(
        {
            "path": _joined(events["channel"].to_numpy(dtype=object), starts),
            "conversions": converted,
            "nulls": 1 - converted,
            "value": np.add.reduceat(value, starts) if starts.size else np.empty(0),
        }
    )
    table = per.groupby("path", sort=False).sum()
    return _sorted(table.reset_index(), ["conversions", "nulls"], "path")


def _histories(events: pd.DataFrame) -> pd.DataFrame:
    """The loop history table (history, customers, value) of an event log."""
    conv = events["conversion"].to_numpy(dtype=bool)
    token = events["channel"].to_numpy(dtype=object).copy()
    token[conv] = token[conv] + SEPARATOR + PURCHASE
    customer = events["customer"].to_numpy()
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    value = np.where(conv, events["value"].fillna(0.0).to_numpy(), 0.0)
    per = pd.DataFrame(
        {
            "history": _joined(token, starts),
            "customers": np.ones(starts.size, dtype=np.int64),
            "value": np.add.reduceat(value, starts) if starts.size else np.empty(0),
        }
    )
    table = per.groupby("history", sort=False).sum()
    return _sorted(table.reset_index(), ["customers"], "history")


def _sorted(table: pd.DataFrame, counts: list[str], key: str) -> pd.DataFrame:
    for c in counts:
        table[c] = table[c].astype("int64")
    table["value"] = table["value"].round(2)
    order = np.lexsort((table[key].to_numpy(), -table[counts].sum(axis=1).to_numpy()))
    return table.iloc[order].reset_index(drop=True)


# ---------------------------------------------------------------------------
# The public result and generator


@dataclass
class Synthetic:
    """Synthetic journeys and their ground truth (returned by :func:`generate`).

    Attributes
    ----------
    regime, seed, n_customers
        How it was generated.
    events
        The event log: ``customer`` (int64), ``time`` (datetime64), ``channel``
        (str), ``conversion`` (bool: the touch after which the customer
        purchased) and ``value`` (the purchase's value, NaN on other rows),
        sorted by customer and time; the columns ``Journeys.from_events``
        takes (``conversion="conversion", value="value"``).
    paths
        The funnel path table ``path, conversions, nulls, value``: the journeys
        of the event log as ``Journeys.from_events`` cuts them (a purchase ends
        a journey), aggregated by path.
    histories
        The loop table ``history, customers, value``: each customer's whole
        history with a ``purchase`` token after each purchase.
    teams, stages
        ``{channel: team}`` and ``{channel: stage}``.
    truth
        One row per channel: ``channel``, ``conversions`` and ``value`` (the
        expected drop in conversions and value, over ``n_customers``
        customers, when the channel alone is switched off), ``share``
        (``conversions`` over their sum), ``first_conversions`` and
        ``repeat_conversions`` (the drop split between first and repeat
        purchases), ``conversions_se`` and ``value_se`` (0 where exact; the
        standard error of the common-random-numbers estimate otherwise), and
        ``shapley_conversions`` and ``shapley_value`` (the channel's exact
        Shapley value of the process; NaN where not computed).
    team_truth
        The same per team (a team switched off: all its channels at once).
    expected
        Exact expected totals over ``n_customers`` customers: ``conversions``,
        ``first_conversions``, ``value``, and ``conversions_all_off``,
        ``value_all_off`` with every channel switched off.
    """

    regime: str
    seed: int
    n_customers: int
    events: pd.DataFrame
    paths: pd.DataFrame
    histories: pd.DataFrame
    teams: dict[str, str]
    stages: dict[str, str]
    truth: pd.DataFrame
    team_truth: pd.DataFrame
    expected: dict[str, float] = field(default_factory=dict)

    @property
    def channels(self) -> pd.DataFrame:
        """``channel, team, stage`` of every channel (for ``with_channels``)."""
        return pd.DataFrame(
            {
                "channel": list(self.teams),
                "team": list(self.teams.values()),
                "stage": [self.stages[c] for c in self.teams],
            }
        )

    def journeys(self) -> Journeys:
        """The event log as funnel :class:`~journeyloop.Journeys`, with the
        channels' teams and stages."""
        from ._journeys import Journeys

        return Journeys.from_events(
            self.events, conversion="conversion", value="value", channels=self.channels
        )

    def loop_histories(self) -> Histories:
        """The event log as loop :class:`~journeyloop.Histories`, with the
        channels' teams and stages."""
        from ._journeys import Histories

        return Histories.from_events(
            self.events, conversion="conversion", value="value", channels=self.channels
        )

    def __repr__(self) -> str:
        return (
            f"Synthetic(regime={self.regime!r}, seed={self.seed}, customers={self.n_customers}, "
            f"events={len(self.events)}, conversions={int(self.events['conversion'].sum())})"
        )


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        msg = f"{name} must be a positive integer, got {value!r}"
        raise InvalidInputError(msg)
    return int(value)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        msg = f"seed must be a non-negative integer, got {seed!r}"
        raise InvalidInputError(msg)
    return int(seed)


def _check_probability(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        msg = f"{name} must be a probability in [0, 1], got {value!r}"
        raise InvalidInputError(msg)
    p = float(value)
    if not 0.0 <= p <= 1.0:  # NaN fails too
        msg = f"{name} must be a probability in [0, 1], got {value!r}"
        raise InvalidInputError(msg)
    return p


def generate(
    n_customers: int,
    *,
    regime: str = "short",
    seed: int = 0,
    effects: Mapping[str, float] | None = None,
    repeat_effects: Mapping[str, float] | None = None,
    warming: Mapping[str, float] | None = None,
    truth: bool = True,
) -> Synthetic:
    """Synthetic customer journeys whose true channel effects are known.

    Parameters
    ----------
    n_customers
        Number of customers (each opens one journey; in the ``"loyalty"``
        regime a buyer may purchase again, up to 6 purchases).
    regime
        ``"short"`` (few touches, high drop-out), ``"long"`` (many touches,
        up to 60), ``"retargeting"`` (a ``retargeting`` channel with no effect,
        shown mostly to high-propensity customers), ``"sales_followup"``
        (sales follows every demo, with strong sales effects),
        ``"loyalty"`` (repeat purchases driven by onboarding, nurturing and
        account reviews), ``"b2b"`` (the process of the bundled B2B sample's
        journeys) or ``"b2b_loop"`` (of its customer histories).
    seed
        Seed of ``numpy.random.Generator(PCG64(seed))``: the same seed gives
        the same data.
    effects, repeat_effects
        Immediate effects replacing the regime's, ``{channel: probability}``,
        for the first purchase and (loyalty regime) repeat purchases. Not for
        ``"b2b"``.
    warming
        ``{channel: probability}`` that a touch raises the interest level,
        replacing the regime's (in the first-purchase journey and in the
        loyalty loop). A channel with effect 0 and warming 0 has no effect.
    truth
        Compute the ground truth (for ``"b2b"`` and ``"b2b_loop"`` a
        re-simulation of every customer once per channel and per combination
        of teams; False leaves ``truth`` empty).

    Returns
    -------
    Synthetic
        The event log, the path tables, the team and stage maps, the ground
        truth and the exact expected totals.

    Raises
    ------
    InvalidInputError
        For a bad count, seed or regime, an unknown channel in ``effects``, or
        an effect outside [0, 1].

    Examples
    --------
    >>> import journeyloop as jl
    >>> data = jl.synthetic.generate(2_000, regime="retargeting", seed=1)
    >>> float(data.truth.set_index("channel").loc["retargeting", "conversions"])
    0.0
    >>> list(data.events.columns)
    ['customer', 'time', 'channel', 'conversion', 'value']
    """
    n = _check_count(n_customers, "n_customers")
    seed = _check_seed(seed)
    if not isinstance(regime, str) or regime not in REGIMES:
        msg = f"unknown regime {regime!r} (available: {', '.join(REGIMES)})"
        raise InvalidInputError(msg)
    if regime in ("b2b", "b2b_loop"):
        if effects is not None or repeat_effects is not None or warming is not None:
            msg = f"effects, repeat_effects and warming do not apply to regime={regime!r}"
            raise InvalidInputError(msg)
        return _b2b(n, seed, truth, loop=regime == "b2b_loop")
    process = _process(regime)
    process = _with_effects(process, effects, "effects", "effect", repeat=False)
    process = _with_effects(process, repeat_effects, "repeat_effects", "effect", repeat=True)
    process = _with_effects(process, warming, "warming", "warm", repeat=False)
    if process.repeat is not None:
        process = _with_effects(process, warming, "warming", "warm", repeat=True)
    events = _simulate(process, n, seed)
    teams = {c: _CHANNELS[c][0] for c in process.channels}
    stages = {c: _CHANNELS[c][1] for c in process.channels}
    if truth:
        channel_truth, team_truth, expected = _exact_truth(process, n, teams)
    else:
        channel_truth, team_truth, expected = pd.DataFrame(), pd.DataFrame(), {}
    return Synthetic(regime, seed, n, events, _paths(events), _histories(events), teams, stages,
                     channel_truth, team_truth, expected)  # fmt: skip


def _with_effects(
    process: _Process,
    effects: Mapping[str, float] | None,
    name: str,
    attribute: str,
    *,
    repeat: bool,
) -> _Process:
    if effects is None:
        return process
    if not isinstance(effects, Mapping):
        msg = f"{name} must be a mapping {{channel: probability}}, got {type(effects).__name__}"
        raise InvalidInputError(msg)
    segment = process.repeat if repeat else process.first
    if segment is None:
        msg = f'{name} applies to regime="loyalty" only (the regimes with repeat purchases)'
        raise InvalidInputError(msg)
    effect = getattr(segment, attribute).copy()
    for channel, value in effects.items():
        if channel not in process.channels:
            msg = (
                f"{name}: unknown channel {channel!r} (channels of this regime: "
                f"{', '.join(process.channels)})"
            )
            raise InvalidInputError(msg)
        effect[process.channels.index(channel)] = _check_probability(value, f"{name}[{channel!r}]")
    changed = _Segment(**{**segment.__dict__, attribute: effect})
    if repeat:
        return _Process(**{**process.__dict__, "repeat": changed})
    return _Process(**{**process.__dict__, "first": changed})


# ---------------------------------------------------------------------------
# The bundled B2B sample's process


def _b2b(n: int, seed: int, truth: bool, loop: bool) -> Synthetic:
    """The bundled sample's process: its journeys (``loop=False``, the stream
    of ``load_b2b_paths``) or its customer histories (``loop=True``, the
    stream of ``load_b2b_histories``), as an event log."""
    from .datasets import _generate_b2b as b2b

    rng = random.Random(seed)
    tokens: list[str] = []
    lengths: list[int] = []
    flags: list[bool] = []
    values: list[float] = []
    for _ in range(n):
        if loop:
            cents: list[int] = []
            history, _total = b2b.simulate_history(rng, purchase_cents=cents)
        else:
            path, converted, deal = b2b.simulate_journey(rng)
            history, cents = ([*path, PURCHASE], [deal]) if converted else (path, [])
        paid = iter(cents)
        touches = 0
        for token in history:
            if token == PURCHASE:  # the touch before a purchase is its conversion row
                flags[-1] = True
                values[-1] = next(paid) / 100
            else:
                tokens.append(token)
                flags.append(False)
                values.append(math.nan)
                touches += 1
        lengths.append(touches)
    sizes = np.array(lengths, dtype=np.int64)
    customer = np.repeat(np.arange(n, dtype=np.int64), sizes)
    # The sample has no times: touches are placed in time from a stream of their own.
    g = np.random.Generator(np.random.PCG64(seed))
    t0 = np.repeat(g.random(n) * _WINDOW_DAYS, sizes)
    gaps = _MIN_GAP_DAYS + g.exponential(2.0, customer.size)
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    cum = np.cumsum(gaps)
    days = t0 + cum - np.repeat(cum[first], sizes)
    events = pd.DataFrame(
        {
            "customer": customer,
            "time": _START_DATE + np.floor(days * 86_400).astype(np.int64).astype("m8[s]"),
            "channel": np.array(tokens, dtype=object),
            "conversion": np.array(flags, dtype=bool),
            "value": np.array(values, dtype=float),
        }
    )
    events["time"] = events["time"].astype("datetime64[ns]")
    meta = {**b2b.CHANNELS, **b2b.LOOP_CHANNELS} if loop else b2b.CHANNELS
    teams = {c: t for c, (t, _) in meta.items()}
    stages = {c: st for c, (_, st) in meta.items()}
    if truth:
        channel_truth, team_truth, expected = _b2b_truth(n, seed, teams, loop)
    else:
        channel_truth, team_truth, expected = pd.DataFrame(), pd.DataFrame(), {}
    regime = "b2b_loop" if loop else "b2b"
    return Synthetic(regime, seed, n, events, _paths(events), _histories(events), teams, stages,
                     channel_truth, team_truth, expected)  # fmt: skip


def _b2b_truth(
    n: int, seed: int, teams: Mapping[str, str], loop: bool
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Common random numbers: customer j is simulated from ``Random(f"{seed}:{j}")``
    with everything on, with each channel switched off and with every
    combination of teams switched off; the truth is the mean paired drop, with
    its standard error."""
    from .datasets import _generate_b2b as b2b

    def run(rng: random.Random, off: frozenset[str]) -> tuple[int, int, int]:
        """Purchases, first purchase (0 or 1) and value in cents."""
        if loop:
            cents: list[int] = []
            _, total = b2b.simulate_history(rng, off, cents)
            return len(cents), int(bool(cents)), total
        _, converted, deal = b2b.simulate_journey(rng, off)
        return int(converted), int(converted), deal

    team_names = list(dict.fromkeys(teams.values()))
    settings: dict[str, frozenset[str]] = {f"channel:{c}": frozenset([c]) for c in teams}
    for mask in range(1 << len(team_names)):  # bit i: team i on
        settings[f"teams:{mask}"] = frozenset(
            c for c in teams if not mask >> team_names.index(teams[c]) & 1
        )
    sims = {k: np.zeros((n, 3)) for k in settings}
    for j in range(n):
        for key, off in settings.items():
            sims[key][j] = run(random.Random(f"{seed}:{j}"), off)
    full = f"teams:{(1 << len(team_names)) - 1}"
    base = sims[full]
    base[:, 2] /= 100
    for key in settings:
        if key != full:
            sims[key][:, 2] /= 100

    def row(name: str, key: str) -> dict[str, Any]:
        drop = base - sims[key]  # purchases, first purchases, value
        se = n * drop.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros(3)
        mean = n * drop.mean(axis=0)
        return {
            "name": name,
            "conversions": float(mean[0]),
            "value": float(mean[2]),
            "first_conversions": float(mean[1]),
            "repeat_conversions": float(mean[0] - mean[1]),
            "conversions_se": float(se[0]),
            "value_se": float(se[2]),
            "shapley_conversions": math.nan,
            "shapley_value": math.nan,
        }

    channels = _truth_frame([row(c, f"channel:{c}") for c in teams], "channel")
    all_teams = (1 << len(team_names)) - 1
    team_frame = _truth_frame(
        [row(t, f"teams:{all_teams & ~(1 << i)}") for i, t in enumerate(team_names)], "team"
    )
    v = np.array([n * sims[f"teams:{m}"].mean(axis=0) for m in range(all_teams + 1)])
    team_frame["shapley_conversions"] = _shapley(v[:, 0], len(team_names))
    team_frame["shapley_value"] = _shapley(v[:, 2], len(team_names))
    none = sims["teams:0"]
    expected = {
        "conversions": n * float(base[:, 0].mean()),
        "first_conversions": n * float(base[:, 1].mean()),
        "value": n * float(base[:, 2].mean()),
        "conversions_all_off": n * float(none[:, 0].mean()),
        "value_all_off": n * float(none[:, 2].mean()),
    }
    return channels, team_frame, expected


# ---------------------------------------------------------------------------
# Data loss


@dataclass
class Degraded:
    """An event log after a data loss, and what was changed.

    Attributes
    ----------
    events
        The degraded event log (the columns of the input, sorted as it was).
    changed
        Counts of what was changed, by name (see each function).
    """

    events: pd.DataFrame
    changed: dict[str, float]

    def __iter__(self) -> Any:  # ``events, changed = drop_touches(...)``
        return iter((self.events, self.changed))


def _check_events(events: Any, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        msg = f"events must be a pandas DataFrame, got {type(events).__name__}"
        raise InvalidInputError(msg)
    missing = [c for c in columns if c not in events.columns]
    if missing:
        names = ", ".join(map(str, events.columns))
        msg = f"events has no column {missing[0]!r} (columns: {names})"
        raise InvalidInputError(msg)
    return events


def _rng(seed: Any) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(_check_seed(seed)))


def split_identities(
    events: pd.DataFrame,
    fraction: float,
    *,
    seed: int = 0,
    customer: str = "customer",
) -> Degraded:
    """Lost identities: a fraction of the customers get a new id after a random
    touch, so that one customer becomes two (as when cookies are cleared or a
    device changes).

    Each customer with at least two rows is chosen with probability
    ``fraction``; a cut is drawn uniformly among the gaps between its rows,
    and its rows after the cut take a new id (integer ids: after the largest
    id; other ids: the id with ``"~split"`` appended).

    Returns
    -------
    Degraded
        ``changed``: ``customers_split`` (customers cut in two) and
        ``rows_moved`` (rows given a new id).

    Examples
    --------
    >>> import journeyloop as jl
    >>> data = jl.synthetic.generate(1_000, seed=3)
    >>> lost = jl.synthetic.split_identities(data.events, 0.2, seed=3)
    >>> lost.events["customer"].nunique() - data.events["customer"].nunique() == (
    ...     lost.changed["customers_split"])
    True
    """
    events = _check_events(events, [customer])
    p = _check_probability(fraction, "fraction")
    rng = _rng(seed)
    ids = events[customer].to_numpy()
    codes, first = pd.factorize(ids, sort=False)
    counts = np.bincount(codes, minlength=len(first))
    chosen = (rng.random(len(first)) < p) & (counts >= 2)
    cut = np.zeros(len(first), dtype=np.int64)
    cut[chosen] = 1 + np.floor(rng.random(int(chosen.sum())) * (counts[chosen] - 1)).astype(
        np.int64
    )
    rank = pd.Series(codes).groupby(codes).cumcount().to_numpy()  # position within customer
    moved = chosen[codes] & (rank >= cut[codes])
    out = events.copy()
    new_ids: Any
    if np.issubdtype(ids.dtype, np.integer):
        base = int(ids.max()) + 1 if ids.size else 0
        new_code = np.cumsum(chosen) - 1
        new_ids = ids.copy()
        new_ids[moved] = base + new_code[codes[moved]]
    else:
        new_ids = ids.astype(object).copy()
        new_ids[moved] = [f"{v}~split" for v in ids[moved]]
    out[customer] = new_ids
    return Degraded(out, {"customers_split": int(chosen.sum()), "rows_moved": int(moved.sum())})


def drop_touches(
    events: pd.DataFrame,
    probability: float,
    *,
    seed: int = 0,
    conversion: str = "conversion",
) -> Degraded:
    """Lost touches: each touch row (not a conversion row) is dropped with the
    given probability, independently.

    Returns
    -------
    Degraded
        ``changed``: ``touches_dropped``.

    Examples
    --------
    >>> import journeyloop as jl
    >>> data = jl.synthetic.generate(1_000, seed=3)
    >>> lost = jl.synthetic.drop_touches(data.events, 0.1, seed=3)
    >>> len(data.events) - len(lost.events) == lost.changed["touches_dropped"]
    True
    """
    events = _check_events(events, [conversion])
    p = _check_probability(probability, "probability")
    rng = _rng(seed)
    touch = ~events[conversion].to_numpy(dtype=bool)
    dropped = touch & (rng.random(len(events)) < p)
    out = events.loc[~dropped].reset_index(drop=True)
    return Degraded(out, {"touches_dropped": int(dropped.sum())})


def drop_conversions(
    events: pd.DataFrame,
    probability: float,
    *,
    seed: int = 0,
    conversion: str = "conversion",
    value: str | None = "value",
) -> Degraded:
    """Lost conversions: each conversion is lost with the given probability
    (the sale is not joined to the journey); its row stays as a plain touch,
    with no value.

    Returns
    -------
    Degraded
        ``changed``: ``conversions_dropped`` and ``value_dropped``.

    Examples
    --------
    >>> import journeyloop as jl
    >>> data = jl.synthetic.generate(1_000, seed=3)
    >>> lost = jl.synthetic.drop_conversions(data.events, 0.5, seed=3)
    >>> int(data.events["conversion"].sum() - lost.events["conversion"].sum()) == (
    ...     lost.changed["conversions_dropped"])
    True
    """
    events = _check_events(events, [conversion] + ([value] if value is not None else []))
    p = _check_probability(probability, "probability")
    rng = _rng(seed)
    conv = events[conversion].to_numpy(dtype=bool)
    lost = conv & (rng.random(len(events)) < p)
    out = events.copy()
    out[conversion] = conv & ~lost
    lost_value = 0.0
    if value is not None:
        lost_value = float(np.nansum(out.loc[lost, value].to_numpy(dtype=float)))
        out.loc[lost, value] = np.nan
    return Degraded(out, {"conversions_dropped": int(lost.sum()), "value_dropped": lost_value})


def stop_tracking(
    events: pd.DataFrame,
    channel: str,
    after: Any,
    *,
    channel_column: str = "channel",
    time: str = "time",
    conversion: str = "conversion",
) -> Degraded:
    """A channel that stops being tracked: from time ``after`` on, its touch
    rows are gone; a conversion row of that channel keeps its conversion (the
    sale is recorded elsewhere) but loses its channel, so the conversion is
    credited to the touches before it.

    Returns
    -------
    Degraded
        ``changed``: ``touches_dropped`` and ``conversions_untracked`` (the
        conversion rows whose channel was removed).

    Examples
    --------
    >>> import journeyloop as jl
    >>> data = jl.synthetic.generate(1_000, seed=3)
    >>> lost = jl.synthetic.stop_tracking(data.events, "email", "2025-02-01")
    >>> sorted(lost.changed)
    ['conversions_untracked', 'touches_dropped']
    """
    events = _check_events(events, [channel_column, time, conversion])
    if not isinstance(channel, str):
        msg = f"channel must be a channel name, got {channel!r}"
        raise InvalidInputError(msg)
    channels = events[channel_column]
    if not (channels == channel).any():
        msg = f"stop_tracking: unknown channel {channel!r} (not in the events' {channel_column!r})"
        raise InvalidInputError(msg)
    times = events[time]
    try:
        cutoff = pd.Timestamp(after) if pd.api.types.is_datetime64_any_dtype(times) else after
        late = (times >= cutoff).to_numpy()
    except (TypeError, ValueError) as err:
        msg = f"stop_tracking: after={after!r} cannot be compared with the column {time!r}"
        raise InvalidInputError(msg) from err
    hit = (channels == channel).to_numpy() & late
    conv = events[conversion].to_numpy(dtype=bool)
    out = events.loc[~(hit & ~conv)].copy()
    blank = (hit & conv)[~(hit & ~conv)]
    out.loc[blank, channel_column] = None
    out = out.reset_index(drop=True)
    return Degraded(
        out,
        {"touches_dropped": int((hit & ~conv).sum()), "conversions_untracked": int(blank.sum())},
    )
