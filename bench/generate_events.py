"""Deterministic synthetic event logs (one row per touch) for the ingestion benchmark.

The model, for ``n_events`` events over ``n_customers`` customers and ``n_channels`` channels:

- each event belongs to a customer drawn uniformly (so customers have Poisson-distributed
  event counts, and some customers drawn for no event are absent);
- a customer's events are spaced by exponential gaps with a mean of ``mean_gap_days``, from a
  start drawn uniformly over one year (timestamps in nanoseconds, datetime64[ns]);
- channels have Zipf popularity (exponent ``zipf``); channel names are ``ch00``, ``ch01``...;
- an event is a conversion with probability ``conversion_rate``; a conversion has a value drawn
  from a gamma distribution (mean 100), other rows have a missing value (NaN);
- customer ids are distinct 64-bit integers (a random permutation, scaled), not 0..n-1.

``sorted`` logs are grouped by customer (customers in an arbitrary order) and in time order
within each customer. ``unsorted`` logs are the same rows in a random order.

Presets (``--preset``): ``tiny`` (10,000 events), ``10m`` (10M events, 200k customers, 20
channels), ``100m`` (100M events, 5M customers, 20 channels) and ``criteo`` (16.6M events, 6.1M
customers, 675 channels, about 3 % conversions). Logs are written to ``bench/.cache/`` as
parquet (``events-<preset>-<order>.parquet``) and reused.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# JOURNEYLOOP_BENCH_CACHE moves the cache (the smoke runs of the tests use a temporary folder).
CACHE = Path(
    os.environ.get("JOURNEYLOOP_BENCH_CACHE") or Path(__file__).resolve().parent / ".cache"
)

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(n_events=10_000, n_customers=1_000, n_channels=20, conversion_rate=0.03),
    "10m": dict(n_events=10_000_000, n_customers=200_000, n_channels=20, conversion_rate=0.03),
    "100m": dict(n_events=100_000_000, n_customers=5_000_000, n_channels=20, conversion_rate=0.03),
    "criteo": dict(
        n_events=16_600_000, n_customers=6_100_000, n_channels=675, conversion_rate=0.03
    ),
}


def generate(
    n_events: int,
    n_customers: int,
    n_channels: int,
    conversion_rate: float,
    *,
    zipf: float = 1.0,
    mean_gap_days: float = 2.0,
    seed: int = 0,
    sorted_rows: bool = True,
) -> pa.Table:
    """An event log as an Arrow table (columns customer, time, channel, conversion, value)."""
    rng = np.random.default_rng(seed)
    customer_index = np.sort(rng.integers(0, n_customers, n_events, dtype=np.int64))
    # Customers appear in a random order: relabel the sorted indices.
    relabel = rng.permutation(n_customers).astype(np.int64)
    ids = relabel * 7919 + 1_000_000_007
    customer = ids[customer_index]
    gaps = rng.exponential(mean_gap_days * 86400e9, n_events).astype(np.int64)
    cum = np.cumsum(gaps)
    starts = np.flatnonzero(np.diff(customer_index, prepend=-1))
    first_of = np.repeat(starts, np.diff(np.append(starts, n_events)))
    t0 = np.datetime64("2024-01-01T00:00:00", "ns").astype(np.int64)
    offset = rng.integers(0, 365 * 86400 * 10**9, n_customers, dtype=np.int64)
    times = t0 + offset[customer_index] + (cum - cum[first_of])
    weights = 1.0 / np.arange(1, n_channels + 1) ** zipf
    channel_codes = rng.choice(n_channels, n_events, p=weights / weights.sum()).astype(np.int32)
    conversion = rng.random(n_events) < conversion_rate
    value = np.where(conversion, rng.gamma(2.0, 50.0, n_events), np.nan)
    del cum, first_of, customer_index, gaps
    if not sorted_rows:
        perm = rng.permutation(n_events)
        customer, times, channel_codes = customer[perm], times[perm], channel_codes[perm]
        conversion, value = conversion[perm], value[perm]
    names = pa.array([f"ch{i:02d}" for i in range(n_channels)], pa.string())
    return pa.table(
        {
            "customer": customer,
            "time": pa.array(times.view("datetime64[ns]")),
            "channel": pa.DictionaryArray.from_arrays(pa.array(channel_codes), names),
            "conversion": conversion,
            "value": value,
        }
    )


def cache_path(preset: str, order: str) -> Path:
    return CACHE / f"events-{preset}-{order}.parquet"


def build(preset: str, order: str, *, quiet: bool = False) -> Path:
    path = cache_path(preset, order)
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    table = generate(**PRESETS[preset], sorted_rows=order == "sorted")
    pq.write_table(table, path, row_group_size=1 << 22)
    if not quiet:
        print(f"{path.name}: {table.num_rows:,} events in {time.perf_counter() - start:.1f} s")
    return path


def load(preset: str, order: str, source: str, channel: str) -> Any:
    """The log as the benchmark's input: a pandas DataFrame or a pyarrow Table (one chunk),
    with the channel column categorical / dictionary (``channel="category"``) or strings."""
    table = pq.read_table(build(preset, order, quiet=True)).combine_chunks()
    if channel == "str":
        table = table.set_column(2, "channel", table["channel"].cast(pa.string()).combine_chunks())
    if source == "arrow":
        return table
    return table.to_pandas()


def input_bytes(data: Any) -> int:
    if isinstance(data, pd.DataFrame):
        return int(data.memory_usage(deep=True).sum())
    return int(data.nbytes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", nargs="+", default=["tiny"], choices=sorted(PRESETS))
    ap.add_argument("--order", nargs="+", default=["sorted", "unsorted"])
    args = ap.parse_args()
    for preset in args.preset:
        for order in args.order:
            build(preset, order)


if __name__ == "__main__":
    main()
