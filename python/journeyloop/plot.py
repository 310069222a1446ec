"""Plots of attributions, removal effects and transition matrices, with matplotlib.

Every function draws on the matplotlib ``ax`` it is given (a new figure's when None) and
returns it, so that plots compose into a user's own figures. matplotlib is optional:
``pip install journeyloop[plot]``; without it each function raises an ImportError that says so.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import journeyloop as jl
>>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[30, 0, 20],
...                            nulls=[30, 20, 0])
>>> ax = jl.plot.attribution(jl.attribute(j, ["last_touch", "markov"]))
>>> ax.get_xlabel()
'conversions attributed'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._errors import InvalidInputError
from ._graph import circular_journey, journey_graph

__all__ = [
    "attribution",
    "attribution_over_time",
    "circular_journey",
    "handoffs",
    "journey_graph",
    "opener_closer",
    "removal_effects",
    "transition_matrix",
]

_KEYS = ("channel", "team", "group", "sequence")


def _axes(ax: Any) -> Any:
    """``ax``, or the axes of a new figure; ImportError naming the extra without matplotlib."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        msg = "journeyloop.plot needs matplotlib: pip install journeyloop[plot]"
        raise ImportError(msg) from err
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    return ax


def _key(frame: pd.DataFrame) -> str:
    for key in _KEYS:
        if key in frame.columns:
            return key
    msg = f"the frame has none of the key columns {', '.join(_KEYS)}: give an attribution frame"
    raise InvalidInputError(msg)


def _bounds(frame: pd.DataFrame, column: str) -> tuple[str, str] | None:
    """The columns of ``column``'s interval, when the frame has them."""
    for lower, upper in ((f"{column}_lower", f"{column}_upper"), ("lower", "upper")):
        if lower in frame.columns and upper in frame.columns:
            if (lower, upper) == ("lower", "upper") and column != "conversions":
                continue
            return lower, upper
    return None


def attribution(frame: pd.DataFrame, *, column: str = "conversions", ax: Any = None) -> Any:
    """Attributed conversions (or ``column``) per channel or team, one bar per method.

    ``frame`` is :func:`journeyloop.attribute`'s tidy frame (a ``method`` column: the methods
    side by side) or one method's frame (``model.attribution()``). Keys are sorted by their
    largest credit; intervals (``ci=``) are drawn as error bars.

    Returns
    -------
    The matplotlib axes drawn on.
    """
    if column not in frame.columns:
        msg = f"column {column!r} is not in the frame (its columns: {', '.join(frame.columns)})"
        raise InvalidInputError(msg)
    ax = _axes(ax)
    key = _key(frame)
    tidy = frame if "method" in frame.columns else frame.assign(method="")
    methods = list(dict.fromkeys(tidy["method"]))
    order = tidy.groupby(key, sort=False)[column].max().sort_values(ascending=True).index
    keys = list(order)
    height = 0.8 / max(1, len(methods))
    where = np.arange(len(keys), dtype=float)
    bounds = _bounds(tidy, column)
    for i, method in enumerate(methods):
        rows = tidy[tidy["method"] == method].set_index(key).reindex(keys)
        values = rows[column].to_numpy(dtype=float)
        err = None
        if bounds is not None:
            lower = rows[bounds[0]].to_numpy(dtype=float)
            upper = rows[bounds[1]].to_numpy(dtype=float)
            err = np.vstack([values - lower, upper - values]).clip(min=0)
        # The first method on top in each group, as in the legend.
        ax.barh(
            where - (i - (len(methods) - 1) / 2) * height,
            values,
            height=height,
            xerr=err,
            capsize=2 if err is not None else 0,
            label=method or None,
        )
    ax.set_yticks(where, keys)
    ax.set_xlabel(f"{column.replace('_', ' ')} attributed")
    ax.set_ylabel(key)
    if len(methods) > 1:
        # Beside the bars, never over them (the longest bar may reach the corner).
        ax.legend(title="method", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(f"{column.replace('_', ' ').capitalize()} by {key}")
    return ax


def removal_effects(frame: pd.DataFrame, *, column: str = "removal_effect", ax: Any = None) -> Any:
    """Removal effects (relative drops) per channel or team, largest on top, as percentages.

    ``frame`` is ``model.removal_effects()``; with ``ci=`` its intervals are error bars.

    Returns
    -------
    The matplotlib axes drawn on.
    """
    if column not in frame.columns:
        msg = f"column {column!r} is not in the frame (its columns: {', '.join(frame.columns)})"
        raise InvalidInputError(msg)
    ax = _axes(ax)
    key = _key(frame)
    rows = frame.sort_values(column, ascending=True, kind="stable")
    values = rows[column].to_numpy(dtype=float) * 100
    err = None
    bounds = _bounds(rows, column)
    if bounds is not None:
        lower = rows[bounds[0]].to_numpy(dtype=float) * 100
        upper = rows[bounds[1]].to_numpy(dtype=float) * 100
        err = np.vstack([values - lower, upper - values]).clip(min=0)
    ax.barh(np.arange(len(rows)), values, xerr=err, capsize=3 if err is not None else 0)
    ax.set_yticks(np.arange(len(rows)), list(rows[key]))
    ax.set_xlabel("removal effect (% drop when removed)")
    ax.set_ylabel(key)
    ax.set_xlim(0, max(100.0, float(np.nanmax(values)) if len(values) else 100.0))
    ax.set_title("Removal effects" + (" with intervals" if err is not None else ""))
    return ax


def _heatmap(
    ax: Any, grid: pd.DataFrame, *, label: str, text: Any, vmax: float | None = None
) -> None:
    """``grid`` as a heatmap with a colorbar; ``text(i, j)`` is a cell's label (or None)."""
    values = grid.to_numpy(dtype=float)
    top = float(vmax if vmax is not None else (values.max() if values.size else 1.0)) or 1.0
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=top, aspect="auto")
    ax.set_xticks(np.arange(grid.shape[1]), [str(c) for c in grid.columns], rotation=45,
                  ha="right")  # fmt: skip
    ax.set_yticks(np.arange(grid.shape[0]), [str(r) for r in grid.index])
    ax.figure.colorbar(image, ax=ax, label=label)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            cell = text(i, j)
            if cell is not None:
                color = "white" if values[i, j] > 0.6 * top else "black"
                ax.text(j, i, cell, ha="center", va="center", fontsize="x-small", color=color)


def handoffs(frame: pd.DataFrame, *, ax: Any = None) -> Any:
    """The team handoff matrix (``journeys.handoffs(teams)``): the probability that a touch of
    the row's team is followed by one of the column's, with the counts in the cells.

    Returns
    -------
    The matplotlib axes drawn on.
    """
    missing = {"from", "to", "count", "probability"} - set(frame.columns)
    if missing:
        msg = f"a handoffs frame has the columns from, to, count, probability; missing {missing}"
        raise InvalidInputError(msg)
    ax = _axes(ax)
    teams = list(dict.fromkeys([*frame["from"], *frame["to"]]))
    grid = frame.pivot(index="from", columns="to", values="probability").reindex(
        index=teams, columns=teams
    )
    counts = (
        frame.pivot(index="from", columns="to", values="count")
        .reindex(index=teams, columns=teams)
        .to_numpy(dtype=float)
    )
    grid = grid.fillna(0.0)
    p = grid.to_numpy(dtype=float)

    def cell(i: int, j: int) -> str | None:
        if np.isnan(counts[i, j]):
            return None
        return f"{p[i, j]:.2f}\n({counts[i, j]:,.0f})"

    _heatmap(ax, grid, label="probability of the next touch's team", text=cell, vmax=1.0)
    ax.set_xlabel("next touch by")
    ax.set_ylabel("touch by")
    ax.set_title("Handoffs between teams")
    return ax


def opener_closer(table: pd.DataFrame, *, ax: Any = None) -> Any:
    """Converting journeys by the team of their first touch (rows) and of their last
    (columns), from ``journeys.opener_closer(teams)``.

    Returns
    -------
    The matplotlib axes drawn on.
    """
    ax = _axes(ax)
    values = table.to_numpy(dtype=float)
    _heatmap(ax, table, label="converting journeys", text=lambda i, j: f"{values[i, j]:,.0f}")
    ax.set_xlabel("closer (last touch)")
    ax.set_ylabel("opener (first touch)")
    ax.set_title("Who opens and who closes")
    return ax


def transition_matrix(model: Any, *, ax: Any = None, annotate: bool | None = None) -> Any:
    """The fitted transition probabilities as a heatmap (rows: from, columns: to).

    States are in the model's order, START first and the absorbing states last. ``annotate``
    writes the probabilities in the cells (default: when there are at most 15 states).

    Returns
    -------
    The matplotlib axes drawn on.
    """
    ax = _axes(ax)
    t = model.transition_matrix()
    labels = list(model.states()["state"])
    absorbing = [s for s in ("CONVERSION", "NULL", "END") if s in labels]
    rows = [s for s in labels if s not in absorbing]
    cols = [s for s in labels if s != "START"]
    grid = (
        t.pivot_table(index="from", columns="to", values="probability", aggfunc="sum")
        .reindex(index=rows, columns=cols)
        .fillna(0.0)
    )
    image = ax.imshow(grid.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(np.arange(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(np.arange(len(rows)), rows)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    ax.figure.colorbar(image, ax=ax, label="probability")
    if annotate or (annotate is None and len(labels) <= 15):
        values = grid.to_numpy()
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                if values[i, j] > 0:
                    color = "white" if values[i, j] > 0.6 else "black"
                    text = f"{values[i, j]:.2f}" if values[i, j] >= 0.005 else "<.01"
                    ax.text(j, i, text, ha="center", va="center", fontsize="x-small",
                            color=color)  # fmt: skip
    ax.set_title("Transition probabilities")
    return ax


def attribution_over_time(
    frame: pd.DataFrame,
    *,
    method: str | None = None,
    column: str = "share",
    top: int | None = 8,
    ax: Any = None,
) -> Any:
    """One line per channel (or team) across periods: its share of the credit, or another
    column, with its interval as a band when the frame has one.

    ``frame`` is ``PeriodCounts.attribution()`` (a ``period`` column). ``method`` picks one
    method of the frame (required when it holds several); ``top`` keeps the channels with the
    most credit over all periods (None: all).

    Returns
    -------
    The matplotlib axes drawn on.
    """
    for name in ("period", column):
        if name not in frame.columns:
            msg = f"column {name!r} is not in the frame (its columns: {', '.join(frame.columns)})"
            raise InvalidInputError(msg)
    rows = frame
    if "method" in frame.columns:
        methods = list(dict.fromkeys(frame["method"]))
        if method is None and len(methods) > 1:
            msg = f"the frame holds several methods ({', '.join(methods)}): choose one with method="
            raise InvalidInputError(msg)
        if method is not None:
            if method not in methods:
                msg = f"method {method!r} is not in the frame (methods: {', '.join(methods)})"
                raise InvalidInputError(msg)
            rows = frame[frame["method"] == method]
        method = method or (methods[0] if methods else None)
    ax = _axes(ax)
    key = _key(rows)
    grid = rows.pivot_table(index="period", columns=key, values=column, aggfunc="sum")
    order = grid.sum().sort_values(ascending=False, kind="stable").index
    kept = list(order if top is None else order[:top])
    bounds = _bounds(rows, column)
    for name in kept:
        series = grid[name]
        (line,) = ax.plot(series.index, series.to_numpy(dtype=float), marker="o", markersize=3,
                          label=str(name))  # fmt: skip
        if bounds is not None:
            mine = rows[rows[key] == name].set_index("period").sort_index()
            ax.fill_between(mine.index, mine[bounds[0]].to_numpy(dtype=float),
                            mine[bounds[1]].to_numpy(dtype=float), color=line.get_color(),
                            alpha=0.15, linewidth=0)  # fmt: skip
    ax.set_xlabel("period")
    ax.set_ylabel(column.replace("_", " ") if column != "share" else "share of the credit")
    left = len(order) - len(kept)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              title=f"{key} (+{left} more)" if left else key)  # fmt: skip
    ax.set_title(f"Attribution over time ({method})" if method else "Attribution over time")
    ax.figure.autofmt_xdate()
    return ax
