"""What-if scenarios benchmark: the time of ``jl.compare`` with ten scenarios, and of each
exact scenario (``model.apply``) on its own.

Example::

    python bench/compare.py --preset criteo --order 1 --out bench/results/compare_scenarios.jsonl

The table comes from ``bench/generate_paths.py`` (generated first if missing). The model is
fitted once (not timed); then ``jl.compare(model, scenarios)`` is timed (``case: "compare"``,
all ten scenarios, the baseline included), then each scenario's ``model.apply`` on its own
(``case: "apply"``, named by the scenario). ``--paths N`` generates the preset's shape with N
distinct paths instead of the full table (a small run; the JSON line records ``paths``). The
scenarios are built from the model's most visited channels: removals (one channel, a group of
three), scales and sets of transitions into CONVERSION, a redirect, a new channel, value changes
and a combination.

One JSON line per case is appended to ``--out``, tagged with the commit of the checkout
(``git rev-parse --short HEAD``, with ``+dirty`` when the tree has changes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate_paths  # noqa: E402

import journeyloop as jl  # noqa: E402


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=HERE, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def scenarios(model: jl.MarkovModel) -> dict[str, jl.Scenario]:
    """Ten scenarios on the model's most visited channels."""
    states = model.states()
    channels = set(model.channels_)
    top = [
        s for s in states.sort_values("expected_visits", ascending=False)["state"] if s in channels
    ][:4]
    a, b, c, d = (top * 4)[:4]
    return {
        "remove top channel": jl.Scenario().remove(a),
        "remove three channels": jl.Scenario().remove(a, b, c),
        "scale conversion": jl.Scenario().scale(b, "CONVERSION", 1.2),
        "set conversion": jl.Scenario().set(c, "CONVERSION", 0.5),
        "scale entry": jl.Scenario().scale("START", d, 1.5),
        "redirect": jl.Scenario().redirect(b, a, 0.3),
        "new channel": jl.Scenario().add_channel(
            "new_channel", {"START": 0.05, a: 0.1}, {"CONVERSION": 0.2, "NULL": 0.5, b: 0.3}
        ),
        "value +10%": jl.Scenario().scale_value(1.1),
        "value of one channel": jl.Scenario().set_value(100.0, a),
        "combined": jl.Scenario().remove(d).scale(b, "CONVERSION", 1.2).scale_value(1.1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="criteo", choices=list(generate_paths.PRESETS))
    ap.add_argument("--order", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument(
        "--paths",
        type=int,
        default=None,
        help="generate the preset's shape with this many distinct paths instead (not cached): "
        "a small run of a large preset",
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "compare_scenarios.jsonl")
    args = ap.parse_args()

    if args.paths is None:
        df = generate_paths.load(args.preset)
    else:
        params = {**generate_paths.DEFAULTS, **generate_paths.PRESETS[args.preset]}
        params.pop("csv", None)
        params["n_paths"] = args.paths
        df = generate_paths.generate(seed=0, **params)
    journeys = jl.Journeys.from_paths(
        df,
        path="path",
        conversions="total_conversions",
        nulls="total_null",
        value="total_conversion_value",
    )
    model = jl.MarkovModel(order=args.order).fit(journeys)
    assert isinstance(model, jl.MarkovModel)
    del journeys
    chosen = scenarios(model)
    base = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "preset": args.preset,
        "paths": len(df),
        "order": args.order,
        "states": model.n_states_,
        "transitions": len(model.transition_probabilities()),
        "threads": args.threads,
    }
    records = []
    t0 = time.perf_counter()
    table = jl.compare(model, chosen, threads=args.threads)
    records.append(
        base | {"case": "compare", "scenarios": len(chosen), "wall_s": time.perf_counter() - t0}
    )
    exact = dict(zip(table["scenario"], table["conversion_probability"]))
    for name, scenario in chosen.items():
        t0 = time.perf_counter()
        changed = model.apply(scenario)
        wall = time.perf_counter() - t0
        records.append(
            base
            | {
                "case": "apply",
                "scenario": name,
                "wall_s": wall,
                "conversion_probability": changed.conversion_rate_,
                "same_as_compare": changed.conversion_rate_ == exact[name],
            }
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    for r in records:
        print(f"{r['case']:8} {r.get('scenario', ''):24} {r['wall_s']:.4f} s")


if __name__ == "__main__":
    main()
