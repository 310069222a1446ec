"""Rich display in notebooks: the ``_repr_html_`` of journeys, histories, models and reports.

Each function returns a small self-contained HTML fragment (inline styles only, every text
escaped); the plain ``__repr__`` of each object stays one short line.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

#: Paths (or histories) shown in the HTML of Journeys and Histories.
SHOWN_PATHS = 5
#: Transitions shown in the HTML of a fitted model (largest counts first).
SHOWN_TRANSITIONS = 8

_TABLE = "border-collapse:collapse;margin:2px 0 8px 0;font-size:90%"
_CELL = "padding:1px 10px 1px 0;text-align:left;vertical-align:top"
_NUM = "padding:1px 10px 1px 0;text-align:right;font-variant-numeric:tabular-nums"


def _number(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _pairs(title: str, items: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(
        f'<tr><td style="{_CELL}">{html.escape(k)}</td>'
        f'<td style="{_NUM}">{html.escape(_number(v))}</td></tr>'
        for k, v in items
    )
    return f"<b>{html.escape(title)}</b><table style='{_TABLE}'>{rows}</table>"


def _frame(title: str, frame: pd.DataFrame, numeric: Sequence[str] = ()) -> str:
    head = "".join(f'<th style="{_CELL}">{html.escape(str(c))}</th>' for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            style = _NUM if column in numeric else _CELL
            cells.append(f'<td style="{style}">{html.escape(_number(value))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<b>{html.escape(title)}</b><table style='{_TABLE}'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _box(heading: str, parts: Sequence[str]) -> str:
    return (
        "<div style='font-family:sans-serif;line-height:1.3'>"
        f"<div style='font-weight:bold;margin-bottom:4px'>{html.escape(heading)}</div>"
        + "".join(parts)
        + "</div>"
    )


def report_html(report: Any) -> str:
    """The event report: every field with its count (the row account first)."""
    frame = report.to_frame()
    return _box("EventReport", [_pairs("rows", zip(frame["item"], frame["value"], strict=True))])


def journeys_html(journeys: Any) -> str:
    """Size, channels, totals, the event report when built from events, the first paths."""
    summary = [
        ("rows", len(journeys)),
        ("channels", len(journeys.channels)),
        ("conversions", float(journeys.total_conversions)),
        ("nulls", float(journeys.total_nulls)),
        ("value", float(journeys.total_value)),
    ]
    parts = [_pairs("summary", summary)]
    parts.append(
        f"<b>channels</b><div style='margin:2px 0 8px 0'>"
        f"{html.escape(', '.join(journeys.channels))}</div>"
    )
    frame = journeys.to_frame().head(SHOWN_PATHS)
    numeric = [c for c in frame.columns if c != "path"]
    parts.append(_frame(f"first {len(frame)} of {len(journeys):,} rows", frame, numeric))
    if journeys.report is not None:
        frame = journeys.report.to_frame()
        account = zip(frame["item"], frame["value"], strict=True)
        parts.append(_pairs("row account (from the event log)", account))
    return _box(repr(journeys), parts)


def histories_html(histories: Any) -> str:
    """Size, channels, customers, purchases, value, the event report, the first histories."""
    summary = [
        ("histories", len(histories)),
        ("channels", len(histories.channels)),
        ("customers", float(histories.total_customers)),
        ("purchases", float(histories.total_purchases)),
        ("value", float(histories.total_value)),
    ]
    parts = [_pairs("summary", summary)]
    frame = histories.to_frame().head(SHOWN_PATHS)
    numeric = [c for c in frame.columns if c not in ("path", "history")]
    parts.append(_frame(f"first {len(frame)} of {len(histories):,} histories", frame, numeric))
    if histories.report is not None:
        frame = histories.report.to_frame()
        account = zip(frame["item"], frame["value"], strict=True)
        parts.append(_pairs("row account (from the event log)", account))
    return _box(repr(histories), parts)


def model_html(model: Any, figures: Sequence[tuple[str, float]]) -> str:
    """Order, states, channels, the headline ``figures`` and the largest transitions."""
    if model.__dict__.get("_model") is None:
        return _box(repr(model), [f"<div>{html.escape(model._not_fitted_message())}</div>"])
    about = [
        ("order", int(model.order)),
        ("states", int(model.n_states_)),
        ("channels", len(model.channels_)),
    ]
    parts = [_pairs("model", about), _pairs("figures", figures)]
    t = model.transition_matrix()
    t = t.sort_values("count", ascending=False, kind="stable").head(SHOWN_TRANSITIONS)
    parts.append(
        _frame(
            f"largest {len(t)} transitions (by count)",
            t[["from", "to", "count", "probability"]],
            ["count", "probability"],
        )
    )
    return _box(repr(model), parts)
