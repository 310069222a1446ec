"""How close each attribution method comes to a planted truth, and how far it moves under data loss.

Example::

    python bench/study.py            # the study of docs/study.md (rewrites its tables and plot)
    python bench/study.py --quick --out /tmp/study   # a small run, written to /tmp/study only

For each regime of ``jl.synthetic`` (short and long journeys, a correlated no-effect
retargeting channel, strong sales follow-up, a strong loyalty loop) the script generates
``--customers`` customers (200,000; 2,000 with ``--quick``; seed ``--seed``), attributes their
conversions with every method (first touch, last touch, linear, position based, time decay
with a 7-day half-life, Markov orders 1 to 4, Shapley at order 1, and the loop model's
attribution of purchases in the loyalty regime) and compares each method's channel shares with
the true shares: each channel's expected drop in conversions when it alone is switched off,
over the sum of those drops (``data.truth["share"]``). The error of a method is the total
absolute share error, ``sum_c |share_method(c) - share_true(c)|`` (0: the truth; 2:
disjoint). Then it degrades the event log four ways (20 % of identities split, 20 % of touches
lost, 20 % of conversions lost, ``email`` no longer tracked after 2025-03-01) and measures how
far each method's shares move from its own shares on the clean log, with the same distance.

Outputs, without ``--out``: ``docs/study.png``, the generated part of ``docs/study.md`` (between
its ``study:begin`` and ``study:end`` markers) and one JSON line per figure appended to
``bench/results/study.jsonl``, each naming the commit. With ``--out DIR``: ``study.png``,
``study_tables.md`` and ``study.jsonl`` in DIR, and nothing else is written.

The plot needs matplotlib (``pip install journeyloop[plot]``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import journeyloop as jl
from journeyloop import synthetic

REPO = Path(__file__).resolve().parents[1]
REGIMES = ["short", "long", "retargeting", "sales_followup", "loyalty"]
HEURISTICS = ["first_touch", "last_touch", "linear", "position_based", "time_decay"]
ORDERS = [1, 2, 3, 4]
METHODS = [*HEURISTICS, *(f"markov_{k}" for k in ORDERS), "shapley", "loop_markov"]
LOSSES = ["split_identities", "lost_touches", "lost_conversions", "stopped_channel"]
LOSS_RATE = 0.2
STOPPED = ("email", "2025-03-01")
BEGIN, END = "<!-- study:begin -->", "<!-- study:end -->"


def shares(journeys: jl.Journeys, histories: jl.Histories | None) -> dict[str, pd.Series]:
    """Each method's share of conversions per channel."""
    out: dict[str, pd.Series] = {}
    tidy = jl.attribute(journeys, methods=[*HEURISTICS, "shapley"], order=1)
    for method, frame in tidy.groupby("method", sort=False):
        out[str(method)] = frame.set_index("channel")["share"]
    for k in ORDERS:
        model = jl.MarkovModel(order=k).fit(journeys)
        out[f"markov_{k}"] = model.attribution().set_index("channel")["share"]
    if histories is not None:
        loop = jl.MarkovModel(order=1).fit(histories)
        out["loop_markov"] = loop.attribution().set_index("channel")["share"]
    return out


def distance(a: pd.Series, b: pd.Series) -> float:
    """Total absolute difference of two share vectors over the union of their channels."""
    index = a.index.union(b.index)
    return float((a.reindex(index, fill_value=0.0) - b.reindex(index, fill_value=0.0)).abs().sum())


def quiet(make: Callable[[], Any]) -> Any:
    """Build journeys from a degraded log: its DataWarnings (rows it cannot use, all counted in
    the report) are expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.DataWarning)
        return make()


def load(events: pd.DataFrame, loop: bool) -> tuple[jl.Journeys, jl.Histories | None]:
    journeys = quiet(
        lambda: jl.Journeys.from_events(events, conversion="conversion", value="value")
    )
    histories = None
    if loop:
        histories = quiet(
            lambda: jl.Histories.from_events(events, conversion="conversion", value="value")
        )
    return journeys, histories


def degrade(events: pd.DataFrame, loss: str, seed: int) -> synthetic.Degraded:
    if loss == "split_identities":
        return synthetic.split_identities(events, LOSS_RATE, seed=seed)
    if loss == "lost_touches":
        return synthetic.drop_touches(events, LOSS_RATE, seed=seed)
    if loss == "lost_conversions":
        return synthetic.drop_conversions(events, LOSS_RATE, seed=seed)
    return synthetic.stop_tracking(events, *STOPPED)


def study(customers: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    detail: dict[str, Any] = {}
    for regime in REGIMES:
        t0 = time.perf_counter()
        data = synthetic.generate(customers, regime=regime, seed=seed)
        loop = regime == "loyalty"
        truth = data.truth.set_index("channel")["share"]
        clean = shares(*load(data.events, loop))
        for method, s in clean.items():
            errors.append({"regime": regime, "method": method, "error": distance(s, truth)})
        detail[regime] = {"truth": truth, "clean": clean}
        for loss in LOSSES:
            degraded = degrade(data.events, loss, seed)
            moved = shares(*load(degraded.events, loop))
            for method, s in moved.items():
                moves.append(
                    {
                        "regime": regime,
                        "loss": loss,
                        "method": method,
                        "movement": distance(s, clean[method]),
                        "error": distance(s, truth),
                        "changed": degraded.changed,
                    }
                )
        print(f"{regime}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return pd.DataFrame(errors), pd.DataFrame(moves), detail


def fmt(x: float) -> str:
    return "n/a" if pd.isna(x) else f"{x:.2f}"


def markdown(frame: pd.DataFrame, first: str) -> str:
    cols = [str(c) for c in frame.columns]
    lines = [
        "| " + " | ".join([first, *cols]) + " |",
        "|" + "---|" * (len(cols) + 1),
    ]
    for name, row in frame.iterrows():
        lines.append("| " + " | ".join([f"`{name}`", *(fmt(v) for v in row)]) + " |")
    return "\n".join(lines)


def tables(
    errors: pd.DataFrame, moves: pd.DataFrame, detail: dict[str, Any], customers: int, seed: int
) -> str:
    err = errors.pivot(index="method", columns="regime", values="error").reindex(
        index=METHODS, columns=REGIMES
    )
    err["mean"] = err[REGIMES[:-1]].mean(axis=1)
    move = moves.groupby(["method", "loss"])["movement"].mean().unstack().reindex(METHODS)[LOSSES]
    rt = detail["retargeting"]
    retarget = pd.DataFrame(
        {m: [float(s.get("retargeting", 0.0))] for m, s in rt["clean"].items()},
        index=["retargeting"],
    ).T
    retarget.loc["truth"] = float(rt["truth"]["retargeting"])
    loyal = detail["loyalty"]
    loyalty_channels = ["onboarding", "nurture_email", "account_review"]
    loyalty = pd.DataFrame(
        {
            m: [float(s.reindex(loyalty_channels, fill_value=0.0).sum())]
            for m, s in loyal["clean"].items()
        },
        index=["loyalty channels"],
    ).T
    loyalty.loc["truth"] = float(loyal["truth"].reindex(loyalty_channels).sum())
    long = detail["long"]
    per_channel = pd.DataFrame(
        {"truth": long["truth"]}
        | {m: long["clean"][m] for m in ("last_touch", "linear", "markov_1", "markov_4", "shapley")}
    )
    best = err["mean"].idxmin()
    m1 = err.loc["markov_1"]
    parts = [
        f"Generated by `python bench/study.py` ({customers:,} customers per regime, seed {seed}).",
        "",
        "**Error against the truth** (total absolute share error, 0 is the truth, 2 the most "
        "wrong; `mean` over the four funnel regimes; `loop_markov` applies to the loyalty "
        "regime only):",
        "",
        markdown(err, "method"),
        "",
        "**Movement under data loss** (total absolute change of a method's shares from its "
        "shares on the clean log, mean over the five regimes (`loop_markov`: the loyalty "
        "regime); 20 % of identities split, 20 % "
        "of touches lost, 20 % of conversions lost, `email` untracked from 2025-03-01):",
        "",
        markdown(move, "method"),
        "",
        "**The no-effect channel** (share of conversions given to `retargeting` in the "
        "retargeting regime; its true share is 0):",
        "",
        markdown(retarget, "method"),
        "",
        "**The loyalty loop** (share of purchases given to `onboarding`, `nurture_email` and "
        "`account_review` together in the loyalty regime):",
        "",
        markdown(loyalty, "method"),
        "",
        "**Shares per channel in the long regime** (the true share and a few methods'):",
        "",
        markdown(per_channel, "channel"),
        "",
        "In figures: the method closest to the truth on average over the funnel regimes is "
        f"`{best}` (mean error {err.loc[best, 'mean']:.2f}); order-1 Markov's error is "
        f"{m1['short']:.2f} on short journeys, {m1['long']:.2f} on long ones and "
        f"{m1['retargeting']:.2f} with the retargeting channel, to which it gives "
        f"{100 * retarget.loc['markov_1', 'retargeting']:.1f} % of the conversions.",
    ]
    return "\n".join(parts)


def plot(errors: pd.DataFrame, moves: pd.DataFrame, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        msg = (
            "bench/study.py draws its plot with matplotlib: install it with "
            "`pip install journeyloop[plot]` (or `pip install matplotlib`)"
        )
        raise ImportError(msg) from err
    err = errors.pivot(index="method", columns="regime", values="error").reindex(
        index=METHODS, columns=REGIMES
    )
    move = moves.groupby(["method", "loss"])["movement"].mean().unstack().reindex(METHODS)[LOSSES]
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.5), gridspec_kw={"width_ratios": [5, 4]})
    for ax, frame, title in (
        (axes[0], err, "Error against the planted truth\n(total absolute share error)"),
        (axes[1], move, "Movement under data loss\n(change of shares, mean over regimes)"),
    ):
        values = frame.to_numpy(dtype=float)
        masked = np.ma.masked_invalid(values)
        image = ax.imshow(masked, cmap="viridis_r", aspect="auto", vmin=0.0)
        columns = [str(c) for c in frame.columns]
        ax.set_xticks(range(frame.shape[1]), columns, rotation=30, ha="right")
        ax.set_yticks(range(frame.shape[0]), [str(i) for i in frame.index])
        ax.set_title(title)
        top = float(np.nanmax(values))
        for i in range(frame.shape[0]):
            for j in range(frame.shape[1]):
                v = values[i, j]
                if not np.isnan(v):
                    color = "white" if v > 0.6 * top else "black"
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", color=color, fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def commit() -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short=12", "HEAD"), "dirty": bool(status)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run (2,000 customers)")
    parser.add_argument("--customers", type=int, default=None, help="customers per regime")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=None, help="write everything here instead")
    args = parser.parse_args(argv)
    customers = args.customers or (2_000 if args.quick else 200_000)
    tag = commit() | {"customers": customers, "seed": args.seed}  # before the doc is rewritten
    started = time.perf_counter()
    errors, moves, detail = study(customers, args.seed)
    text = tables(errors, moves, detail, customers, args.seed)
    if args.out is None:
        png = REPO / "docs" / "study.png"
        jsonl = REPO / "bench" / "results" / "study.jsonl"
        doc = REPO / "docs" / "study.md"
        page = doc.read_text(encoding="utf-8")
        head, rest = page.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        doc.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        png, jsonl = args.out / "study.png", args.out / "study.jsonl"
        (args.out / "study_tables.md").write_text(text + "\n", encoding="utf-8")
    plot(errors, moves, png)
    with open(jsonl, "a", encoding="utf-8") as fh:
        for row in errors.to_dict("records"):
            fh.write(json.dumps(tag | {"kind": "error"} | row) + "\n")
        for row in moves.to_dict("records"):
            fh.write(json.dumps(tag | {"kind": "loss"} | row) + "\n")
    print(text)
    print(f"study: {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
