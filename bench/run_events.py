"""Event-log benchmark: ``Journeys.from_events`` throughput and memory, and the Criteo-shaped
pipeline from events to Markov attribution against pandas + ChannelAttribution.

Examples::

    python bench/run_events.py ingest --preset 10m 100m --order sorted unsorted \\
        --source pandas arrow --out bench/results/events.jsonl
    python bench/run_events.py pipeline --tools journeyloop pandas_ca1 --timeout 900
    python bench/run_events.py report bench/results/events.jsonl

Each case is a fresh Python process (one subprocess per case) that reads the log from the
parquet cache of ``bench/generate_events.py`` (generating it first if missing), builds the
input (a pandas DataFrame or a pyarrow Table held in one chunk; the channel column categorical
/ dictionary-encoded, or plain strings with ``--channel str``) and times only the call. Memory
is measured as in ``run_markov.py``: the child resets its peak-RSS counter
(``/proc/self/clear_refs``) just before the call, so ``peak_rss_mb`` is the peak from the start
of the call, input included, and ``call_extra_mb`` is what the call added; ``input_mb`` is the
size of the input columns.

``ingest`` cases time ``jl.Journeys.from_events(data, "customer", "time", "channel",
"conversion", "value")``. ``pipeline`` cases run on the ``criteo`` log: ``journeyloop`` times
``from_events`` + ``MarkovModel(order=1).fit(...).attribution()``; ``pandas_ca1`` /
``pandas_ca2`` time what a ChannelAttribution user writes (sort, split each customer's events at
conversions with a groupby, join the channels into path strings, aggregate by path, then
``markov_model(..., order=1, ncore=1 / 2)``), killed after ``--timeout`` seconds of the call.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from run_markov import (  # noqa: E402
    _read_json,
    _write_json,
    machine_facts,
    reset_peak_rss,
    run_child,
)

COLUMNS = ("customer", "time", "channel", "conversion", "value")


# --------------------------------------------------------------------------- child side


def _pandas_paths(df: Any) -> Any:
    """The path table a ChannelAttribution user builds from an event log with pandas."""
    import pandas as pd

    df = df.sort_values(["customer", "time"], kind="stable")
    conv = df["conversion"].astype("int64")
    journey = conv.groupby(df["customer"], sort=False).cumsum() - conv
    keys = [df["customer"], journey]
    g = df.groupby(keys, sort=False, observed=True)
    journeys = pd.DataFrame(
        {
            "path": g["channel"].agg(lambda s: " > ".join(s.astype(str))),
            "conv": g["conversion"].max().astype("int64"),
            "value": g["value"].sum(),
        }
    )
    journeys["null"] = 1 - journeys["conv"]
    table = journeys.groupby("path", sort=False).agg(
        total_conversions=("conv", "sum"),
        total_null=("null", "sum"),
        total_conversion_value=("value", "sum"),
    )
    return table.reset_index()


def child(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    status_file, result_file = spec["status"], spec["result"]
    res: dict[str, Any] = {}
    _write_json(status_file, {"phase": "load", "t": time.time()})
    import gc

    import generate_events as ge

    import journeyloop as jl

    t0 = time.perf_counter()
    data = ge.load(spec["preset"], spec["order"], spec["source"], spec["channel"])
    res["load_s"] = time.perf_counter() - t0
    res["rows"] = len(data)
    res["input_mb"] = ge.input_bytes(data) / 2**20
    tool = spec["tool"]
    if tool.startswith("pandas_ca"):
        from ChannelAttribution import markov_model
    gc.collect()
    reset_peak_rss(res)
    _write_json(status_file, {"phase": "call", "t": time.time()})
    t0 = time.perf_counter()
    if tool == "journeyloop":
        journeys = jl.Journeys.from_events(data, *COLUMNS)
        t1 = time.perf_counter()
        res["from_events_s"] = t1 - t0
        report = journeys.report
        assert report is not None
        res["sorted_input"] = report.sorted_input
        res["journeys"] = report.journeys
        if spec["kind"] == "pipeline":
            attr = jl.MarkovModel(order=1).fit(journeys).attribution()
            res["fit_attribution_s"] = time.perf_counter() - t1
            res["attribution"] = {
                "channel": [str(c) for c in attr["channel"]],
                "conversions": attr["conversions"].tolist(),
                "value": attr["value"].tolist(),
            }
    else:
        table = _pandas_paths(data)
        t1 = time.perf_counter()
        res["pandas_paths_s"] = t1 - t0
        res["paths"] = len(table)
        out = markov_model(
            table, "path", "total_conversions", var_value="total_conversion_value",
            var_null="total_null", order=1, ncore=int(tool[-1]), seed=0, verbose=False,
            flg_pro=False,
        )  # fmt: skip
        res["markov_model_s"] = time.perf_counter() - t1
        res["attribution"] = {
            "channel": [str(c).strip() for c in out.iloc[:, 0]],
            "conversions": out.iloc[:, 1].astype(float).tolist(),
            "value": out.iloc[:, 2].astype(float).tolist(),
        }
    res["wall_s"] = time.perf_counter() - t0
    if spec["kind"] == "ingest":
        res["events_per_s"] = res["rows"] / res["wall_s"]
    _write_json(result_file, res)


# --------------------------------------------------------------------------- parent side


def run_case(spec: dict[str, Any], timeout: float, workdir: Path) -> dict[str, Any]:
    tag = f"{spec['kind']}-{spec['preset']}-{spec['tool']}-{time.time_ns()}"
    spec = dict(spec, status=str(workdir / f"{tag}.status"), result=str(workdir / f"{tag}.result"))
    spec_file = workdir / f"{tag}.spec"
    spec_file.write_text(json.dumps(spec))
    log_file = workdir / f"{tag}.log"
    rec: dict[str, Any] = {k: spec[k] for k in ("kind", "preset", "order", "source", "channel")}
    rec.update(tool=spec["tool"], timeout_s=timeout)
    killed, wstatus, ru, _, _ = run_child(
        Path(__file__).resolve(), spec_file, log_file, Path(spec["status"]), timeout, 1800.0
    )
    rec["peak_rss_mb"] = round(ru.ru_maxrss / 1024, 1)
    res = _read_json(Path(spec["result"]))
    if killed:
        rec.update(status="timeout", wall_s=None)
    elif res is None:
        rec.update(status=f"error (exit {os.waitstatus_to_exitcode(wstatus)})", wall_s=None)
        rec["log_tail"] = log_file.read_text(errors="replace").strip().splitlines()[-8:]
    else:
        rec["status"] = "ok"
        attribution = res.pop("attribution", None)
        rec.update({k: round(v, 6) if isinstance(v, float) else v for k, v in res.items()})
        rec["call_extra_mb"] = round(rec["peak_rss_mb"] - res["rss_before_call_mb"], 1)
        rec["call_extra_over_input"] = round(rec["call_extra_mb"] / res["input_mb"], 3)
        if attribution is not None:
            rec["attribution"] = attribution
    for suffix in ("spec", "status", "result", "log"):
        if suffix != "log" or rec["status"] == "ok":
            with contextlib.suppress(FileNotFoundError):
                (workdir / f"{tag}.{suffix}").unlink()
    return rec


def _l1(ours: dict[str, Any], theirs: dict[str, Any], key: str) -> float:
    a = dict(zip(ours["channel"], ours[key], strict=True))
    b = dict(zip(theirs["channel"], theirs[key], strict=True))
    total = sum(a.values())
    return sum(abs(a.get(c, 0.0) - b.get(c, 0.0)) for c in set(a) | set(b)) / total


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    sub = ap.add_subparsers(dest="command")
    ing = sub.add_parser("ingest", help="from_events throughput and memory")
    ing.add_argument("--preset", nargs="+", default=["10m"])
    ing.add_argument("--order", nargs="+", default=["sorted", "unsorted"])
    ing.add_argument("--source", nargs="+", default=["pandas", "arrow"])
    ing.add_argument("--channel", nargs="+", default=["category"])
    ing.add_argument("--repeat", type=int, default=1)
    pip = sub.add_parser("pipeline", help="Criteo-shaped log to Markov attribution")
    pip.add_argument("--tools", nargs="+", default=["journeyloop", "pandas_ca1"])
    pip.add_argument("--timeout", type=float, default=900)
    pip.add_argument("--preset", default="criteo")
    rep = sub.add_parser("report", help="Markdown tables of a results file")
    rep.add_argument("file")
    for p in (ing, pip):
        p.add_argument("--out", default=str(BENCH_DIR / "results" / "events.jsonl"))
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return
    if args.command == "report":
        report(Path(args.file))
        return
    import generate_events as ge

    facts = machine_facts()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    specs: list[dict[str, Any]] = []
    if args.command == "ingest":
        for _ in range(args.repeat):
            for preset in args.preset:
                for order in args.order:
                    ge.build(preset, order)
                    for source in args.source:
                        for channel in args.channel:
                            specs.append(dict(kind="ingest", preset=preset, order=order,
                                              source=source, channel=channel,
                                              tool="journeyloop"))  # fmt: skip
        timeout = 1800.0
    else:
        ge.build(args.preset, "sorted")
        for tool in args.tools:
            specs.append(dict(kind="pipeline", preset=args.preset, order="sorted",
                              source="pandas", channel="category", tool=tool))  # fmt: skip
        timeout = args.timeout
    ours: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            rec = run_case(spec, timeout, Path(tmp))
            attribution = rec.pop("attribution", None)
            if spec["tool"] == "journeyloop":
                ours = attribution
            elif attribution is not None and ours is not None:
                rec["l1_conversions"] = round(_l1(ours, attribution, "conversions"), 6)
                rec["l1_value"] = round(_l1(ours, attribution, "value"), 6)
            rec.update(facts)
            with out.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            shown = {k: rec.get(k) for k in ("kind", "preset", "order", "source", "channel",
                                             "tool", "status", "wall_s", "events_per_s",
                                             "peak_rss_mb", "call_extra_over_input")}  # fmt: skip
            print(json.dumps(shown), flush=True)


def report(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    ingest = [r for r in rows if r["kind"] == "ingest" and r["status"] == "ok"]
    if ingest:
        print("| log | order | input | channel | events/s | wall | input MB | peak RSS MB "
              "| call extra / input | rev |")  # fmt: skip
        print("|---|---|---|---|---:|---:|---:|---:|---:|---|")
        for r in ingest:
            print(
                f"| {r['preset']} | {r['order']} | {r['source']} | {r['channel']} "
                f"| {r['events_per_s'] / 1e6:.1f}M | {r['wall_s']:.2f} s | {r['input_mb']:,.0f} "
                f"| {r['peak_rss_mb']:,.0f} | {r['call_extra_over_input']:.2f} | {r['rev'][:7]} |"
            )
    pipeline = [r for r in rows if r["kind"] == "pipeline"]
    if pipeline:
        print()
        print("| tool | status | wall | steps | peak RSS MB | L1 conv / value | rev |")
        print("|---|---|---:|---|---:|---:|---|")
        for r in pipeline:
            if r["status"] != "ok":
                print(f"| {r['tool']} | {r['status']} | > {r['timeout_s']:.0f} s | | "
                      f"{r['peak_rss_mb']:,.0f} | | {r['rev'][:7]} |")  # fmt: skip
                continue
            steps = (
                f"from_events {r['from_events_s']:.2f} s, fit + attribution "
                f"{r['fit_attribution_s']:.2f} s"
                if r["tool"] == "journeyloop"
                else f"pandas paths {r['pandas_paths_s']:.1f} s ({r['paths']:,} paths), "
                f"markov_model {r['markov_model_s']:.1f} s"
            )
            l1 = (
                f"{100 * r['l1_conversions']:.1f} % / {100 * r['l1_value']:.1f} %"
                if "l1_conversions" in r
                else ""
            )
            print(f"| {r['tool']} | ok | {r['wall_s']:.2f} s | {steps} | {r['peak_rss_mb']:,.0f} "
                  f"| {l1} | {r['rev'][:7]} |")  # fmt: skip


if __name__ == "__main__":
    main()
