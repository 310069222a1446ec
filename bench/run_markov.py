"""Markov attribution benchmark: journeyloop against ChannelAttribution, one subprocess per case.

Example::

    python bench/run_markov.py --preset 1m_x20 --orders 1 2 3 4 --tools journeyloop ca1 ca2 \\
        --repeat 1 --timeout 900 --out bench/results/markov.jsonl

Tools: ``journeyloop`` (exact), ``ca1`` / ``ca2`` (ChannelAttribution ``markov_model`` with
``ncore=1`` / ``ncore=2``). For every repetition, preset and order the tools run in the order
given, so they alternate (journeyloop, ca1, ca2, journeyloop, ...).

Each case is a fresh Python process that imports the tool, reads the table from the parquet
cache (``bench/generate_paths.py``; generated first, in this process, if missing), and times only
the attribution call. Memory: the child resets its peak-RSS counter (``/proc/self/clear_refs``)
just before the call and reads its own ``VmHWM`` after it (``peak_rss_call_mb``): the peak RSS
from the start of the call, table and libraries included; ``rss_before_call_mb`` is what was
resident before it and ``call_extra_mb`` the difference (``peak_source: "VmHWM"``; older records
took it from ``ru_maxrss``). Of a call killed on timeout the parent reads the child's ``VmHWM``
just before the kill, a lower bound of the peak. ``peak_rss_mb`` is the child's ``ru_maxrss``
from ``os.wait4``, which also counts the runner's RSS at the fork. Before the call the child
asks Arrow's allocator to give back the memory the parquet read freed and keeps
(``arrow_released``; ``rss_after_read_mb`` is the RSS before that). A case still running
``--timeout`` seconds after its call started (or ``--setup-timeout`` seconds after its start, if
the call has not started) is killed (``SIGKILL`` to its process group) and recorded with
``status: "timeout"``.

journeyloop's call is ``MarkovModel(order=k).fit(Journeys.from_paths(df))`` then
``.attribution()``, with the journeys kept alive until the call ends (``journeys: "kept"``), or
with ``--release-journeys`` let go after the fit, as in the one-line pipeline
``jl.MarkovModel(order=k).fit(jl.Journeys.from_paths(df)).attribution()`` (``journeys:
"released"``).

With ``--warm-up`` the child first makes the same call (same tool, order and ``ncore``) on the
table's first ``WARM_UP_ROWS`` rows, before the peak-RSS reset (``warm_up: true``). The measured
call then no longer pages in the tool's code (shared-library pages, counted in RSS on their first
use: ``bench/baseline_rss.py --calls`` shows how much), and what it adds is the
memory its data takes.

One JSON line per case (and repetition) is appended to ``--out``. journeyloop's attribution is
saved to ``bench/.cache/attribution/`` and ChannelAttribution's is compared with it:
``l1_conversions = sum_c |CA_c - journeyloop_c| / total conversions``, ``l1_value`` likewise
with the total value.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import importlib
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = Path(os.environ.get("JOURNEYLOOP_BENCH_CACHE") or BENCH_DIR / ".cache")
ATTR_DIR = CACHE_DIR / "attribution"
TOOLS = {"journeyloop": None, "ca1": 1, "ca2": 2}  # tool -> ChannelAttribution ncore
WARM_UP_ROWS = 20  # rows of the warm-up call (--warm-up)

PATH_COLS = dict(
    path="path",
    conversions="total_conversions",
    nulls="total_null",
    value="total_conversion_value",
)


# --------------------------------------------------------------------------- child side


def _proc_status_kb(field: str, pid: int | str = "self") -> int | None:
    """A ``/proc/<pid>/status`` field in kB (this process by default); None if it cannot be
    read (the process has gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _write_json(path: str | Path, obj: Any) -> None:
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(obj))
    tmp.replace(path)


def reset_peak_rss(res: dict[str, Any]) -> None:
    """Resets the peak-RSS counter (VmHWM and ru_maxrss) to the current RSS, and records
    ``hwm_reset`` and ``rss_before_call_mb`` in ``res``."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        res["hwm_reset"] = True
    except OSError:
        res["hwm_reset"] = False
    res["rss_before_call_mb"] = (_proc_status_kb("VmRSS") or 0) / 1024


def call_tool(spec: dict[str, Any], df: Any, res: dict[str, Any]) -> tuple[list[str], Any, Any]:
    """The timed attribution call of ``spec['tool']`` on ``df``: records its times in ``res`` and
    returns the channels and their conversions and value."""
    order = spec["order"]
    if spec["tool"] == "journeyloop":
        import journeyloop as jl

        t0 = time.perf_counter()
        journeys = jl.Journeys.from_paths(df, **PATH_COLS)
        t1 = time.perf_counter()
        model = jl.MarkovModel(order=order).fit(journeys)
        if spec.get("release_journeys"):
            # As in ``jl.MarkovModel(order=k).fit(jl.Journeys.from_paths(df)).attribution()``,
            # where nothing refers to the journeys after the fit.
            del journeys
        # Otherwise they stay alive, as in a notebook that goes on using them.
        attr = model.attribution()
        t2 = time.perf_counter()
        res.update(
            wall_s=t2 - t0,
            from_paths_s=t1 - t0,
            fit_attribution_s=t2 - t1,
            n_states=model.n_states_,
            conversion_rate=model.conversion_rate_,
        )
        channels = [str(c) for c in attr["channel"]]
        conv, value = attr["conversions"].tolist(), attr["value"].tolist()
    else:
        from ChannelAttribution import markov_model

        t0 = time.perf_counter()
        out = markov_model(
            df,
            "path",
            "total_conversions",
            var_value="total_conversion_value",
            var_null="total_null",
            order=order,
            ncore=spec["ncore"],
            seed=spec["ca_seed"],
            verbose=False,
            flg_pro=False,
        )
        res["wall_s"] = time.perf_counter() - t0
        if isinstance(out, dict):  # out_more=True shape, in case a version returns it
            out = out["result"]
        # columns: channel_name, <var_conv>, <var_value>
        channels = [str(c).strip() for c in out.iloc[:, 0]]
        conv, value = out.iloc[:, 1].astype(float).tolist(), out.iloc[:, 2].astype(float).tolist()
    return channels, conv, value


def child(spec_file: str) -> None:
    """Runs one case described by the JSON file ``spec_file``; writes ``spec['result']``."""
    spec = json.loads(Path(spec_file).read_text())
    status_file, result_file = spec["status"], spec["result"]
    res: dict[str, Any] = {}
    _write_json(status_file, {"phase": "import", "t": time.time()})
    t0 = time.perf_counter()
    import gc

    import pandas as pd

    tool_module = "journeyloop" if spec["tool"] == "journeyloop" else "ChannelAttribution"
    importlib.import_module(tool_module)
    res["import_s"] = time.perf_counter() - t0

    _write_json(status_file, {"phase": "load", "t": time.time()})
    t0 = time.perf_counter()
    df = pd.read_parquet(spec["table"])
    res["load_s"] = time.perf_counter() - t0
    res["rows"] = len(df)
    res["input_mb"] = float(df.memory_usage(deep=True).sum()) / 2**20
    res["total_conversions"] = float(df["total_conversions"].sum())
    res["total_conversion_value"] = float(df["total_conversion_value"].sum())

    gc.collect()
    res["load_peak_rss_mb"] = (_proc_status_kb("VmHWM") or 0) / 1024
    if spec.get("warm_up"):
        call_tool(spec, df.head(WARM_UP_ROWS).reset_index(drop=True), {})
        gc.collect()
    # Arrow's allocator keeps much of what the parquet read freed (``bench/baseline_rss.py``
    # shows how much); it is given back before either tool's call, so that
    # the whole-process peak holds the table, not the reader's garbage.
    res["rss_after_read_mb"] = (_proc_status_kb("VmRSS") or 0) / 1024
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    res["arrow_released"] = True
    reset_peak_rss(res)
    # The parent reads the child's VmHWM before it kills a call that runs out of time.
    _write_json(
        status_file,
        {"phase": "call", "t": time.time(), "rss_before_call_mb": res["rss_before_call_mb"]},
    )

    channels, conv, value = call_tool(spec, df, res)
    res["peak_rss_call_mb"] = (_proc_status_kb("VmHWM") or 0) / 1024
    res["attribution"] = {"channel": channels, "conversions": conv, "value": value}
    _write_json(result_file, res)


# --------------------------------------------------------------------------- parent side


def machine_facts() -> dict[str, Any]:
    cpu = None
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def git(*a: str) -> str | None:
        try:
            return subprocess.run(
                ["git", *a], cwd=REPO_DIR, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    def build_time() -> str | None:  # the installed extension can predate the working tree
        spec = importlib.util.find_spec("journeyloop")
        for loc in (spec.submodule_search_locations or []) if spec else []:
            for so in sorted(Path(loc).glob("_core*.so")):
                mtime = dt.datetime.fromtimestamp(so.stat().st_mtime, dt.timezone.utc)
                return mtime.isoformat(timespec="seconds")
        return None

    # The results file itself changes during a run: not a change of the code measured.
    status = git(
        "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench/results"
    )
    return dict(
        rev=git("rev-parse", "--short=12", "HEAD"),
        dirty=bool(status) if status is not None else None,
        host=platform.node(),
        nproc=len(os.sched_getaffinity(0)),
        cpu_count=os.cpu_count(),
        cpu=cpu,
        python=platform.python_version(),
        journeyloop=version("journeyloop"),
        journeyloop_built=build_time(),
        channelattribution=version("ChannelAttribution"),
    )


def _table_fingerprint(table: Path) -> str:
    """Identifies a cached table by its sidecar (parameters and totals, not the timing)."""
    meta = _read_json(table.with_suffix(".json"))
    if not isinstance(meta, dict):
        return f"mtime-{table.stat().st_mtime_ns}"
    meta.pop("generate_seconds", None)
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:16]


def _attr_file(key: str, order: int, tool: str) -> Path:
    return ATTR_DIR / f"{key}-order{order}-{tool}.json"


def _shown(path: Path) -> str:
    """The path relative to the repository, or whole when the cache is elsewhere."""
    try:
        return str(path.relative_to(REPO_DIR))
    except ValueError:
        return str(path)


def _l1(
    ref: dict[str, Any], other: dict[str, Any], total_conv: float, total_value: float
) -> dict[str, Any]:
    r_conv = dict(zip(ref["channel"], ref["conversions"]))
    r_val = dict(zip(ref["channel"], ref["value"]))
    o_conv = dict(zip(other["channel"], other["conversions"]))
    o_val = dict(zip(other["channel"], other["value"]))
    names = set(r_conv) | set(o_conv)
    d_conv = sum(abs(o_conv.get(c, 0.0) - r_conv.get(c, 0.0)) for c in names)
    d_val = sum(abs(o_val.get(c, 0.0) - r_val.get(c, 0.0)) for c in names)
    return dict(
        l1_conversions=d_conv / total_conv if total_conv else None,
        l1_value=d_val / total_value if total_value else None,
        channels_only_in_ca=sorted(set(o_conv) - set(r_conv)) or None,
        channels_missing_in_ca=sorted(set(r_conv) - set(o_conv)) or None,
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def run_child(
    script: Path,
    spec_file: Path,
    log_file: Path,
    status_file: Path,
    timeout: float,
    setup_timeout: float,
) -> tuple[bool, int, Any, float, float | None]:
    """Runs ``script --child spec_file`` in its own process group, output to ``log_file``.

    The child writes ``{"phase": ..., "t": ...}`` to ``status_file``; it is killed
    (``SIGKILL`` to its group) ``timeout`` seconds after its ``call`` phase started, or
    ``setup_timeout`` seconds after its start if the call has not started. Returns
    (killed, wait status, resource usage of the child, spawn time, and of a killed child the
    VmHWM in MB read just before the kill, else None).
    """
    t_spawn = time.time()
    hwm_at_kill = None
    with open(log_file, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(script), "--child", str(spec_file)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: killed as a whole on timeout
            cwd=REPO_DIR,
        )
    killed = False
    try:
        while True:
            pid, wstatus, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            st = _read_json(status_file) or {}
            started = st.get("t") if st.get("phase") == "call" else None
            deadline = started + timeout if started else t_spawn + setup_timeout
            if time.time() > deadline:
                hwm_kb = _proc_status_kb("VmHWM", proc.pid)
                hwm_at_kill = None if hwm_kb is None else hwm_kb / 1024
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                _, wstatus, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02 if time.time() - t_spawn < 2 else 0.2)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.wait4(proc.pid, 0)
        raise
    return killed, wstatus, ru, t_spawn, hwm_at_kill


def run_case(
    tool: str,
    preset: str,
    seed: int,
    order: int,
    table: Path,
    timeout: float,
    ca_seed: int,
    workdir: Path,
    setup_timeout: float = 600.0,
    release_journeys: bool = False,
    warm_up: bool = False,
) -> dict[str, Any]:
    """Runs one case in a subprocess and returns its record (without machine facts)."""
    tag = f"{preset}-o{order}-{tool}-{time.time_ns()}"
    spec: dict[str, Any] = dict(
        tool=tool,
        order=order,
        ncore=TOOLS[tool],
        ca_seed=ca_seed,
        release_journeys=release_journeys,
        warm_up=warm_up,
        table=str(table),
        status=str(workdir / f"{tag}.status"),
        result=str(workdir / f"{tag}.result"),
    )
    spec_file = workdir / f"{tag}.spec"
    spec_file.write_text(json.dumps(spec))
    log_file = workdir / f"{tag}.log"
    rec: dict[str, Any] = dict(preset=preset, seed=None if preset == "data" else seed)
    rec.update(order=order, tool=tool, ncore=TOOLS[tool], timeout_s=timeout)
    if warm_up:
        rec["warm_up"] = True
    if tool != "journeyloop":
        rec["ca_seed"] = ca_seed
    else:
        rec["journeys"] = "released" if release_journeys else "kept"

    killed, wstatus, ru, t_spawn, hwm_at_kill = run_child(
        Path(__file__).resolve(), spec_file, log_file, Path(spec["status"]), timeout,
        setup_timeout,
    )  # fmt: skip
    returncode = os.waitstatus_to_exitcode(wstatus)  # already reaped by wait4
    rec["elapsed_s"] = round(time.time() - t_spawn, 3)
    rec["peak_rss_mb"] = round(ru.ru_maxrss / 1024, 1)  # KiB on Linux; this child only

    res = _read_json(Path(spec["result"]))
    st = _read_json(Path(spec["status"])) or {}
    if killed:
        rec["status"] = "timeout"
        rec["wall_s"] = None
        rec["killed_in_phase"] = st.get("phase")
        if st.get("phase") == "call":
            rec["killed_after_s"] = round(time.time() - st["t"], 1)
            # VmHWM read just before the kill: the peak since the reset, as a finished child's
            # peak_rss_call_mb, and a lower bound of the peak the call would have reached.
            if hwm_at_kill is not None and "rss_before_call_mb" in st:
                rec["peak_rss_call_mb"] = round(hwm_at_kill, 1)
                rec["rss_before_call_mb"] = round(st["rss_before_call_mb"], 1)
                rec["call_extra_mb"] = round(hwm_at_kill - st["rss_before_call_mb"], 1)
                rec["peak_source"] = "VmHWM"
    elif res is None:
        rc = returncode
        rec["status"] = f"killed by signal {-rc}" if rc < 0 else f"error (exit {rc})"
        rec["wall_s"] = None
        tail = log_file.read_text(errors="replace").strip().splitlines()[-8:]
        rec["log_tail"] = tail
    else:
        rec["status"] = "ok"
        attribution = res.pop("attribution")
        for k, v in res.items():
            rec[k] = round(v, 6) if isinstance(v, float) else v
        # From the child's own VmHWM after the reset; before this field was recorded
        # (``peak_source``), call_extra_mb was taken from ru_maxrss, which also counts the
        # runner's RSS at the fork.
        rec["call_extra_mb"] = round(res["peak_rss_call_mb"] - res["rss_before_call_mb"], 1)
        rec["peak_source"] = "VmHWM"
        rec["call_extra_over_input"] = round(rec["call_extra_mb"] / res["input_mb"], 3)
        saved = _save_attribution(preset, seed, table, order, tool, res, attribution)
        rec["attribution_file"] = str(saved)
    for suffix in ("spec", "status", "result"):
        with contextlib.suppress(FileNotFoundError):
            (workdir / f"{tag}.{suffix}").unlink()
    if rec["status"] == "ok":
        log_file.unlink()
    else:
        rec["log"] = str(log_file)
    return rec


def _key(preset: str, seed: int) -> str:
    return "data" if preset == "data" else f"{preset}-seed{seed}"


def _save_attribution(
    preset: str,
    seed: int,
    table: Path,
    order: int,
    tool: str,
    res: dict[str, Any],
    attribution: dict[str, Any],
) -> Path:
    ATTR_DIR.mkdir(parents=True, exist_ok=True)
    path = _attr_file(_key(preset, seed), order, tool)
    _write_json(
        path,
        dict(
            table_fingerprint=_table_fingerprint(table),
            total_conversions=res["total_conversions"],
            total_conversion_value=res["total_conversion_value"],
            **attribution,
        ),
    )
    return path


def compare(rec: dict[str, Any], table: Path) -> None:
    """Adds the L1 distances of a ChannelAttribution record from journeyloop's attribution."""
    if rec["tool"] == "journeyloop" or rec["status"] != "ok":
        return
    key = _key(rec["preset"], rec["seed"] or 0)
    ref = _read_json(_attr_file(key, rec["order"], "journeyloop"))
    other = _read_json(Path(rec["attribution_file"]))
    if ref is None or ref.get("table_fingerprint") != _table_fingerprint(table):
        rec["l1_conversions"] = rec["l1_value"] = None
        rec["l1_note"] = "no journeyloop attribution of this table and order (run journeyloop)"
        return
    l1 = _l1(ref, other, ref["total_conversions"], ref["total_conversion_value"])
    rec.update({k: (round(v, 8) if isinstance(v, float) else v) for k, v in l1.items()})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description="Markov attribution benchmark (one subprocess per case).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    ap.add_argument("--preset", nargs="+", default=None, help="preset(s) of generate_paths.py")
    ap.add_argument("--orders", nargs="+", type=int, default=[1])
    ap.add_argument("--tools", nargs="+", choices=list(TOOLS), default=list(TOOLS))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per attribution call")
    ap.add_argument(
        "--setup-timeout",
        type=float,
        default=600.0,
        help="seconds allowed for a case's imports and table load (before the timed call)",
    )
    ap.add_argument("--seed", type=int, default=0, help="generator seed of the presets")
    ap.add_argument("--ca-seed", type=int, default=0, help="ChannelAttribution's seed")
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "markov.jsonl")
    ap.add_argument(
        "--release-journeys",
        action="store_true",
        help="journeyloop lets the journeys go after the fit (recorded as journeys: released)",
    )
    ap.add_argument(
        "--warm-up",
        action="store_true",
        help=f"each case first calls its tool on the table's first {WARM_UP_ROWS} rows "
        "(recorded as warm_up: true)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return
    if not args.preset:
        ap.error("--preset is required")

    sys.path.insert(0, str(BENCH_DIR))
    import generate_paths

    for p in args.preset:
        if p not in generate_paths.PRESETS:
            ap.error(f"unknown preset {p!r}; presets: {', '.join(generate_paths.PRESETS)}")
    if args.timeout <= 0 or args.repeat < 1 or min(args.orders) < 1:
        ap.error("need --timeout > 0, --repeat >= 1 and orders >= 1")

    facts = machine_facts()
    print(
        f"rev {facts['rev']}{' (dirty)' if facts['dirty'] else ''}, nproc {facts['nproc']}, "
        f"cpu {facts['cpu']}, journeyloop {facts['journeyloop']}, "
        f"ChannelAttribution {facts['channelattribution']}",
        file=sys.stderr,
    )
    tables = {}
    for p in args.preset:
        t0 = time.perf_counter()
        tables[p] = generate_paths.build(p, args.seed, quiet=True)
        print(f"table {p}: {tables[p]} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    logdir = CACHE_DIR / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jlbench-") as tmp:
        for rep in range(args.repeat):
            for p in args.preset:
                for order in args.orders:
                    for tool in args.tools:
                        rec = run_case(
                            tool,
                            p,
                            args.seed,
                            order,
                            tables[p],
                            args.timeout,
                            args.ca_seed,
                            Path(tmp),
                            args.setup_timeout,
                            args.release_journeys,
                            args.warm_up,
                        )
                        if "log" in rec:  # keep the log of a failed case
                            kept = logdir / Path(rec["log"]).name
                            Path(rec["log"]).replace(kept)
                            rec["log"] = _shown(kept)
                        compare(rec, tables[p])
                        rec["attribution_file"] = (
                            _shown(Path(rec["attribution_file"]))
                            if rec.get("attribution_file")
                            else None
                        )
                        rec = {
                            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                            "repeat": rep,
                            **rec,
                            **facts,
                        }
                        with open(args.out, "a") as f:
                            f.write(json.dumps(rec) + "\n")
                        _print_case(rec)


def _print_case(r: dict[str, Any]) -> None:
    if r["status"] == "ok":
        wall = f"{r['wall_s']:.3f} s"
    elif r["status"] == "timeout":
        wall = f"> {r['timeout_s']:g} s"
    else:
        wall = r["status"]
    extra = ""
    if r.get("l1_conversions") is not None:
        extra = f", L1 conv {100 * r['l1_conversions']:.3f} %, value {100 * r['l1_value']:.3f} %"
    print(
        f"{r['preset']:>9} order {r['order']} {r['tool']:<11} {wall:>12}  "
        f"peak RSS {r.get('peak_rss_call_mb', r['peak_rss_mb']):.0f} MB{extra}",
        flush=True,
    )


if __name__ == "__main__":
    main()
