"""Deterministic synthetic path tables for the benchmarks.

Model (every random draw comes from numpy ``Generator(PCG64(...))``):

* **Channels.** ``n_channels`` channels named ``ch0``, ``ch1``, ... (zero-padded), in order of
  popularity: a fresh touch picks channel ``c`` (0-based) with probability
  ``pi_c ~ (c + 1) ** -zipf`` (Zipf-like; ``zipf=0`` is uniform).
* **Journeys** are independent. Length ``L ~ Geometric(1 / mean_touches)`` on ``1, 2, ...``
  (mean ``mean_touches``), capped at ``max_touches``. The first touch is a fresh draw from ``pi``;
  each later touch repeats the previous channel with probability ``repeat`` and is otherwise a
  fresh draw from ``pi`` (so ``a > a > b`` occurs, as in real data).
* **Outcome.** Each journey converts with probability
  ``expit(alpha + sum over its touches of beta[c])``, ``beta[c] ~ Normal(0, beta_sd)`` per channel;
  ``alpha`` is set by bisection on a calibration sample so that the expected conversion rate is
  ``conversion_rate``. A converting journey's value is
  ``round(exp(mu[last channel] + 0.8 * Normal(0, 1)), 2)``, ``mu[c] = log(100) + Normal(0, 0.5)``;
  a journey that does not convert has value 0.
* **Aggregation.** Journeys are generated as one deterministic stream (blocks of ``block_size``
  journeys, block ``b`` drawn from ``Generator(PCG64(seed).jumped(b + 1))``; the channel parameters
  and the calibration sample come from ``Generator(PCG64(seed))``). The table is the aggregation
  of the **shortest prefix of that stream that holds exactly ``n_paths`` distinct paths**, one
  row per distinct path in order of first appearance: ``path`` (channels joined by ``" > "``),
  ``total_conversions``, ``total_null`` (journeys without conversion) and
  ``total_conversion_value``. The result depends only on the parameters, the seed and numpy's
  stream definitions (numpy may change ``Generator`` streams between versions; the sidecar
  records totals to check against), not on the machine or on how often the stream had to be
  extended.

Presets (``PRESETS``): ``tiny`` (2,000 paths x 6 channels, smoke tests), ``100k_x12``,
``1m_x20``, ``criteo`` (675 channels, Zipf popularity, mean 2.7 touches, 4 % conversion: about
6M journeys for 1.9M distinct paths, the scale of the Criteo attribution data) and ``data``
(ChannelAttribution's ``Data.csv`` from ``../shared/data``, 10,000 rows kept as given, not
aggregated: 643 path strings occur on more than one row).

Tables are cached as parquet in ``bench/.cache/<preset>-seed<seed>.parquet`` with a JSON
sidecar holding the parameters, the number of journeys, totals, numpy's version and the
generation time.

Usage::

    python bench/generate_paths.py --preset 1m_x20            # generate (or reuse) and describe
    python bench/generate_paths.py --preset criteo --estimate  # expected distinct paths, cheap
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.random import PCG64, Generator

BENCH_DIR = Path(__file__).resolve().parent
# JOURNEYLOOP_BENCH_CACHE moves the cache (the smoke runs of the tests use a temporary folder).
CACHE_DIR = Path(os.environ.get("JOURNEYLOOP_BENCH_CACHE") or BENCH_DIR / ".cache")
DATA_CSV = BENCH_DIR.parent.parent / "shared" / "data" / "channelattribution_pathdata" / "Data.csv"

COLUMNS = ["path", "total_conversions", "total_null", "total_conversion_value"]

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n_paths=2_000, n_channels=6, mean_touches=3.0, conversion_rate=0.05, zipf=1.0),
    "100k_x12": dict(
        n_paths=100_000, n_channels=12, mean_touches=4.0, conversion_rate=0.05, zipf=1.0
    ),
    "1m_x20": dict(
        n_paths=1_000_000, n_channels=20, mean_touches=4.0, conversion_rate=0.05, zipf=1.0
    ),
    "criteo": dict(
        n_paths=1_900_000,
        n_channels=675,
        mean_touches=2.7,
        conversion_rate=0.04,
        zipf=1.0,
        repeat=0.3,
    ),
    "data": dict(csv=str(DATA_CSV)),
}

DEFAULTS: dict[str, Any] = dict(
    mean_touches=4.0,
    conversion_rate=0.05,
    zipf=1.0,
    repeat=0.3,
    max_touches=64,
    beta_sd=0.5,
    block_size=1 << 18,
)


# --------------------------------------------------------------------------- the model


def _channel_names(n_channels: int) -> list[str]:
    width = len(str(n_channels - 1))
    return [f"ch{c:0{width}d}" for c in range(n_channels)]


def _popularity(n_channels: int, zipf: float) -> np.ndarray:
    w = (np.arange(1, n_channels + 1, dtype=np.float64)) ** -float(zipf)
    out: np.ndarray = w / w.sum()
    return out


def _draw_touches(
    rng: Generator,
    n_journeys: int,
    pi: np.ndarray,
    mean_touches: float,
    repeat: float,
    max_touches: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Touch lengths (int64) and flat channel ids (int32) of ``n_journeys`` journeys."""
    lengths = np.minimum(rng.geometric(1.0 / mean_touches, size=n_journeys), max_touches)
    total = int(lengths.sum())
    starts = np.zeros(n_journeys, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    fresh = rng.choice(len(pi), size=total, p=pi).astype(np.int32)
    copies = rng.random(total) < repeat
    copies[starts] = False  # a journey's first touch is always fresh
    # a copied touch takes the channel of the last fresh touch before it (same journey)
    src = np.where(copies, 0, np.arange(total, dtype=np.int64))
    np.maximum.accumulate(src, out=src)
    return lengths, fresh[src]


def _logit_sums(lengths: np.ndarray, channels: np.ndarray, beta: np.ndarray) -> np.ndarray:
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return np.add.reduceat(beta[channels], starts)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class _Model:
    """Channel parameters and the calibrated intercept of one (parameters, seed)."""

    def __init__(self, p: dict[str, Any], seed: int) -> None:
        self.p = p
        rng = Generator(PCG64(seed))
        n = p["n_channels"]
        self.names = _channel_names(n)
        self.pi = _popularity(n, p["zipf"])
        self.beta = rng.normal(0.0, p["beta_sd"], size=n)
        self.mu = math.log(100.0) + rng.normal(0.0, 0.5, size=n)
        lengths, ch = _draw_touches(
            rng, 200_000, self.pi, p["mean_touches"], p["repeat"], p["max_touches"]
        )
        s = _logit_sums(lengths, ch, self.beta)
        lo, hi = -30.0, 30.0
        for _ in range(80):  # bisection: mean conversion probability = conversion_rate
            mid = 0.5 * (lo + hi)
            if _expit(mid + s).mean() < p["conversion_rate"]:
                lo = mid
            else:
                hi = mid
        self.alpha = 0.5 * (lo + hi)
        self.rng = rng
        self.name_array = pa.array(self.names, type=pa.string())

    def block(self, seed: int, b: int) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """Journeys of block ``b``: paths, conversions (0/1), values."""
        p = self.p
        rng = Generator(PCG64(seed).jumped(b + 1))
        n = p["block_size"]
        lengths, ch = _draw_touches(
            rng, n, self.pi, p["mean_touches"], p["repeat"], p["max_touches"]
        )
        prob = _expit(self.alpha + _logit_sums(lengths, ch, self.beta))
        conv = rng.random(n) < prob
        ends = np.cumsum(lengths) - 1
        last = ch[ends]
        value = np.zeros(n)
        k = int(conv.sum())
        value[conv] = np.round(np.exp(self.mu[last[conv]] + 0.8 * rng.standard_normal(k)), 2)
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        tokens = self.name_array.take(pa.array(ch))
        paths = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), tokens), " > ")
        return paths, conv.astype(np.float64), value


def generate(
    n_paths: int,
    n_channels: int,
    seed: int,
    *,
    mean_touches: float = DEFAULTS["mean_touches"],
    conversion_rate: float = DEFAULTS["conversion_rate"],
    zipf: float = DEFAULTS["zipf"],
    repeat: float = DEFAULTS["repeat"],
    max_touches: int = DEFAULTS["max_touches"],
    beta_sd: float = DEFAULTS["beta_sd"],
    block_size: int = DEFAULTS["block_size"],
) -> pd.DataFrame:
    """A path table with exactly ``n_paths`` distinct paths (see the module docstring).

    Returns a DataFrame with columns ``path``, ``total_conversions``, ``total_null`` (int64) and
    ``total_conversion_value`` (float64), one row per distinct path in order of first
    appearance; ``df.attrs["n_journeys"]`` holds the number of journeys aggregated.
    """
    p: dict[str, Any] = dict(
        n_paths=int(n_paths),
        n_channels=int(n_channels),
        mean_touches=float(mean_touches),
        conversion_rate=float(conversion_rate),
        zipf=float(zipf),
        repeat=float(repeat),
        max_touches=int(max_touches),
        beta_sd=float(beta_sd),
        block_size=int(block_size),
    )
    if p["n_paths"] < 1 or p["n_channels"] < 1 or p["mean_touches"] < 1.0:
        raise ValueError("need n_paths >= 1, n_channels >= 1, mean_touches >= 1")
    model = _Model(p, seed)
    # How many blocks to draw first: from the expected number of distinct paths (cheap), so
    # that usually one pass of hashing suffices. This only affects speed, never the result.
    n_est = _journeys_needed(_path_probabilities(model.rng, p, 400_000), p["n_paths"])
    target = max(1, math.ceil(1.005 * n_est / p["block_size"]))
    paths: list[pa.Array] = []
    conv: list[np.ndarray] = []
    value: list[np.ndarray] = []
    while True:
        while len(paths) < target:
            bp, bc, bv = model.block(seed, len(paths))
            paths.append(bp)
            conv.append(bc)
            value.append(bv)
        # dictionary codes are assigned in order of first appearance over the whole stream
        enc = pc.dictionary_encode(pa.chunked_array(paths))
        dictionary = enc.chunk(0).dictionary
        distinct = len(dictionary)
        if distinct >= p["n_paths"]:
            break
        del enc, dictionary
        grow = 1.02 * p["n_paths"] / max(distinct, 1)
        target = max(target + 1, math.ceil(target * min(2.0, grow)))

    codes = np.concatenate([c.indices.to_numpy() for c in enc.chunks])
    first_seen = np.maximum.accumulate(codes)
    if first_seen[0] != 0 or np.any(np.diff(first_seen) > 1):
        raise AssertionError("pyarrow dictionary_encode did not number values by first appearance")
    n = p["n_paths"]
    cut = int(np.searchsorted(first_seen, n - 1)) + 1  # the shortest prefix with n paths
    codes = codes[:cut]
    conversions = np.bincount(codes, weights=np.concatenate(conv)[:cut], minlength=n)
    journeys = np.bincount(codes, minlength=n)
    values = np.bincount(codes, weights=np.concatenate(value)[:cut], minlength=n)
    df = pd.DataFrame(
        {
            "path": dictionary.slice(0, n).to_pandas(),
            "total_conversions": conversions.round().astype(np.int64),
            "total_null": (journeys - conversions.round()).astype(np.int64),
            "total_conversion_value": np.round(values, 2),
        }
    )
    df.attrs["n_journeys"] = cut
    return df


def _path_probabilities(rng: Generator, p: dict[str, Any], sample: int) -> np.ndarray:
    """Exact probabilities of the paths of ``sample`` journeys drawn from the model."""
    pi = _popularity(p["n_channels"], p["zipf"])
    q, rep = 1.0 / p["mean_touches"], p["repeat"]
    lengths, ch = _draw_touches(rng, sample, pi, p["mean_touches"], rep, 10_000)
    starts = np.zeros(sample, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    prev = np.empty_like(ch)
    prev[1:] = ch[:-1]
    touch_p = (1.0 - rep) * pi[ch] + rep * (ch == prev)
    touch_p[starts] = pi[ch[starts]]
    logp = np.add.reduceat(np.log(touch_p), starts) + np.log(q) + (lengths - 1) * math.log1p(-q)
    return np.exp(logp)


def _expected(px: np.ndarray, n_journeys: float) -> float:
    return float(np.mean(-np.expm1(n_journeys * np.log1p(-px)) / px))


def _journeys_needed(px: np.ndarray, n_paths: int) -> int:
    lo, hi = 0.0, 40.0  # bisection on log(n_journeys)
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if _expected(px, math.exp(mid)) < n_paths:
            lo = mid
        else:
            hi = mid
    return math.ceil(math.exp(hi))


def expected_distinct(
    n_journeys: int, seed: int = 0, sample: int = 400_000, **params: Any
) -> float:
    """Expected number of distinct paths among ``n_journeys`` journeys of the model, cheaply.

    Importance sampling: ``E[distinct] = E_x[(1 - (1 - p_x) ** N) / p_x]`` over journeys ``x``
    drawn from the model, ``p_x`` the exact probability of ``x``'s path. Used to tune a preset
    (e.g. ``criteo``) without generating it; ``max_touches`` is ignored (its effect is tiny).
    """
    p = {**DEFAULTS, **params}
    return _expected(_path_probabilities(Generator(PCG64(seed)), p, sample), n_journeys)


# --------------------------------------------------------------------------- presets and cache


def cache_path(preset: str, seed: int = 0) -> Path:
    if preset == "data":
        return CACHE_DIR / "data.parquet"
    return CACHE_DIR / f"{preset}-seed{seed}.parquet"


def _count_channels(paths: pd.Series) -> int:
    tokens = pc.list_flatten(pc.split_pattern(pa.array(paths, type=pa.string()), ">"))
    return int(pc.count_distinct(pc.utf8_trim_whitespace(tokens)).as_py())


def _mean_touches(paths: pd.Series) -> float:
    seps = pc.count_substring(pa.array(paths, type=pa.string()), ">")
    return float(pc.mean(seps).as_py()) + 1.0


def _read_data_csv() -> pd.DataFrame:
    if not DATA_CSV.exists():
        raise FileNotFoundError(f"{DATA_CSV} not found (the 'data' preset needs ../shared/data)")
    df = pd.read_csv(DATA_CSV, sep=";")
    df["total_conversions"] = df["total_conversions"].astype(np.int64)
    df["total_null"] = df["total_null"].astype(np.int64)
    df.attrs["n_journeys"] = int(df["total_conversions"].sum() + df["total_null"].sum())
    return df[COLUMNS]


def build(preset: str, seed: int = 0, *, force: bool = False, quiet: bool = False) -> Path:
    """Generates the preset into the cache (unless already there) and returns the parquet path."""
    if preset not in PRESETS:
        raise KeyError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    out = cache_path(preset, seed)
    meta_path = out.with_suffix(".json")
    if out.exists() and meta_path.exists() and not force:
        return out
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if preset == "data":
        df = _read_data_csv()
        params: dict[str, Any] = dict(PRESETS["data"])
    else:
        params = {**DEFAULTS, **PRESETS[preset]}
        df = generate(seed=seed, **params)
    seconds = time.perf_counter() - t0
    tmp = out.with_suffix(".parquet.tmp")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    tmp.replace(out)
    meta = dict(
        preset=preset,
        seed=None if preset == "data" else seed,
        params=params,
        rows=len(df),
        distinct_paths=int(df["path"].nunique()),
        n_journeys=int(df.attrs["n_journeys"]),
        channels=_count_channels(df["path"]),
        total_conversions=int(df["total_conversions"].sum()),
        total_null=int(df["total_null"].sum()),
        total_conversion_value=round(float(df["total_conversion_value"].sum()), 2),
        mean_touches_per_row=round(_mean_touches(df["path"]), 4),
        numpy=np.__version__,
        generate_seconds=round(seconds, 3),
    )
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    if not quiet:
        print(f"generated {out.name} in {seconds:.2f} s")
    return out


def load(preset: str, seed: int = 0) -> pd.DataFrame:
    """The preset's table (from the cache, generated first if missing)."""
    return pd.read_parquet(build(preset, seed, quiet=True))


def meta(preset: str, seed: int = 0) -> dict[str, Any]:
    out = json.loads(cache_path(preset, seed).with_suffix(".json").read_text())
    assert isinstance(out, dict)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", required=True, choices=list(PRESETS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    ap.add_argument(
        "--estimate",
        action="store_true",
        help="only print the expected number of distinct paths for a range of journey counts",
    )
    ap.add_argument(
        "--csv",
        metavar="PATH",
        help="also write the table as ';'-separated CSV (for bench/cpp/solver_choice.cpp)",
    )
    args = ap.parse_args()
    if args.estimate:
        if args.preset == "data":
            ap.error("--estimate needs a generated preset")
        params = {**DEFAULTS, **PRESETS[args.preset]}
        params.pop("n_paths")
        for n in (1e5, 3e5, 1e6, 2e6, 4e6, 6e6, 8e6):
            print(f"{int(n):>10,d} journeys -> {expected_distinct(int(n), **params):12,.0f} paths")
        return
    path = build(args.preset, args.seed, force=args.force)
    print(path)
    if args.csv:
        pd.read_parquet(path).to_csv(args.csv, sep=";", index=False)
        print(f"written {args.csv}")
    print(json.dumps(meta(args.preset, args.seed), indent=2))


if __name__ == "__main__":
    main()
