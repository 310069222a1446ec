"""Ctrl-C: how soon long work stops after SIGINT, and that it leaves nothing behind.

Each workload runs in a child Python process: the data are built, the child prints
``started``, and after ``--wait`` seconds (well inside the long call) SIGINT is sent. The delay
from the signal to the child's exit is measured, with how the child ended (an uncaught
KeyboardInterrupt ends Python by SIGINT) and whether anything was written. Workloads:

- ``fit``: the fit of a nearly closed chain (long journeys over six channels at order 6),
  then a save that must not happen;
- ``bootstrap``: a million bootstrap replicates of an order-2 attribution;
- ``simulation``: a hundred million simulated journeys;
- ``shapley``: Shapley values sampled from ten million orderings.

One JSON line per run is appended to ``--out``, tagged with the commit (``rev``) and whether
tracked files were modified (``dirty``). tests/python/test_interrupt.py runs the same
workloads.

Usage::

    python bench/interrupt.py --repeat 5
    python bench/interrupt.py --work fit --repeat 1 --out /tmp/interrupt.jsonl
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR / "bench"))

from revision import git  # noqa: E402

SETUP = """
import sys
import numpy as np
import journeyloop as jl
rng = np.random.default_rng(1)
names = [f"c{i}" for i in range(6)]
codes = rng.integers(0, 6, (20_000, 300))
paths = [" > ".join(names[c] for c in row) for row in codes]
journeys = jl.Journeys.from_paths(
    {"path": paths, "conversions": rng.integers(0, 2, 20_000), "nulls": np.ones(20_000, int)}
)
small = jl.Journeys.from_paths(
    {"path": paths[:2000], "conversions": rng.integers(0, 2, 2000), "nulls": np.ones(2000, int)}
)
"""

WORK = {
    "fit": """
model = jl.MarkovModel(order=6, max_states=10**7).fit(journeys)
model.save(sys.argv[1])
""",
    "bootstrap": """
model = jl.MarkovModel(order=2).fit(small)
model.attribution(ci=0.95, n_boot=10**6, seed=1).to_csv(sys.argv[1])
""",
    "simulation": """
model = jl.MarkovModel(order=1).fit(small)
model.simulate(10**8, seed=1).save(sys.argv[1])
""",
    "shapley": """
model = jl.MarkovModel(order=3).fit(small)
model.shapley(method="sampled", permutations=10**7, seed=1).to_csv(sys.argv[1])
""",
}


@dataclass
class Outcome:
    """How one interrupted child ended."""

    work: str
    returncode: int
    delay_s: float
    keyboard_interrupt: bool
    left_behind: list[str]
    stderr: str


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt(work: str, wait: float = 1.0) -> Outcome:
    """Runs workload ``work`` in a child, sends SIGINT ``wait`` seconds after it started, and
    returns how it ended."""
    code = SETUP + "\nprint('started', flush=True)\n" + textwrap.dedent(WORK[work])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.out"
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # A shell that starts a job in the background without job
            # control makes it ignore SIGINT, and its children inherit that:
            # Python then installs no KeyboardInterrupt handler. The child
            # gets the default disposition whatever this process has.
            preexec_fn=_default_sigint,
        )
        assert child.stdout is not None and child.stderr is not None
        line = child.stdout.readline()
        if line.strip() != "started":
            child.wait()
            raise RuntimeError(f"{work}: the child failed before its work:\n{child.stderr.read()}")
        time.sleep(wait)
        if child.poll() is not None:
            raise RuntimeError(f"{work}: the work ended before it could be interrupted")
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        try:
            _, err = child.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            child.kill()  # not left running past the check
            child.communicate()
            raise
        delay = time.monotonic() - sent
        left = sorted(p.name for p in Path(tmp).iterdir())
    return Outcome(work, child.returncode, delay, "KeyboardInterrupt" in err, left, err)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", nargs="+", choices=sorted(WORK), default=sorted(WORK))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wait", type=float, default=1.0, help="seconds before SIGINT")
    parser.add_argument(
        "--out", type=Path, default=REPO_DIR / "bench" / "results" / "interrupt.jsonl"
    )
    args = parser.parse_args()
    rev = git("rev-parse", "--short=12", "HEAD")
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    for work in args.work:
        for i in range(args.repeat):
            o = interrupt(work, args.wait)
            line = {
                "rev": rev,
                "dirty": dirty,
                "machine": platform.machine(),
                "work": work,
                "run": i,
                "delay_s": round(o.delay_s, 4),
                "returncode": o.returncode,
                "keyboard_interrupt": o.keyboard_interrupt,
                "left_behind": o.left_behind,
            }
            print(json.dumps(line), flush=True)
            with args.out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
