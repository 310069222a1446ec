"""Deterministic generator of the synthetic B2B SaaS path table.

Running ``python python/journeyloop/datasets/_generate_b2b.py`` rewrites
``data/b2b_paths.csv.gz`` and ``data/b2b_channels.csv`` next to this file, and
the loop histories ``data/b2b_histories.csv.gz`` with their channel table
``data/b2b_loop_channels.csv`` (see "Loop histories" below).
The output is byte-for-byte identical on every run: only the standard library
is used, every random draw comes from ``random.Random(SEED).random()`` (the
Mersenne Twister stream seeded by an integer, which is stable across Python
versions; the higher-level helpers such as ``choices`` or ``lognormvariate``
are deliberately avoided), categorical draws use an explicit cumulative
search, normal variates an explicit Box-Muller transform, money is
accumulated in integer cents, and the gzip header carries ``mtime=0`` and no
file name.  (The compressed bytes could only differ if a different zlib
release chose a different deflate encoding; the decompressed CSV does not
depend on it.)

Generative model
----------------
Each of ``N_JOURNEYS`` journeys (one per buying account) is simulated as a
small absorbing Markov chain over nine channels plus two absorbing states,
*conversion* and *null* (the journey ends without a deal).  Channels, owners
and funnel stages are

* marketing: ``paid_search``, ``organic_search``, ``paid_social``, ``content``
  (awareness), ``email``, ``webinar`` (consideration);
* sales: ``sdr_call``, ``sales_email``, ``demo`` (evaluation).

1. The first touch is drawn from ``FIRST_TOUCH``: about 93 % of journeys are
   opened by marketing, the rest by outbound SDR calls / sales emails.
2. After every touch the journey

   * converts with a channel-specific hazard (``CONVERT_HAZARD``): near zero
     for marketing touches, small for SDR calls, large for ``demo`` and for a
     ``sales_email`` that follows a demo (the closing follow-up);
   * otherwise drops out (null) with a stage-specific hazard
     (``DROP_HAZARD``) plus a fatigue term that grows linearly after
     ``FATIGUE_ONSET`` touches; the hazard shrinks once sales is engaged;
   * otherwise moves to the next channel drawn from the row of
     ``TRANSITIONS`` for the current channel.  The rows mostly move down the
     funnel (awareness -> email nurture -> webinar -> SDR call -> demo ->
     sales follow-up) with self-loops, so runs such as ``email > email >
     email`` or ``demo > sales_email > sales_email`` are common and
     backward moves are rare.

3. The chain is *not* first order, because the state carries memory of the
   journey so far:

   * a ``demo`` converts about twice as often when a ``webinar`` happened
     earlier, and every repeated demo is less decisive than the previous one
     (``REPEAT_DEMO_FACTOR``);
   * a ``sales_email`` only acts as a closer once a demo has happened;
   * after a webinar, every later transition into ``sdr_call`` or ``demo``
     is boosted (``WEBINAR_TO_SALES_BOOST``);
   * once any sales touch has happened, awareness channels are down-weighted
     in the transitions and the drop hazard is reduced;
   * the drop hazard depends on the number of touches so far (fatigue);
   * a hidden segment: ``ENTERPRISE_SHARE`` of the accounts are enterprise
     buyers with half the drop hazard and much weaker fatigue, which produces
     the long tail of paths (up to ``MAX_LEN`` touches) and larger deals.

4. Journeys are capped at ``MAX_LEN`` touches; a journey that reaches the cap
   without converting ends as a null.
5. Each conversion gets a deal size ``DEAL_MEDIAN * exp(DEAL_SIGMA * z)``
   (lognormal, median 14,000), multiplied by 2.0 for enterprise accounts,
   1.6 when a demo happened and 1.15 when a webinar happened, clipped to
   [5,000, 80,000] and rounded to cents.

Identical channel sequences are aggregated into one row (conversions, nulls
and revenue summed) and rows are sorted by descending ``conversions + nulls``
and then by ``path``.

Loop histories
--------------
``N_CUSTOMERS`` customers (a separate stream, seed ``SEED + 1``) each go
through the acquisition journey above; a customer who buys then enters the
post-purchase loop: after each purchase the next touch is drawn from
``AFTER_PURCHASE`` (``onboarding`` and ``support_ticket`` owned by the service
team, ``nurture_email`` by marketing, ``account_review`` by sales, or END), and
each touch leads on by ``LOOP_TRANSITIONS`` to another touch, a purchase
(renewal or expansion, median ``RENEWAL_MEDIAN``) or END. ``webinar``,
``demo`` and ``sales_email`` may come back: a customer re-entering
evaluation. Histories are aggregated into ``history, customers, value``
(value in currency units, the sum over the customers of the row).
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
import math
import random
from pathlib import Path

SEED = 20240531
N_JOURNEYS = 60_000
MAX_LEN = 25
SEPARATOR = " > "

# channel -> (team, stage); order defines the channel table order.
CHANNELS: dict[str, tuple[str, str]] = {
    "paid_search": ("marketing", "awareness"),
    "organic_search": ("marketing", "awareness"),
    "paid_social": ("marketing", "awareness"),
    "content": ("marketing", "awareness"),
    "email": ("marketing", "consideration"),
    "webinar": ("marketing", "consideration"),
    "sdr_call": ("sales", "evaluation"),
    "sales_email": ("sales", "evaluation"),
    "demo": ("sales", "evaluation"),
}
CHANNEL_NAMES = list(CHANNELS)
AWARENESS = {c for c, (_, s) in CHANNELS.items() if s == "awareness"}
SALES = {c for c, (t, _) in CHANNELS.items() if t == "sales"}

FIRST_TOUCH: dict[str, float] = {
    "paid_search": 0.27,
    "organic_search": 0.25,
    "paid_social": 0.17,
    "content": 0.14,
    "email": 0.07,
    "webinar": 0.03,
    "sdr_call": 0.05,
    "sales_email": 0.02,
    "demo": 0.00,
}

# Row = current channel, columns = next channel (same order as CHANNEL_NAMES).
# Weights are relative; they are renormalised after the memory adjustments.
# fmt: off
TRANSITIONS: dict[str, list[float]] = {
    #                 pse   ose   pso   con   eml   web   sdr   sem   dmo
    "paid_search":    [.30, .00, .00, .10, .45, .00, .15, .00, .00],
    "organic_search": [.00, .25, .00, .30, .45, .00, .00, .00, .00],
    "paid_social":    [.05, .00, .20, .20, .55, .00, .00, .00, .00],
    "content":        [.00, .00, .00, .30, .50, .10, .10, .00, .00],
    "email":          [.00, .00, .00, .02, .63, .10, .25, .00, .00],
    "webinar":        [.00, .00, .00, .00, .15, .00, .50, .00, .35],
    "sdr_call":       [.00, .00, .00, .00, .02, .00, .15, .00, .83],
    "sales_email":    [.00, .00, .00, .00, .00, .00, .02, .93, .05],
    "demo":           [.00, .00, .00, .00, .00, .00, .00, .92, .08],
}
# fmt: on

CONVERT_HAZARD: dict[str, float] = {
    "paid_search": 0.002,
    "organic_search": 0.002,
    "paid_social": 0.001,
    "content": 0.001,
    "email": 0.004,
    "webinar": 0.006,
    "sdr_call": 0.010,
    "sales_email": 0.010,  # replaced by SALES_EMAIL_AFTER_DEMO after a demo
    "demo": 0.040,  # replaced by DEMO_AFTER_WEBINAR after a webinar
}
DEMO_AFTER_WEBINAR = 0.080
REPEAT_DEMO_FACTOR = 0.6
SALES_EMAIL_AFTER_DEMO = 0.050

DROP_HAZARD: dict[str, float] = {
    "awareness": 0.22,
    "consideration": 0.20,
    "evaluation": 0.20,
}
FATIGUE_ONSET = 3
FATIGUE_PER_TOUCH = 0.04
ENTERPRISE_SHARE = 0.02
ENTERPRISE_DROP_FACTOR = 0.5
ENTERPRISE_FATIGUE_FACTOR = 0.3
ENTERPRISE_DEAL_FACTOR = 2.0
SALES_ENGAGED_DROP_FACTOR = 0.85
SALES_ENGAGED_AWARENESS_FACTOR = 0.35
WEBINAR_TO_SALES_BOOST = 1.5  # applies to every step after a webinar

DEAL_MEDIAN = 14_000.0
DEAL_SIGMA = 0.55
DEMO_DEAL_FACTOR = 1.6
WEBINAR_DEAL_FACTOR = 1.15
DEAL_MIN = 5_000.0
DEAL_MAX = 80_000.0


def _cumulative(weights: list[float]) -> list[float]:
    total = 0.0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return out


def _choice(rng: random.Random, names: list[str], weights: list[float]) -> str:
    cum = _cumulative(weights)
    u = rng.random() * cum[-1]
    return names[min(bisect.bisect_right(cum, u), len(names) - 1)]


def _normal(rng: random.Random) -> float:
    # Box-Muller using only rng.random(); 1 - u keeps the log argument > 0.
    u1 = 1.0 - rng.random()
    u2 = rng.random()
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def _deal_cents(rng: random.Random, had_demo: bool, had_webinar: bool, enterprise: bool) -> int:
    size = DEAL_MEDIAN * math.exp(DEAL_SIGMA * _normal(rng))
    if enterprise:
        size *= ENTERPRISE_DEAL_FACTOR
    if had_demo:
        size *= DEMO_DEAL_FACTOR
    if had_webinar:
        size *= WEBINAR_DEAL_FACTOR
    size = min(max(size, DEAL_MIN), DEAL_MAX)
    return round(size * 100)


def simulate_journey(
    rng: random.Random, switched_off: frozenset[str] = frozenset()
) -> tuple[list[str], bool, int]:
    """Simulate one journey; return (channels, converted, revenue in cents).

    A channel in *switched_off* keeps its touches but converts with
    probability 0 (its draw is still made, so the stream stays aligned): the
    counterfactual of ``journeyloop.synthetic``'s ground truth.
    """
    enterprise = rng.random() < ENTERPRISE_SHARE
    first_names = list(FIRST_TOUCH)
    channel = _choice(rng, first_names, [FIRST_TOUCH[c] for c in first_names])
    path: list[str] = []
    had_webinar = had_demo = sales_engaged = False
    n_demos = 0
    while True:
        path.append(channel)
        stage = CHANNELS[channel][1]

        # conversion hazard, with memory
        if channel == "demo":
            p_conv = DEMO_AFTER_WEBINAR if had_webinar else CONVERT_HAZARD["demo"]
            p_conv *= REPEAT_DEMO_FACTOR**n_demos
        elif channel == "sales_email" and had_demo:
            p_conv = SALES_EMAIL_AFTER_DEMO
        else:
            p_conv = CONVERT_HAZARD[channel]
        if channel in switched_off:
            p_conv = 0.0

        # update memory after evaluating this touch's own hazard
        if channel == "webinar":
            had_webinar = True
        if channel == "demo":
            had_demo = True
            n_demos += 1
        if channel in SALES:
            sales_engaged = True

        if rng.random() < p_conv:
            return path, True, _deal_cents(rng, had_demo, had_webinar, enterprise)

        fatigue = FATIGUE_PER_TOUCH * max(0, len(path) - FATIGUE_ONSET)
        if enterprise:
            p_drop = ENTERPRISE_DROP_FACTOR * DROP_HAZARD[stage]
            p_drop += ENTERPRISE_FATIGUE_FACTOR * fatigue
        else:
            p_drop = DROP_HAZARD[stage] + fatigue
        if sales_engaged:
            p_drop *= SALES_ENGAGED_DROP_FACTOR
        if len(path) >= MAX_LEN or rng.random() < p_drop:
            return path, False, 0

        weights = list(TRANSITIONS[channel])
        for i, nxt in enumerate(CHANNEL_NAMES):
            if sales_engaged and nxt in AWARENESS:
                weights[i] *= SALES_ENGAGED_AWARENESS_FACTOR
            if had_webinar and nxt in ("sdr_call", "demo"):
                weights[i] *= WEBINAR_TO_SALES_BOOST
        channel = _choice(rng, CHANNEL_NAMES, weights)


def generate(seed: int = SEED, n_journeys: int = N_JOURNEYS) -> list[tuple[str, int, int, int]]:
    """Return aggregated rows ``(path, conversions, nulls, value_cents)``."""
    rng = random.Random(seed)
    agg: dict[str, list[int]] = {}
    for _ in range(n_journeys):
        path, converted, cents = simulate_journey(rng)
        key = SEPARATOR.join(path)
        row = agg.setdefault(key, [0, 0, 0])
        if converted:
            row[0] += 1
            row[2] += cents
        else:
            row[1] += 1
    rows = [(p, c, n, v) for p, (c, n, v) in agg.items()]
    rows.sort(key=lambda r: (-(r[1] + r[2]), r[0]))
    return rows


# ---------------------------------------------------------------------------
# Loop histories: the same acquisition funnel, then the post-purchase loop.

N_CUSTOMERS = 20_000
MAX_PURCHASES = 8
PURCHASE = "purchase"

# Post-purchase channels: channel -> (team, stage).
LOOP_CHANNELS: dict[str, tuple[str, str]] = {
    "onboarding": ("service", "experience"),
    "support_ticket": ("service", "experience"),
    "nurture_email": ("marketing", "loyalty"),
    "account_review": ("sales", "loyalty"),
}

# After a purchase: the first touch of the next segment (or END).
# fmt: off
AFTER_PURCHASE: dict[str, float] = {
    "onboarding": 0.45, "nurture_email": 0.20, "account_review": 0.10, "END": 0.25,
}
# Row = current channel; columns: next channel, PURCHASE or END.
LOOP_TRANSITIONS: dict[str, dict[str, float]] = {
    "onboarding":     {"support_ticket": .25, "nurture_email": .35, "account_review": .10,
                       "purchase": .05, "END": .25},
    "support_ticket": {"support_ticket": .10, "nurture_email": .20, "account_review": .15,
                       "purchase": .05, "END": .50},
    "nurture_email":  {"nurture_email": .20, "webinar": .10, "account_review": .20,
                       "demo": .05, "purchase": .15, "END": .30},
    "account_review": {"nurture_email": .10, "demo": .15, "sales_email": .10,
                       "purchase": .40, "END": .25},
    # Re-evaluation: back to the sales channels of the funnel.
    "webinar":        {"demo": .35, "nurture_email": .25, "purchase": .10, "END": .30},
    "demo":           {"sales_email": .40, "purchase": .35, "END": .25},
    "sales_email":    {"demo": .10, "purchase": .45, "END": .45},
}
# fmt: on
RENEWAL_MEDIAN = 6_000.0


def simulate_history(
    rng: random.Random,
    switched_off: frozenset[str] = frozenset(),
    purchase_cents: list[int] | None = None,
) -> tuple[list[str], int]:
    """One customer's whole history: the funnel journey, then the loop.

    Returns the tokens (channels and ``purchase``) and the total value in cents.
    A channel in *switched_off* converts with probability 0 in the funnel (see
    :func:`simulate_journey`) and, in the loop, its row's purchase weight is 0
    (the rest of the row carries the customer on); *purchase_cents*, when
    given, receives the value of each purchase in turn.
    """
    path, converted, cents = simulate_journey(rng, switched_off)
    if not converted:
        return path, 0
    if purchase_cents is not None:
        purchase_cents.append(cents)
    tokens = [*path, PURCHASE]
    total = cents
    purchases = 1
    state = PURCHASE
    while purchases < MAX_PURCHASES and len(tokens) < 4 * MAX_LEN:
        if state == PURCHASE:
            names = list(AFTER_PURCHASE)
            state = _choice(rng, names, [AFTER_PURCHASE[c] for c in names])
        else:
            row = LOOP_TRANSITIONS[state]
            names = list(row)
            weights = [row[c] for c in names]
            if state in switched_off and PURCHASE in row:
                weights[names.index(PURCHASE)] = 0.0
            state = _choice(rng, names, weights)
        if state == "END":
            break
        tokens.append(state)
        if state == PURCHASE:
            purchases += 1
            size = RENEWAL_MEDIAN * math.exp(DEAL_SIGMA * _normal(rng))
            renewal = round(min(max(size, 1_000.0), DEAL_MAX) * 100)
            total += renewal
            if purchase_cents is not None:
                purchase_cents.append(renewal)
    return tokens, total


def generate_histories(
    seed: int = SEED + 1, n_customers: int = N_CUSTOMERS
) -> list[tuple[str, int, int]]:
    """Return aggregated rows ``(history, customers, value_cents)``."""
    rng = random.Random(seed)
    agg: dict[str, list[int]] = {}
    for _ in range(n_customers):
        tokens, cents = simulate_history(rng)
        row = agg.setdefault(SEPARATOR.join(tokens), [0, 0])
        row[0] += 1
        row[1] += cents
    rows = [(h, n, v) for h, (n, v) in agg.items()]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows


def _histories_csv(rows: list[tuple[str, int, int]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["history", "customers", "value"])
    for history, customers, cents in rows:
        writer.writerow([history, customers, f"{cents // 100}.{cents % 100:02d}"])
    return buf.getvalue().encode("utf-8")


def _loop_channels_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["channel", "team", "stage"])
    for channel, (team, stage) in {**CHANNELS, **LOOP_CHANNELS}.items():
        writer.writerow([channel, team, stage])
    return buf.getvalue().encode("utf-8")


def _paths_csv(rows: list[tuple[str, int, int, int]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "conversions", "nulls", "value"])
    for path, conv, nulls, cents in rows:
        writer.writerow([path, conv, nulls, f"{cents // 100}.{cents % 100:02d}"])
    return buf.getvalue().encode("utf-8")


def _channels_csv() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["channel", "team", "stage"])
    for channel, (team, stage) in CHANNELS.items():
        writer.writerow([channel, team, stage])
    return buf.getvalue().encode("utf-8")


def write(out_dir: Path) -> None:
    """Write ``b2b_paths.csv.gz`` and ``b2b_channels.csv`` into *out_dir*."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = _paths_csv(generate())
    with open(out_dir / "b2b_paths.csv.gz", "wb") as raw:
        # filename="" and mtime=0 keep the gzip header free of run-specific data
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(payload)
    with open(out_dir / "b2b_channels.csv", "wb") as fh:
        fh.write(_channels_csv())
    with open(out_dir / "b2b_histories.csv.gz", "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(_histories_csv(generate_histories()))
    with open(out_dir / "b2b_loop_channels.csv", "wb") as fh:
        fh.write(_loop_channels_csv())


def main() -> None:
    write(Path(__file__).resolve().parent / "data")


if __name__ == "__main__":
    main()
