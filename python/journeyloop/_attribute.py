"""Every attribution method side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from . import _core
from ._errors import InvalidInputError
from ._journeys import Journeys
from ._markov import MarkovModel, attribution_frame
from ._teams import team_of_channels

__all__ = ["METHODS", "attribute"]

#: The methods :func:`attribute` knows, in the order of its output.
METHODS: tuple[str, ...] = (*_core.heuristic_names(), "markov")


def attribute(
    journeys: Journeys,
    methods: Sequence[str] | None = None,
    *,
    by: Literal["channel", "team"] = "channel",
    teams: Mapping[str, str] | Any | None = None,
    half_life: float = 1.0,
    order: int = 1,
) -> pd.DataFrame:
    """Attribute conversions and value with several methods at once.

    Parameters
    ----------
    journeys
        The journeys to attribute.
    methods
        Any of ``first_touch``, ``last_touch``, ``linear``,
        ``position_based`` (40 % first, 40 % last, 20 % spread over the
        middle), ``time_decay`` (weight ``2**(-steps before the end /
        half_life)``) and ``markov``. None means all of them.
    by
        ``"channel"`` or ``"team"`` (heuristics add their channels' credit;
        Markov removes each team's channels at once).
    teams
        Channel → team map, needed with ``by="team"``.
    half_life
        Half-life of ``time_decay``, in steps (touches).
    order
        Order of the ``markov`` method.

    Returns
    -------
    DataFrame
        Tidy: ``method``, ``channel`` (or ``team``), ``conversions``,
        ``value``, ``share``. For each method, conversions sum to the total
        conversions and value to the total value.

    Raises
    ------
    InvalidInputError
        For an unknown method or bad parameters.
    """
    chosen = list(METHODS) if methods is None else list(methods)
    if isinstance(methods, str):
        chosen = [methods]
    for m in chosen:
        if m not in METHODS:
            msg = f"unknown method {m!r} (available: {', '.join(METHODS)})"
            raise InvalidInputError(msg)
    if by not in ("channel", "team"):
        msg = f'by must be "channel" or "team", got {by!r}'
        raise InvalidInputError(msg)
    if by == "team" and teams is None:
        msg = 'by="team" needs teams={channel: team, ...}'
        raise InvalidInputError(msg)
    group_of: list[str] = []
    extra: list[str] = []
    if by == "team":
        group_of, extra = team_of_channels(journeys.channels, teams)

    frames = []
    for m in chosen:
        if m == "markov":
            model = MarkovModel(order=order).fit(journeys)
            frame = (
                attribution_frame(_core.markov_attribution(model._fitted, group_of, extra), "team")
                if by == "team"
                else model.attribution()
            )
        else:
            a = _core.heuristic_attribution(journeys._set, m, half_life)
            if by == "team":
                a = _core.group_attribution(a, group_of, extra)
            frame = attribution_frame(a, by)
        frame.insert(0, "method", m)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
