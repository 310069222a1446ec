"""What a benchmark process holds before the attribution call.

Usage: ``python bench/baseline_rss.py --preset 1m_x20``. Prints the RSS after starting Python,
after importing pandas and pyarrow, after importing journeyloop, after reading the preset's
table from parquet (and ``gc.collect()``), and after asking Arrow's allocator to give back what
it keeps of the memory the read freed (``pyarrow.default_memory_pool().release_unused()``),
with the table's own size (``df.memory_usage(deep=True)``). Both tools of ``run_markov.py``
start their call from the state after the read.
"""

from __future__ import annotations

import argparse
import gc


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise KeyError("VmRSS")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", required=True)
    args = ap.parse_args()
    print(f"python                 {_rss_mb():6.0f} MB")
    import pandas as pd
    import pyarrow as pa

    print(f"pandas, pyarrow        {_rss_mb():6.0f} MB")
    import journeyloop  # noqa: F401

    print(f"journeyloop            {_rss_mb():6.0f} MB")
    from generate_paths import build

    df = pd.read_parquet(build(args.preset))
    gc.collect()
    table = float(df.memory_usage(deep=True).sum()) / 2**20
    print(f"table read             {_rss_mb():6.0f} MB   (the table itself: {table:.1f} MB)")
    pa.default_memory_pool().release_unused()
    print(f"Arrow's unused freed   {_rss_mb():6.0f} MB   (after release_unused)")


if __name__ == "__main__":
    main()
