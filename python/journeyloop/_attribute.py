"""Every attribution method side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from . import _core
from ._errors import InvalidInputError
from ._events import duration_in_units
from ._journeys import Histories, Journeys
from ._markov import MarkovModel, Progress, attribution_frame, progress_callback
from ._teams import given_teams, team_of_channels

__all__ = ["METHODS", "attribute"]

#: The methods :func:`attribute` knows, in the order of its output.
METHODS: tuple[str, ...] = (*_core.heuristic_names(), "markov", "shapley")


def attribute(
    journeys: Journeys,
    methods: Sequence[str] | None = None,
    *,
    by: Literal["channel", "team"] = "channel",
    teams: Mapping[str, str] | Any | None = None,
    half_life: Any = None,
    decay: Literal["time", "steps"] | None = None,
    order: int = 1,
    progress: Progress = None,
) -> pd.DataFrame:
    """Attribute conversions and value with several methods at once.

    Parameters
    ----------
    journeys
        The journeys to attribute.
    methods
        Any of ``first_touch``, ``last_touch``, ``linear``,
        ``position_based`` (40 % first, 40 % last, 20 % spread over the
        middle), ``time_decay`` (weight ``2**(-d / half_life)``, d the
        time or the number of steps before the conversion), ``markov`` and
        ``shapley`` (Markov Shapley values over the channels or teams,
        ``model.shapley()``: exact up to ``journeyloop._core.auto_exact_players``
        players, sampled beyond). None means all of them except ``shapley``
        when there are more than ``journeyloop._core.max_shapley_players``
        players.
    by
        ``"channel"`` or ``"team"`` (heuristics add their channels' credit;
        Markov removes each team's channels at once).
    teams
        Channel → team map, needed with ``by="team"`` unless the journeys
        carry channel metadata.
    half_life
        Half-life of ``time_decay``. For journeys with datetime times
        (:meth:`Journeys.from_events`) a duration, default ``"7D"``; with
        numeric times a number in their units (required); otherwise, or with
        ``decay="steps"``, a number of steps (touches), default 1.
    decay
        ``"time"`` (the default for journeys with times) or ``"steps"``.
    order
        Order of the ``markov`` method.
    progress
        Progress of the ``markov`` method's removal effects, as in
        :meth:`MarkovModel.attribution`: ``True`` prints the steps to stderr,
        a callable gets ``(done, total)`` after each step.

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
    if isinstance(journeys, Histories):
        msg = (
            "attribute() attributes funnel journeys; these are loop-form histories (fit them "
            "with MarkovModel().fit)"
        )
        raise InvalidInputError(msg)
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
    if by == "team":
        teams = given_teams(teams, journeys.teams)
    callback = progress_callback(progress)
    decay_options = _decay_options(journeys, half_life, decay) if "time_decay" in chosen else {}
    group_of: list[str] = []
    extra: list[str] = []
    players = len(journeys.channels)
    if by == "team":
        group_of, extra = team_of_channels(journeys.channels, teams)
        players = len(_core.group_members(group_of, extra)[0])
    if methods is None and players > _core.max_shapley_players:
        chosen.remove("shapley")  # asked for by name, it is sampled

    frames = []
    model: MarkovModel | None = None
    for m in chosen:
        if m in ("markov", "shapley"):
            if model is None:
                fitted = MarkovModel(order=order).fit(journeys)
                if not isinstance(fitted, MarkovModel):
                    msg = (
                        "attribute() compares the methods on funnel journeys; fit loop "
                        "histories with model = MarkovModel(...).fit(histories)"
                    )
                    raise InvalidInputError(msg)
                model = fitted
            if m == "shapley":
                frame = model.shapley(by, teams)
            else:
                frame = model.attribution(by, teams, progress=callback)
        else:
            options = _core.heuristic_options(**(decay_options if m == "time_decay" else {}))
            a = _core.heuristic_attribution(journeys._set, m, options)
            if by == "team":
                a = _core.group_attribution(a, group_of, extra)
            frame = attribution_frame(a, by)
        frame.insert(0, "method", m)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _decay_options(journeys: Journeys, half_life: Any, decay: str | None) -> dict[str, Any]:
    """Keyword arguments of heuristic_options for time decay on these journeys."""
    if decay not in (None, "time", "steps"):
        msg = f'decay must be "time" or "steps", got {decay!r}'
        raise InvalidInputError(msg)
    by_time = journeys.has_times and decay != "steps"
    if decay == "time" and not journeys.has_times:
        msg = 'decay="time" needs journeys with times (Journeys.from_events)'
        raise InvalidInputError(msg)
    if not by_time:
        if half_life is not None and (
            isinstance(half_life, bool) or not isinstance(half_life, (int, float))
        ):
            msg = f"half_life in steps must be a number, got {half_life!r}"
            raise InvalidInputError(msg)
        if half_life is None:
            return {"decay_by_steps": True}  # the core's default half-life, in steps
        return {"half_life": float(half_life), "decay_by_steps": True}
    unit = float(journeys._set.time_unit_seconds)
    if half_life is None:
        if unit == 0:
            msg = (
                "time decay on journeys with numeric times needs half_life in the same units "
                '(or decay="steps")'
            )
            raise InvalidInputError(msg)
        return {}
    return {"time_half_life": duration_in_units(half_life, unit, "half_life")}
