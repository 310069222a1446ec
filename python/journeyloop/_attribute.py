"""Every attribution method side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _core, _credit
from ._errors import InvalidInputError
from ._events import duration_in_units
from ._journeys import Histories, Journeys
from ._markov import MarkovModel, Progress, attribution_frame, progress_callback
from ._shapley import simplified_shapley
from ._teams import given_teams, team_of_channels
from ._uncertainty import (
    DEFAULT_PRIOR,
    DEFAULT_REPLICATES,
    Uncertainty,
    interval_request,
    markov_replicates,
    with_bounds,
)

__all__ = ["METHODS", "attribute"]

#: The methods :func:`attribute` knows, in the order of its output.
METHODS: tuple[str, ...] = (*_core.heuristic_names(), "markov", "shapley", "simplified_shapley")


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
    ci: float | None = None,
    n_boot: int = DEFAULT_REPLICATES,
    uncertainty: Uncertainty = "bootstrap",
    seed: int = 0,
    prior: float = DEFAULT_PRIOR,
    level: Literal["total", "journey"] = "total",
    position_weights: tuple[float, float] | None = None,
    threads: int | None = None,
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
        players, sampled beyond), and ``simplified_shapley`` (the data-driven
        Shapley value of Zhao et al., :func:`simplified_shapley`). None means
        all of them except ``shapley`` when there are more than
        ``journeyloop._core.max_shapley_players`` players.
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
        a callable gets ``(done, total)`` after each step (with ``ci``, after
        each replicate).
    ci
        With a level such as ``0.95``: the frame gains ``lower`` and
        ``upper`` (the interval of ``conversions``) and ``value_lower`` and
        ``value_upper``, percentile intervals of ``n_boot`` replicates
        (docs/uncertainty.md). Every method sees the same bootstrap
        replicates (the same resampled journeys for a given ``seed``).
    n_boot, uncertainty, seed, prior
        As in :meth:`MarkovModel.attribution`. ``uncertainty="bayes"``
        draws chains, so it applies to ``markov`` and ``shapley`` only.
        a callable gets ``(done, total)`` after each step.
    level
        ``"total"`` (credit per channel) or ``"journey"`` (credit per
        journey row and channel it touched; see ``docs/credit.md``).
    position_weights
        ``(first, last)``: the shares of the first and last touches of
        ``position_based`` (default ``(0.4, 0.4)``); the middle touches
        share the rest, two touches split everything first:last in
        proportion.
    threads
        Threads of the per-journey credit (None: the library's setting).

    Returns
    -------
    DataFrame
        Tidy: ``method``, ``channel`` (or ``team``), ``conversions``,
        ``value``, ``share`` (and the interval columns with ``ci``). For each
        method, conversions sum to the total conversions and value to the
        total value.
        ``value``, ``share``. For each method, conversions sum to the total
        conversions and value to the total value. With ``level="journey"``:
        ``method``, ``journey`` (the row of the journeys), ``customer`` (for
        journeys built from events), ``path``, ``channel`` (or ``team``),
        ``conversions``, ``value``, one row per journey with conversions or
        value and channel it touched; each journey's credit sums to its
        conversions and value.

    Raises
    ------
    InvalidInputError
        For an unknown method or bad parameters.

    Examples
    --------
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b", "a > c"], conversions=[1, 0, 2],
    ...                            nulls=[1, 2, 0])
    >>> jl.attribute(j, ["first_touch", "linear"])
            method channel  conversions  value     share
    0  first_touch       a          3.0    0.0  1.000000
    1  first_touch       b          0.0    0.0  0.000000
    2  first_touch       c          0.0    0.0  0.000000
    3       linear       a          1.5    0.0  0.500000
    4       linear       b          0.5    0.0  0.166667
    5       linear       c          1.0    0.0  0.333333
    >>> jl.attribute(j, ["linear"], level="journey")
       method  journey   path channel  conversions  value
    0  linear        0  a > b       a          0.5    0.0
    1  linear        0  a > b       b          0.5    0.0
    2  linear        2  a > c       a          1.0    0.0
    3  linear        2  a > c       c          1.0    0.0
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
    # -- credit --
    if level not in ("total", "journey"):
        msg = f'level must be "total" or "journey", got {level!r}'
        raise InvalidInputError(msg)
    position = _credit.position_options(position_weights)
    group_of: list[str] = []
    extra: list[str] = []
    players = len(journeys.channels)
    if by == "team":
        group_of, extra = team_of_channels(journeys.channels, teams)
        players = len(_core.group_members(group_of, extra)[0])
    if methods is None and players > _core.max_shapley_players:
        chosen.remove("shapley")  # asked for by name, it is sampled
    request = interval_request(ci, n_boot, uncertainty, seed, prior)
    heuristics = [m for m in chosen if m not in ("markov", "shapley")]
    if request is not None and request.method == "bayes" and heuristics:
        msg = (
            "uncertainty='bayes' draws the chain's transition rows, which the heuristics do not "
            f"use ({', '.join(heuristics)}): use uncertainty='bootstrap', or methods=['markov', "
            "'shapley']"
        )
        raise InvalidInputError(msg)

    def options_of(m: str) -> _core.heuristic_options:
        kwargs = decay_options if m == "time_decay" else position if m == "position_based" else {}
        return _core.heuristic_options(**kwargs)

    def fit_model() -> MarkovModel:
        fitted = MarkovModel(order=order).fit(journeys)
        if not isinstance(fitted, MarkovModel):
            msg = (
                "attribute() compares the methods on funnel journeys; fit loop "
                "histories with model = MarkovModel(...).fit(histories)"
            )
            raise InvalidInputError(msg)
        return fitted

    # -- credit --
    if level == "journey":
        if request is not None:
            msg = (
                "ci: intervals are given for the total credit (level='total'); per-journey "
                "credit divides each journey's own conversions, which are observed, not estimated"
            )
            raise InvalidInputError(msg)
        models: list[MarkovModel] = []

        def once() -> MarkovModel:
            if not models:
                models.append(fit_model())
            return models[0]

        return _credit.journey_credit_frame(
            journeys,
            chosen,
            by=by,
            teams=teams,
            heuristic_options=options_of,
            model=once,
            callback=callback,
            threads=threads,
            group_of=group_of if by == "team" else None,
        )

    frames = []
    model: MarkovModel | None = None
    plan: Any = None  # the heuristics' replicate plan, made once
    for m in chosen:
        if m in ("markov", "shapley"):
            if model is None:
                model = fit_model()
            if m == "shapley":
                frame = model.shapley(by, teams)
            else:
                frame = model.attribution(by, teams, progress=callback)
            if request is not None:
                kind = "shapley" if m == "shapley" else "attribution"
                keys, members = model._interval_groups(by, teams, None)
                table = markov_replicates(model, request, kind, keys, members, progress)
                frame = _tidy_bounds(frame, table, request.level)
        else:
            if m == "simplified_shapley":
                frame = simplified_shapley(journeys, by=by, teams=teams)
            else:
                a = _core.heuristic_attribution(journeys._set, m, options_of(m))
                if by == "team":
                    a = _core.group_attribution(a, group_of, extra)
                frame = attribution_frame(a, by)
            if request is not None:
                if plan is None:
                    plan = _core.make_replicate_plan(journeys._set)
                table = _core.heuristic_replicates(
                    plan,
                    journeys._set,
                    [m],
                    options_of(m) if m != "simplified_shapley" else _core.heuristic_options(),
                    group_of,
                    extra,
                    request.replicates,
                    request.seed,
                    progress=progress_callback(progress, "replicates"),
                )
                frame = _tidy_bounds(frame, np.asarray(table), request.level)
        frame.insert(0, "method", m)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if request is not None:
        out.attrs["ci"] = request.level
    return out


def _tidy_bounds(frame: pd.DataFrame, table: Any, level: float) -> pd.DataFrame:
    """``frame`` with ``lower``/``upper`` (conversions) and ``value_lower``/``value_upper``."""
    out = with_bounds(frame, ["conversions", "value"], table, level)
    return out.rename(columns={"conversions_lower": "lower", "conversions_upper": "upper"})


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
