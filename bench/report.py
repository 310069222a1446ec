"""Markdown tables from the jsonl of ``run_markov.py``, printed to stdout.

Usage::

    python bench/report.py bench/results/markov.jsonl              # latest revision in the file
    python bench/report.py bench/results/markov.jsonl --rev all    # every revision, one block each
    python bench/report.py bench/results/markov.jsonl --table-only

Per (revision, preset, order, tool): the median wall time of the successful runs ("> T s" when
every run timed out), the largest peak RSS, the speedup (the tool's wall time / journeyloop's, so
"80x" means journeyloop was 80 times faster) and ChannelAttribution's L1 distance from
journeyloop's exact attribution, in % of the total conversions (value).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

TOOL_ORDER = {"journeyloop": 0, "ca1": 1, "ca2": 2}
# Runs of run_markov.py --warm-up (each tool called on 20 rows before the measured call).
WARM = " (after a warm-up call)"
PRESET_ORDER = {"tiny": 0, "data": 1, "100k_x12": 2, "1m_x20": 3, "criteo": 4}

# the performance targets: (preset, order) -> minimum speedup against the fastest CA
SPEED_TARGETS = {("1m_x20", 1): 50, ("1m_x20", 3): 30, ("criteo", 1): 100}


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except ValueError:
                print(f"warning: {path}:{n} is not JSON, skipped", file=sys.stderr)
    return rows


class Case:
    """All runs of one (preset, order, tool) on one revision."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs
        self.ok = [r for r in runs if r["status"] == "ok"]
        self.timeouts = [r for r in runs if r["status"] == "timeout"]
        self.errors = [r for r in runs if r["status"] not in ("ok", "timeout")]

    def median(self, key: str) -> float | None:
        vals = [r[key] for r in self.ok if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    @property
    def wall(self) -> float | None:
        return self.median("wall_s")

    @property
    def timeout(self) -> float | None:
        return max((r["timeout_s"] for r in self.timeouts), default=None)

    @property
    def finished(self) -> bool:
        return bool(self.ok)

    @property
    def peak(self) -> float | None:
        vals = [v for r in self.runs if (v := _peak(r)) is not None]
        return max(vals) if vals else None

    @property
    def extra(self) -> float | None:
        """What the call added to the process at its peak: of finished runs, or, when none
        finished, of runs killed on timeout whose VmHWM was read before the kill (a lower
        bound)."""
        runs = self.ok or self.timeouts
        vals = [
            p - r["rss_before_call_mb"]
            for r in runs
            if (p := _peak(r)) is not None and r.get("rss_before_call_mb") is not None
        ]
        return max(vals) if vals else None

    def wall_text(self) -> str:
        if self.wall is not None:
            return _num(self.wall)
        if self.timeout is not None:
            return f"> {self.timeout:g}"
        return self.errors[0]["status"] if self.errors else "?"

    def peak_text(self) -> str:
        if self.peak is None:
            return "?"
        # a run killed on timeout had not reached its peak yet
        return ("≥ " if not self.ok else "") + f"{self.peak:,.0f}"


def _peak(r: dict[str, Any]) -> float | None:
    """A case's peak RSS from the start of its call. A finished child reads its own VmHWM
    after the reset (``peak_rss_call_mb``); ``ru_maxrss`` from ``wait4`` (``peak_rss_mb``),
    all that is left of a killed child, also counts the runner's RSS at the fork, which
    floors the figure of small tables at the runner's size."""
    v = r.get("peak_rss_call_mb")
    if v is None:
        v = r.get("peak_rss_mb")
    return float(v) if v is not None else None


def _num(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.2f}"


def speedup(case: Case, jl: Case | None) -> str:
    if jl is None or jl.wall is None or not jl.wall > 0:
        return ""
    if case.runs[0]["tool"] == "journeyloop":
        return "1x"
    if case.wall is not None:
        return f"{case.wall / jl.wall:,.1f}x"
    if case.timeout is not None:
        return f"> {case.timeout / jl.wall:,.0f}x"
    return ""


def group(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[str, int, str], Case]]:
    by: dict[str, dict[tuple[str, int, str], list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    # journeyloop's runs that let the journeys go after the fit form a block of their own,
    # " (journeys released)", compared with the ChannelAttribution runs of the same revision.
    released = " (journeys released)"
    ca_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        rev = r.get("rev") or "?"
        if r.get("dirty"):
            rev += "-dirty"
        if r.get("warm_up"):  # both tools warmed up: a block of their own
            rev += WARM
        if r["tool"] != "journeyloop":
            ca_rows[rev].append(r)
        elif r.get("journeys") == "released":
            rev += released
        by[rev][(r["preset"], r["order"], r["tool"])].append(r)
    for rev in list(by):
        if rev.endswith(released):
            for r in ca_rows[rev[: -len(released)]]:
                by[rev][(r["preset"], r["order"], r["tool"])].append(r)
    return {rev: {k: Case(v) for k, v in cases.items()} for rev, cases in by.items()}


def _sort_key(k: tuple[str, int, str]) -> tuple[int, str, int, int, str]:
    return (PRESET_ORDER.get(k[0], 99), k[0], k[1], TOOL_ORDER.get(k[2], 99), k[2])


def main_table(cases: dict[tuple[str, int, str], Case]) -> list[str]:
    out = [
        "| preset | order | tool | wall s | peak RSS MB | call extra MB | speedup vs journeyloop "
        "| L1 conv % | L1 value % |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in sorted(cases, key=_sort_key):
        c = cases[key]
        jl = cases.get((key[0], key[1], "journeyloop"))
        extra = "" if c.extra is None else ("" if c.ok else "≥ ") + f"{c.extra:,.0f}"
        out.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {c.wall_text()} | {c.peak_text()} | {extra} "
            f"| {speedup(c, jl)} | {_pct(c.median('l1_conversions'))} "
            f"| {_pct(c.median('l1_value'))} |"
        )
    return out


def preset_table(cases: dict[tuple[str, int, str], Case]) -> list[str]:
    seen: dict[str, dict[str, Any]] = {}
    for key in sorted(cases, key=_sort_key):
        for r in cases[key].ok:
            seen.setdefault(key[0], r)
    if not seen:
        return []
    out = [
        "| preset | rows (paths) | input table MB | conversions | seed |",
        "|---|---:|---:|---:|---:|",
    ]
    for p, r in seen.items():
        out.append(
            f"| {p} | {r['rows']:,} | {r['input_mb']:,.1f} | {r['total_conversions']:,.0f} "
            f"| {'' if r.get('seed') is None else r['seed']} |"
        )
    return out


def targets(cases: dict[tuple[str, int, str], Case]) -> list[str]:
    """The performance targets, checked where the cases were run."""
    out = []

    def best_ca(preset: str, order: int) -> Case | None:
        cs = [
            c for (p, o, t), c in cases.items() if p == preset and o == order and t != "journeyloop"
        ]
        if not cs:
            return None
        # the fastest finished CA run; if none finished, the one with the longest timeout
        done = [c for c in cs if c.wall is not None]
        if done:
            return min(done, key=lambda c: c.wall or 0.0)
        return max(cs, key=lambda c: c.timeout or 0.0)

    for (preset, order), need in SPEED_TARGETS.items():
        jl, ca = cases.get((preset, order, "journeyloop")), best_ca(preset, order)
        if jl is None or ca is None or jl.wall is None:
            continue
        if ca.wall is not None:
            ratio, txt = ca.wall / jl.wall, f"{ca.wall / jl.wall:,.1f}x"
        elif ca.timeout is not None:
            ratio, txt = ca.timeout / jl.wall, f"> {ca.timeout / jl.wall:,.0f}x"
        else:
            continue
        ok = "met" if ratio >= need else ("not shown" if ca.wall is None else "NOT met")
        out.append(
            f"- {preset} order {order}: journeyloop {_num(jl.wall)} s, fastest CA "
            f"({ca.runs[0]['tool']}) {ca.wall_text()} s: {txt} (target >= {need}x): **{ok}**"
        )
    jl, ca = cases.get(("criteo", 3, "journeyloop")), best_ca("criteo", 3)
    if jl is not None:
        jl_ok = jl.wall is not None and jl.wall <= 60
        ca_txt = ""
        ca_ok = None
        if ca is not None:
            ca_ok = ca.wall is None and (ca.timeout or 0) >= 900
            ca_txt = (
                f", CA {ca.wall_text()} s ({'does not finish in 900 s' if ca_ok else 'finishes'})"
            )
        verdict = "met" if jl_ok and ca_ok else ("NOT met" if not jl_ok or ca_ok is False else "?")
        out.append(
            f"- criteo order 3: journeyloop {jl.wall_text()} s (target <= 60 s){ca_txt}: "
            f"**{verdict}**"
        )
    for (preset, order, tool), jlc in sorted(cases.items(), key=lambda kv: _sort_key(kv[0])):
        if tool != "journeyloop" or not jlc.ok:
            continue
        r = jlc.ok[0]
        cas = [
            c for (p, o, t), c in cases.items() if p == preset and o == order and t != "journeyloop"
        ]
        parts = []
        peaked = [c for c in cas if c.peak is not None]
        if peaked and jlc.peak is not None:
            ca = min(peaked, key=lambda c: c.peak or 0.0)
            ca_peak = ca.peak or 0.0
            # a CA run killed on timeout had not reached its peak: its figure is a lower bound
            bound = "" if ca.ok else "≥ "
            met = jlc.peak <= 0.5 * ca_peak
            verdict = "met" if met else ("not shown" if bound else "NOT met")
            parts.append(
                f"peak RSS {jlc.peak:,.0f} MB vs CA ({ca.runs[0]['tool']}) "
                f"{bound}{ca_peak:,.0f} MB (ratio {'≤ ' if bound else ''}"
                f"{jlc.peak / ca_peak:.2f}, target <= 0.5: {verdict})"
            )
        # What the call itself adds, against what CA's call adds: the
        # interpreter, the libraries and the table (the same for both
        # tools) are outside either call.
        extras = [c for c in cas if c.extra is not None]
        if extras and jlc.extra is not None:
            ca = min(extras, key=lambda c: c.extra or 0.0)
            ca_extra = ca.extra or 0.0
            if ca_extra > 0:
                # of a CA run killed on timeout the figure is a lower bound
                bound = "" if ca.ok else "≥ "
                met = jlc.extra <= 0.5 * ca_extra
                verdict = "met" if met else ("not shown" if bound else "NOT met")
                parts.append(
                    f"memory the call adds {jlc.extra:,.0f} MB vs CA ({ca.runs[0]['tool']}) "
                    f"{bound}{ca_extra:,.0f} MB (ratio {'≤ ' if bound else ''}"
                    f"{jlc.extra / ca_extra:.2f}, target <= 0.5: {verdict})"
                )
        if jlc.extra is not None:
            ratio = jlc.extra / r["input_mb"]
            parts.append(
                f"call extra {jlc.extra:,.0f} MB = {ratio:.2f} x input table "
                f"{_num(r['input_mb'])} MB "
                f"(target <= 2: {'met' if ratio <= 2 else 'NOT met'})"
            )
        if parts:
            out.append(f"- {preset} order {order} memory: " + "; ".join(parts))
    return out


def facts_line(cases: dict[tuple[str, int, str], Case]) -> str:
    r = next(iter(next(iter(cases.values())).runs))
    jl_runs = [x for (_, _, t), c in cases.items() if t == "journeyloop" for x in c.runs]
    kept = {x.get("journeys", "kept") for x in jl_runs}
    journeys = f"journeyloop's journeys {' and '.join(sorted(kept))} after the fit, "
    if not kept:
        journeys = ""
    if r.get("warm_up"):
        journeys += "every case after a warm-up call of its tool on 20 rows, "
    return (
        f"Revision `{r.get('rev')}`{' (uncommitted changes)' if r.get('dirty') else ''}, "
        f"{journeys}"
        f"{r.get('nproc')} cores (`nproc`), CPU {r.get('cpu')}, Python {r.get('python')}, "
        f"journeyloop {r.get('journeyloop')}, ChannelAttribution {r.get('channelattribution')}, "
        f"run {min(x['time'] for c in cases.values() for x in c.runs)[:10]}."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "jsonl", type=Path, nargs="?", default=Path(__file__).parent / "results" / "markov.jsonl"
    )
    ap.add_argument("--rev", default="latest", help='a revision, "latest" (default) or "all"')
    ap.add_argument("--preset", nargs="+", help="only these presets")
    ap.add_argument("--table-only", action="store_true", help="only the main table")
    args = ap.parse_args()
    rows = load(args.jsonl)
    if args.preset:
        rows = [r for r in rows if r["preset"] in args.preset]
    if not rows:
        sys.exit(f"no results in {args.jsonl}")
    by_rev = group(rows)
    if args.rev == "latest":
        last = rows[-1]
        base = (last.get("rev") or "?") + ("-dirty" if last.get("dirty") else "")
        revs = [r for r in by_rev if r == base or r.startswith(base + " (")]
    elif args.rev == "all":
        revs = list(by_rev)
    else:
        revs = [r for r in by_rev if r.split("-")[0].startswith(args.rev)]
        if not revs:
            sys.exit(f"no results for revision {args.rev}; revisions: {', '.join(by_rev)}")
    blocks = []
    for rev in revs:
        cases = by_rev[rev]
        lines = []
        if not args.table_only:
            lines += [facts_line(cases), ""]
            pt = preset_table(cases)
            if pt:
                lines += [*pt, ""]
        lines += main_table(cases)
        if not args.table_only:
            t = targets(cases)
            if t:
                lines += ["", "Targets:", "", *t]
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))


if __name__ == "__main__":
    main()
