"""Ctrl-C during long C++ work: the call ends with KeyboardInterrupt soon after SIGINT, and
nothing is left half-written.

Each workload of bench/interrupt.py (a fit, bootstrap replicates, a simulation, sampled
Shapley values) runs in a child process: the signal must reach a main thread that is busy in
C++ without the GIL, where Python's own handler alone would wait for the work to end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "interrupt.py"


def bench() -> ModuleType:
    """bench/interrupt.py as a module (its dataclass needs it in sys.modules)."""
    name = "journeyloop_bench_interrupt"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")


@pytest.mark.parametrize("work", ["bootstrap", "fit", "shapley", "simulation"])
def test_sigint_stops_long_work_with_keyboard_interrupt(work: str) -> None:
    b = bench()
    assert sorted(b.WORK) == ["bootstrap", "fit", "shapley", "simulation"]
    o = b.interrupt(work, wait=1.0)
    # Python ends on an uncaught KeyboardInterrupt by killing itself with SIGINT.
    assert o.returncode == -signal.SIGINT, o.stderr
    assert o.keyboard_interrupt, o.stderr
    # Promptly: the work checks for a stop between short steps. The bound is loose, for busy
    # machines (each of these calls runs for minutes uninterrupted); bench/interrupt.py
    # measures the delay.
    assert o.delay_s < 5.0, f"{work}: {o.delay_s:.2f} s from SIGINT to exit"
    # Nothing written: no result, no temporary file.
    assert o.left_behind == []


def test_after_an_interrupt_the_next_call_runs(tmp_path: Path) -> None:
    # The stop request ends with the interrupted call: the same process fits again.
    code = bench().SETUP + textwrap.dedent(
        """
        import signal, threading
        ones = [1] * 20
        tiny = jl.Journeys.from_paths({"path": paths[:20], "conversions": ones, "nulls": ones})
        model = jl.MarkovModel(order=6, max_states=10**7).fit(tiny)
        before = model.conversion_rate_
        threading.Timer(1.0, signal.raise_signal, (signal.SIGINT,)).start()
        try:
            model.fit(journeys)
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted", model.conversion_rate_ == before, len(model._journeys))
        m = jl.MarkovModel(order=2).fit(small)
        print(m.conversion_rate_, m.attribution()["conversions"].sum(), small.total_conversions)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        preexec_fn=bench()._default_sigint,  # as bench/interrupt.py starts its children
    ).stdout.split("\n")
    # The interrupted fit left the model as it was.
    assert out[0] == "interrupted True 20"
    rate, attributed, conversions = out[1].split()
    # The model a process that was never interrupted fits, and a whole attribution.
    data: dict[str, object] = {}
    exec(bench().SETUP, data)
    import journeyloop as jl

    assert float(rate) == jl.MarkovModel(order=2).fit(data["small"]).conversion_rate_
    assert float(attributed) == pytest.approx(float(conversions), rel=1e-12)


def test_the_benchmark_writes_a_line_per_run(tmp_path: Path) -> None:
    out = tmp_path / "interrupt.jsonl"
    subprocess.run(
        [sys.executable, str(BENCH), "--work", "simulation", "--repeat", "1", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert line["work"] == "simulation" and line["keyboard_interrupt"] is True
    assert line["returncode"] == -signal.SIGINT and line["left_behind"] == []
