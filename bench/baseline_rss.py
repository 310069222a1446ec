"""What a benchmark process holds before the attribution call.

Usage: ``python bench/baseline_rss.py --preset 1m_x20``. Prints the RSS after starting Python,
after importing pandas and pyarrow, after importing journeyloop, after reading the preset's
table from parquet (and ``gc.collect()``), and after asking Arrow's allocator to give back what
it keeps of the memory the read freed (``pyarrow.default_memory_pool().release_unused()``),
with the table's own size (``df.memory_usage(deep=True)``). Both tools of ``run_markov.py``
start their call from the state after the read.

With ``--calls N --order K`` it then makes journeyloop's benchmark call
(``MarkovModel(order=K).fit(Journeys.from_paths(df)).attribution()``) N times, and prints what
each left resident, split into anonymous memory (``RssAnon``: data) and file-backed pages
(``RssFile``: mostly shared-library code, paged in on its first use), and the peak above the RSS
before it (``VmHWM`` after a reset). The first call pages in the library code it runs; later
calls reuse it and the heap the first call left.
"""

from __future__ import annotations

import argparse
import gc


def _rss_mb(key: str = "VmRSS") -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", required=True)
    ap.add_argument("--calls", type=int, default=0, help="journeyloop calls to make after the read")
    ap.add_argument("--order", type=int, default=1, help="the Markov order of those calls")
    args = ap.parse_args()
    print(f"python                 {_rss_mb():6.0f} MB")
    import pandas as pd
    import pyarrow as pa

    print(f"pandas, pyarrow        {_rss_mb():6.0f} MB")
    import journeyloop as jl

    print(f"journeyloop            {_rss_mb():6.0f} MB")
    from generate_paths import build

    df = pd.read_parquet(build(args.preset))
    gc.collect()
    table = float(df.memory_usage(deep=True).sum()) / 2**20
    print(f"table read             {_rss_mb():6.0f} MB   (the table itself: {table:.1f} MB)")
    pa.default_memory_pool().release_unused()
    print(f"Arrow's unused freed   {_rss_mb():6.0f} MB   (after release_unused)")
    cols = dict(conversions="total_conversions", nulls="total_null", value="total_conversion_value")
    for call in range(1, args.calls + 1):
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = {k: _rss_mb(k) for k in ("VmRSS", "RssAnon", "RssFile")}
        model = jl.MarkovModel(order=args.order).fit(jl.Journeys.from_paths(df, **cols))
        model.attribution()
        peak = _rss_mb("VmHWM") - before["VmRSS"]
        del model
        gc.collect()
        anon, file = (_rss_mb(k) - before[k] for k in ("RssAnon", "RssFile"))
        print(
            f"call {call} (order {args.order})   peak {peak:5.2f} MB above the RSS before it; left "
            f"{anon:5.2f} MB anonymous, {file:5.2f} MB file-backed"
        )


if __name__ == "__main__":
    main()
