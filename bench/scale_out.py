"""Scale-out benchmark: an event log in Parquet files, hash-partitioned by customer, counted
on a two-worker Dask LocalCluster with a memory limit per worker, against the single process.

Examples::

    python bench/scale_out.py prepare --preset 100m --files 200
    python bench/scale_out.py run --preset 100m --orders 1 3 --memory-limit 500MiB \\
        --out bench/results/scale_out.jsonl
    python bench/scale_out.py report bench/results/scale_out.jsonl

``prepare`` writes the log of ``bench/generate_events.py`` (``unsorted``: rows in a random
order) as ``--files`` Parquet files, customer ``c`` in file ``hash(c) % files`` (pandas' hash
of the id), rows in their order within each file; it records the log's size in memory as
pandas reads it (``memory_mb``) beside the files.

``run`` times, each case in a fresh Python process, from the files on disk to the attribution
of every channel by removal effect (Markov, order ``k``) with the heuristics' credit:

- ``single``: ``pyarrow.parquet.read_table(folder)``, ``jl.Journeys.from_events``,
  ``jl.TransitionCounts.from_journeys``, ``jl.MarkovModel(order=k).fit(counts)``,
  ``.attribution()`` and ``jl.attribute(methods=heuristics)``; ``peak_rss_mb`` is the
  process's peak resident memory (VmHWM).
- ``dask``: ``journeyloop.dask.count_events(read_events(folder), order=k,
  methods=heuristics, partitioned=True)`` (``--route checked`` lets it check the files first;
  ``shuffled`` shuffles them) and the fit on the client. The cluster is started before the
  clock (``cluster_start_s``); ``worker_peak_mb`` is each worker process's peak resident
  memory (VmHWM, read from the workers at the end), ``client_peak_mb`` the client's. A worker
  that passes its limit is restarted by its nanny: ``workers_lost`` counts them.

Lines appended to ``--out`` name the commit (``revision``, ``dirty``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import generate_events  # noqa: E402
from revision import git  # noqa: E402

HEURISTICS = ["first_touch", "last_touch", "linear", "position_based", "time_decay"]
COLUMNS = dict(customer="customer", time="time", channel="channel", conversion="conversion",
               value="value")  # fmt: skip


def folder_of(preset: str) -> Path:
    return generate_events.CACHE / f"events-{preset}-by-customer"


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------- prepare


def prepare(preset: str, files: int) -> Path:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    out = folder_of(preset)
    meta = out / "_meta.json"
    if meta.exists() and json.loads(meta.read_text())["files"] == files:
        return out
    source = generate_events.build(preset, "unsorted", quiet=True)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.parquet"):
        old.unlink()
    start = time.perf_counter()
    table = pq.read_table(source)
    customers = table.column("customer").to_numpy()
    bucket = (pd.util.hash_array(customers) % files).astype(np.int64)
    order = np.argsort(bucket, kind="stable")  # rows keep their order within a file
    bounds = np.searchsorted(bucket[order], np.arange(files + 1))
    memory = 0
    for i in range(files):
        part = table.take(order[bounds[i] : bounds[i + 1]])
        pq.write_table(part, out / f"part-{i:04d}.parquet")
        memory += int(part.to_pandas().memory_usage(deep=True).sum())
    facts = {"preset": preset, "files": files, "events": table.num_rows,
             "memory_mb": memory / 1e6, "prepare_s": time.perf_counter() - start}  # fmt: skip
    meta.write_text(json.dumps(facts))
    print(json.dumps(facts))
    return out


# --------------------------------------------------------------------------- cases (children)


def case_single(preset: str, order: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    import journeyloop as jl

    folder = folder_of(preset)
    start = time.perf_counter()
    table = pq.read_table(folder, columns=list(COLUMNS.values()))
    read_s = time.perf_counter() - start
    journeys = jl.Journeys.from_events(table, **COLUMNS)
    del table
    counts = jl.TransitionCounts.from_journeys(journeys, order)
    model = jl.MarkovModel(order=order).fit(counts)
    attribution = model.attribution()
    credit = jl.attribute(journeys, methods=HEURISTICS)
    total_s = time.perf_counter() - start
    return {"read_s": read_s, "total_s": total_s, "peak_rss_mb": peak_rss_mb(),
            "rows": journeys.report.rows_read, "states": counts.n_states,
            "conversions": float(attribution["conversions"].sum()),
            "credit_rows": len(credit)}  # fmt: skip


def _worker_peak() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def case_dask(preset: str, order: int, memory_limit: str, route: str) -> dict[str, Any]:
    import warnings

    import distributed

    import journeyloop.dask as jld

    folder = folder_of(preset)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            memory_limit=memory_limit, silence_logs=40,
        )  # fmt: skip
        client = distributed.Client(cluster)
    cluster_start_s = time.perf_counter() - start
    workers = set(client.scheduler_info()["workers"])
    start = time.perf_counter()
    frame = jld.read_events(folder)
    counted = jld.count_events(
        frame,
        **COLUMNS,
        order=order,
        methods=HEURISTICS,
        partitioned={"given": True, "checked": None, "shuffled": False}[route],
    )
    attribution = counted.fit().attribution()
    total_s = time.perf_counter() - start
    peaks = client.run(_worker_peak)
    lost = len(workers - set(client.scheduler_info()["workers"]))
    client.close()
    cluster.close()
    return {"cluster_start_s": cluster_start_s, "total_s": total_s,
            "worker_peak_mb": sorted(peaks.values()), "client_peak_mb": peak_rss_mb(),
            "workers_lost": lost, "route": counted.route, "partitions": counted.partitions,
            "rows": counted.report.rows_read, "states": counted.counts.n_states,
            "conversions": float(attribution["conversions"].sum())}  # fmt: skip


# --------------------------------------------------------------------------- parent


def run(args: argparse.Namespace) -> None:
    meta = json.loads((prepare(args.preset, args.files) / "_meta.json").read_text())
    revision = git("rev-parse", "--short=12", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    for order in args.orders:
        for tool in args.tools:
            cmd = [sys.executable, __file__, "_case", tool, args.preset, str(order),
                   args.memory_limit, args.route]  # fmt: skip
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, check=False, timeout=args.timeout
                )
            except subprocess.TimeoutExpired:
                result: dict[str, Any] = {"error": f"stopped after {args.timeout:.0f} s"}
            else:
                line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
                result = json.loads(line) if proc.returncode == 0 and line else {
                    "error": proc.stderr.strip().splitlines()[-1:] }  # fmt: skip
            row = {"preset": args.preset, "events": meta["events"], "files": meta["files"],
                   "dataset_memory_mb": meta["memory_mb"], "tool": tool, "order": order,
                   "memory_limit": args.memory_limit if tool == "dask" else None,
                   "route": args.route if tool == "dask" else None, **result,
                   "revision": revision, "dirty": dirty}  # fmt: skip
            if "total_s" in result:
                row["events_per_s"] = meta["events"] / result["total_s"]
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")


def report(path: str) -> None:
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        latest[(r["preset"], r["tool"], r["order"], r.get("route"))] = r
    print("| preset | order | tool | seconds | events/s | peak memory (MB) | ratio |")
    print("|---|---|---|---|---|---|---|")
    for (preset, tool, order, route), r in sorted(latest.items(), key=lambda kv: str(kv[0])):
        single = latest.get((preset, "single", order, None))
        ratio = (f"{r['total_s'] / single['total_s']:.2f}"
                 if single and "total_s" in r and "total_s" in single else "")  # fmt: skip
        if tool == "dask" and "worker_peak_mb" in r:
            peaks = ", ".join(f"{m:.0f}" for m in r["worker_peak_mb"])
            memory = f"{peaks} (limit {r['memory_limit']})"
        else:
            memory = f"{r.get('peak_rss_mb', 0):.0f}"
        name = tool if route is None else f"{tool} ({route})"
        if "total_s" not in r:
            print(f"| {preset} | {order} | {name} | failed: {r.get('error')} | | | |")
            continue
        print(f"| {preset} | {order} | {name} | {r['total_s']:.1f} | {r['events_per_s']:,.0f} | "
              f"{memory} | {ratio} |")  # fmt: skip


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_case":
        tool, preset, order, memory_limit, route = sys.argv[2:7]
        result = (case_single(preset, int(order)) if tool == "single"
                  else case_dask(preset, int(order), memory_limit, route))  # fmt: skip
        print(json.dumps(result))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="write the hash-partitioned Parquet files")
    p.add_argument("--preset", default="tiny", choices=sorted(generate_events.PRESETS))
    p.add_argument("--files", type=int, default=200)
    r = sub.add_parser("run", help="time the cases")
    r.add_argument("--preset", default="tiny", choices=sorted(generate_events.PRESETS))
    r.add_argument("--files", type=int, default=200)
    r.add_argument("--orders", type=int, nargs="+", default=[1, 3])
    r.add_argument("--tools", nargs="+", default=["single", "dask"], choices=["single", "dask"])
    r.add_argument("--memory-limit", default="500MiB")
    r.add_argument("--route", default="given", choices=["given", "checked", "shuffled"])
    r.add_argument("--timeout", type=float, default=1800, help="seconds a case may take")
    r.add_argument("--out")
    q = sub.add_parser("report", help="a markdown table of the latest lines")
    q.add_argument("path")
    args = ap.parse_args()
    if args.command == "prepare":
        prepare(args.preset, args.files)
    elif args.command == "run":
        run(args)
    else:
        report(args.path)


if __name__ == "__main__":
    main()
