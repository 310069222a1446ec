"""One self-contained HTML report of journeys and their attribution (``jl.report``).

The page needs no network: styles are inline and every plot is an inline SVG drawn by
matplotlib (``pip install journeyloop[plot]``).
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._errors import InvalidInputError

_STYLE = """
body { font-family: sans-serif; margin: 24px auto; padding: 0 20px; max-width: 1100px;
color: #222; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px;
border-bottom: 1px solid #ccc; padding-bottom: 3px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px 0; }
th, td { padding: 2px 10px 2px 0; text-align: right; } th { border-bottom: 1px solid #999; }
td:first-child, th:first-child { text-align: left; }
.figure { margin: 8px 0 16px 0; } .note { color: #666; font-size: 12px; }
"""


def _svg(fig: Any) -> str:
    """A matplotlib figure as an inline SVG element (the figure is closed)."""
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    # No date and fixed element ids: the same report gives the same page.
    with matplotlib.rc_context({"svg.hashsalt": "journeyloop"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _table(frame: pd.DataFrame, digits: int = 2) -> str:
    return str(
        frame.to_html(
            index=False,
            border=0,
            float_format=lambda x: f"{x:,.{digits}f}",
            escape=True,
        )
    )


def _figure(draw: Any, *args: Any, size: tuple[float, float] = (8, 4), **kwargs: Any) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, layout="constrained")
    draw(*args, ax=ax, **kwargs)
    return f'<div class="figure">{_svg(fig)}</div>'


def report(
    journeys: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    order: int = 1,
    teams: Mapping[str, str] | None = None,
    stages: Mapping[str, str] | None = None,
    methods: Sequence[str] | None = None,
    ci: float | None = None,
    title: str = "journeyloop report",
) -> str:
    """A self-contained HTML report: the data and its row account, the attribution of every
    method by channel (and by team, with the handoffs between teams and who opens and closes
    converting journeys), removal effects, the journey graph, the circular journey by stage
    (when the channels' stages are known) and the transition probabilities; for loop
    histories the headline figures and the first and repeat purchases of each channel.

    Writes it to ``path`` when given, and returns the HTML.

    Parameters
    ----------
    journeys
        :class:`Journeys` (funnel) or :class:`Histories` (loop).
    order
        The Markov order of the model fitted.
    teams
        Channel → team (default: the journeys' channel metadata, if any): adds the team views.
    stages
        Channel → stage (default: the journeys' channel metadata, if any): adds the circular
        journey by stage (:func:`journeyloop.plot.circular_journey`).
    methods
        The methods compared (default: all of :func:`journeyloop.attribute`'s).
    ci
        With a level such as ``0.95``, removal effects and the Markov attribution get
        bootstrap intervals.
    title
        The page's title.

    Examples
    --------
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[3, 0, 2],
    ...                            nulls=[3, 2, 0])
    >>> page = jl.report(j)
    >>> page.startswith("<!DOCTYPE html>"), page.count("<svg")
    (True, 4)
    """
    from ._journeys import Histories, Journeys
    from ._markov import MarkovModel

    _need_matplotlib()
    if not isinstance(journeys, (Journeys, Histories)):
        msg = f"report expects Journeys or Histories, got {type(journeys).__name__}"
        raise InvalidInputError(msg)
    model = MarkovModel(order=order).fit(journeys)
    return _page(journeys, model, path, teams, stages, methods, ci, title)


def model_report(
    model: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    teams: Mapping[str, str] | None = None,
    stages: Mapping[str, str] | None = None,
    methods: Sequence[str] | None = None,
    ci: float | None = None,
    title: str = "journeyloop report",
) -> str:
    """``model.report(path)``: :func:`report` of the journeys the model was fitted on, with
    this model (not fitted again). A model without its journeys (loaded from a file, or
    fitted on transition counts) gets a reduced report: the model's figures, its
    attribution and removal effects, the journey graph and the transition probabilities
    (ci= then needs the journeys, as the bootstrap does)."""
    _need_matplotlib()
    model._fitted  # noqa: B018 - NotFittedError for an unfitted model
    journeys = model.__dict__.get("_journeys")
    return _page(journeys, model, path, teams, stages, methods, ci, title)


def _need_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        msg = "the report draws with matplotlib: pip install journeyloop[plot]"
        raise ImportError(msg) from err


def _page(
    journeys: Any,
    model: Any,
    path: str | os.PathLike[str] | None,
    teams: Mapping[str, str] | None,
    stages: Mapping[str, str] | None,
    methods: Sequence[str] | None,
    ci: float | None,
    title: str,
) -> str:
    from . import plot
    from ._attribute import attribute

    teams = dict(teams) if teams is not None else (
        journeys.teams if journeys is not None else model.teams_)  # fmt: skip
    stages = dict(stages) if stages is not None else (
        journeys.stages if journeys is not None else model.stages_)  # fmt: skip
    order = model.order
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if journeys is not None:
        parts.append("<h2>Data</h2>" + journeys._repr_html_())
    else:
        parts.append(
            "<h2>The model</h2><p class='note'>This model holds no journeys (it was loaded"
            " from a file or fitted on transition counts): the data, the other methods, the"
            " teams' views and the stages need them.</p>" + model._repr_html_()
        )
    if model.is_loop_:
        parts.append("<h2>The loop: first and repeat purchases</h2>")
        parts.append(_table(model.figures(ci=ci), 4))
        a = model.attribution()
        parts.append(_table(a))
        long = a.melt(
            id_vars="channel",
            value_vars=["first_purchases", "repeat_purchases"],
            var_name="method",
            value_name="credited",
        )
        parts.append(_figure(plot.attribution, long, column="credited"))
    elif journeys is None:
        markov = model.attribution(ci=ci)
        parts.append("<h2>Markov attribution" + (" with intervals" if ci else "") + "</h2>")
        parts.append(_table(markov))
        parts.append(_figure(plot.attribution, markov))
    else:
        parts.append("<h2>Attribution by channel, every method</h2>")
        tidy = attribute(journeys, methods, order=order)
        wide = tidy.pivot(index="channel", columns="method", values="conversions")
        wide = wide[list(dict.fromkeys(tidy["method"]))].reset_index()
        wide.columns.name = None
        parts.append(_table(wide))
        parts.append(_figure(plot.attribution, tidy, size=(9, 5)))
        markov = model.attribution(ci=ci)
        parts.append("<h2>Markov attribution" + (" with intervals" if ci else "") + "</h2>")
        parts.append(_table(markov))
        if teams:
            parts.append("<h2>Attribution by team</h2>")
            by_team = attribute(journeys, methods, by="team", teams=teams, order=order)
            wide_team = by_team.pivot(index="team", columns="method", values="conversions")
            wide_team = wide_team[list(dict.fromkeys(by_team["method"]))].reset_index()
            wide_team.columns.name = None
            parts.append(_table(wide_team))
            parts.append(_figure(plot.attribution, by_team, size=(9, 3)))
            parts.append("<h2>Handoffs between teams, and who opens and closes</h2>")
            parts.append(_figure(plot.handoffs, journeys.handoffs(teams), size=(6, 4)))
            parts.append(_figure(plot.opener_closer, journeys.opener_closer(teams), size=(6, 4)))
    re_frame = model.removal_effects(ci=ci)
    parts.append("<h2>Removal effects</h2>")
    parts.append(_table(re_frame, 4))
    parts.append(_figure(plot.removal_effects, re_frame))
    parts.append("<h2>The journey graph</h2>")
    parts.append(
        "<p class='note'>Transition probabilities between channels: the width of an arrow"
        " grows with its probability; only the arrows that carry the most journeys, of"
        " probability 0.05 or more, are drawn.</p>"
    )
    # The strongest edges only: a graph of every transition between a dozen channels is a
    # tangle.
    channels = len(model.channels_)
    size = (10, 2.5 + 0.3 * channels)
    parts.append(
        _figure(plot.journey_graph, model, size=size, min_probability=0.05, top=3 * channels + 6)
    )
    if stages and journeys is not None:
        parts.append("<h2>The circular journey by stage</h2>")
        parts.append(_figure(plot.circular_journey, journeys, stages=stages, size=(6, 6)))
    parts.append("<h2>Transition probabilities</h2>")
    parts.append(_figure(plot.transition_matrix, model, size=(8, 6)))
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
    if path is not None:
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(target)
    return page
