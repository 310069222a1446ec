"""What first-touching fresh memory costs on this machine, against writing memory already mapped.

Usage: ``python bench/first_touch.py [--gb 1] [--repeat 3]``. Each repeat runs in a new
process (as every benchmark case does): it allocates the given size with numpy (fresh pages
from the kernel, not yet mapped), writes one value per 4 KiB page and times it; then writes
every byte of the same (now mapped) memory and times that. The event builder
avoids fresh memory where it can (``docs/events.md``, "Speed and memory") because on the
benchmark machine the first figure is much larger than the second.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.child:
        for _ in range(args.repeat):
            subprocess.run([sys.executable, __file__, "--child", "--gb", str(args.gb)], check=True)
        return
    a = np.empty(int(args.gb * 2**30), dtype=np.uint8)
    t0 = time.perf_counter()
    a[::4096] = 1
    t1 = time.perf_counter()
    a[:] = 2
    t2 = time.perf_counter()
    print(
        f"{args.gb:g} GB: first touch {(t1 - t0) / args.gb:.2f} s/GB, "
        f"writing mapped memory {(t2 - t1) / args.gb:.3f} s/GB"
    )


if __name__ == "__main__":
    main()
