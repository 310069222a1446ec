"""journeyloop at two revisions, side by side: the Markov benchmark alternating between them.

Example::

    python bench/compare_checkouts.py --before ../before --after . \\
        --case data:1,2,3,4 --case 1m_x20:1,3 --case criteo:1,2,3 --repeat 3 \\
        --out bench/results/compare.jsonl

Each of ``--before`` and ``--after`` is a checkout of the repository with the package installed in
its own ``.venv`` (``make install`` there). For every repetition, case and order this runs that
checkout's own ``bench/run_markov.py`` (one subprocess per case, journeyloop only) with that
checkout's interpreter, before then after, so that both see the same state of the machine; the
records (each with its ``rev``) go to one ``.jsonl`` file. Then it prints, per preset and order,
the median wall time and peak call memory of each revision and the ratio after / before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from pathlib import Path
from typing import Any


def parse_case(text: str) -> tuple[str, list[int]]:
    preset, _, orders = text.partition(":")
    return preset, [int(k) for k in orders.split(",")] if orders else [1]


def run_one(checkout: Path, preset: str, order: int, out: Path, timeout: float) -> None:
    python = checkout / ".venv" / "bin" / "python"
    script = checkout / "bench" / "run_markov.py"
    cmd = [str(python), str(script), "--preset", preset, "--orders", str(order)]
    cmd += ["--tools", "journeyloop", "--repeat", "1", "--timeout", str(timeout)]
    subprocess.run([*cmd, "--out", str(out)], check=True, cwd=checkout)


def summary(records: list[dict[str, Any]], before: str, after: str) -> str:
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for r in records:
        if r.get("status") == "ok" and r.get("tool") == "journeyloop":
            groups.setdefault((r["preset"], r["order"], r["rev"]), []).append(r)
    lines = [
        f"| preset | order | before {before[:7]} s | after {after[:7]} s | after / before "
        "| before MB | after MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for preset, order in sorted({(p, k) for p, k, _ in groups}):
        b, a = groups.get((preset, order, before), []), groups.get((preset, order, after), [])
        if not (a and b):
            continue
        tb = statistics.median(r["wall_s"] for r in b)
        ta = statistics.median(r["wall_s"] for r in a)
        mb = statistics.median(r["call_extra_mb"] for r in b)
        ma = statistics.median(r["call_extra_mb"] for r in a)
        lines.append(
            f"| {preset} | {order} | {tb:.3f} | {ta:.3f} | {ta / tb:.2f} | {mb:.1f} | {ma:.1f} |"
        )
    lines.append(f"(medians of {min(len(v) for v in groups.values())} or more runs each)")
    return "\n".join(lines)


def rev_of(checkout: Path) -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="checkout with its .venv")
    ap.add_argument("--after", type=Path, required=True, help="checkout with its .venv")
    ap.add_argument("--case", action="append", default=None, help="PRESET:ORDER,ORDER,...")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--out", type=Path, default=Path("bench/results/compare.jsonl"))
    ap.add_argument("--report", action="store_true", help="only print the summary of --out")
    args = ap.parse_args()
    before, after = args.before.resolve(), args.after.resolve()
    out = args.out.resolve()
    if not args.report:
        for _ in range(args.repeat):
            for preset, orders in map(parse_case, args.case or ["data:1"]):
                for k in orders:
                    for checkout in (before, after):
                        run_one(checkout, preset, k, out, args.timeout)
    records = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    print(summary(records, rev_of(before), rev_of(after)))


if __name__ == "__main__":
    main()
