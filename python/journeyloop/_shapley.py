"""Data-driven Shapley values: the simplified Shapley value of Zhao et al. (2018).

Every number comes from the C++ core (``simplified_shapley`` and
``ordered_simplified_shapley`` in ``<journeyloop/attribution.hpp>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _core
from ._errors import InvalidInputError
from ._journeys import Histories, Journeys
from ._model_base import attribution_frame, progress_callback, warn_unshared, whole_number
from ._teams import given_teams, team_of_channels

__all__ = ["simplified_shapley"]


def simplified_shapley(
    journeys: Journeys,
    *,
    by: Literal["channel", "team"] = "channel",
    teams: Mapping[str, str] | Any | None = None,
    ordered: bool = False,
) -> pd.DataFrame:
    """The simplified Shapley value of Zhao et al. (2018), from the journeys alone.

    With ``R(S)`` the conversions (and the value) of the journeys whose set of
    distinct channels is exactly ``S``, channel ``j`` gets ``sum over S
    containing j of R(S) / |S|``: the exact Shapley value of the game whose
    worth ``v(S)`` is the conversions of the journeys that touched only
    channels of ``S``. Each journey's conversions and value are split evenly
    between its distinct channels, however often each was touched; the
    credits sum to the journeys' totals. No model is fitted: see
    ``docs/shapley.md``.

    Parameters
    ----------
    journeys
        Funnel journeys.
    by
        ``"channel"``, or ``"team"``: the players are the teams (each journey
        split between its distinct teams, not the sum of its channels' credit).
    teams
        Channel → team map for ``by="team"`` (default: the journeys' metadata).
    ordered
        The ordered variant: each share goes to the position (1 for the first
        channel touched) at which the channel first appears among the
        journey's distinct channels.

    Returns
    -------
    DataFrame
        ``channel`` (or ``team``), ``conversions``, ``value``, ``share``; with
        ``ordered=True``, ``channel`` (or ``team``), ``position``,
        ``conversions``, ``value``, one row per player and position.

    Examples
    --------
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b > a", "a", "c > b"], conversions=[3, 1, 2],
    ...                            nulls=[0, 0, 1])
    >>> jl.simplified_shapley(j)
      channel  conversions  value  share
    0       a          2.5    0.0  0.416667
    1       b          2.5    0.0  0.416667
    2       c          1.0    0.0  0.166667
    >>> jl.simplified_shapley(j, ordered=True)
      channel  position  conversions  value
    0       a         1          2.5    0.0
    1       a         2          0.0    0.0
    2       b         1          0.0    0.0
    3       b         2          2.5    0.0
    4       c         1          1.0    0.0
    5       c         2          0.0    0.0
    """
    if isinstance(journeys, Histories) or not isinstance(journeys, Journeys):
        msg = (
            "simplified_shapley attributes funnel journeys (jl.Journeys); got "
            f"{type(journeys).__name__}"
        )
        raise InvalidInputError(msg)
    if by not in ("channel", "team"):
        msg = f'by must be "channel" or "team", got {by!r}'
        raise InvalidInputError(msg)
    rows = journeys._set
    extra: list[str] = []
    if by == "team":
        teams = given_teams(teams, journeys.teams)
        group_of, extra = team_of_channels(journeys.channels, teams)
        rows = _core.relabel_channels(rows, group_of)
    if not ordered:
        a = _core.simplified_shapley(rows)
        if extra:
            a = _core.group_attribution(a, list(a.names), extra)
        return attribution_frame(a, by)
    d = _core.ordered_simplified_shapley(rows)
    names = list(d["names"]) + extra
    # Channel-major from the core; the extra teams (and a table without
    # credit, of zero positions) are rows of zeros.
    seen, positions = len(d["names"]), int(d["positions"])
    conversions = np.zeros((len(names), max(positions, 1)))
    value = np.zeros_like(conversions)
    if positions:
        conversions[:seen] = np.asarray(d["conversions"]).reshape(seen, positions)
        value[:seen] = np.asarray(d["value"]).reshape(seen, positions)
    return pd.DataFrame(
        {
            by: np.repeat(np.asarray(names, dtype=object), conversions.shape[1]),
            "position": np.tile(np.arange(1, conversions.shape[1] + 1), len(names)),
            "conversions": conversions.ravel(),
            "value": value.ravel(),
        }
    )


# -- Markov Shapley values of a fitted model (ModelBase.shapley) --------------

ShapleyMethod = Literal["auto", "exact", "sampled"]
RemovalRule = Literal["null", "skip"]


def check_rule(rule: object) -> str:
    """``rule`` if it is ``"null"`` or ``"skip"``; InvalidInputError otherwise."""
    if rule not in ("null", "skip"):
        msg = f'rule must be "null" (the default) or "skip", got {rule!r}'
        raise InvalidInputError(msg)
    return str(rule)


def model_shapley(
    model: Any,
    by: str,
    teams: Mapping[str, str] | Any | None,
    groups: Mapping[str, Any] | None,
    *,
    method: object,
    permutations: object,
    seed: object,
    threads: object,
    progress: Any,
) -> pd.DataFrame:
    """The body of :meth:`ModelBase.shapley`: arguments checked, the core
    called, the result as a DataFrame."""
    if method not in ("auto", "exact", "sampled"):
        msg = f'method must be "auto", "exact" or "sampled", got {method!r}'
        raise InvalidInputError(msg)
    n = whole_number(permutations, "permutations", 4)
    if n % 2:
        msg = (
            f"permutations must be an even number >= 4 (each sampled ordering and its reverse), "
            f"got {n}"
        )
        raise InvalidInputError(msg)
    options = _core.shapley_options(
        method=str(method),
        permutations=n,
        seed=whole_number(seed, "seed", 0, 2**64 - 1),
        threads=0 if threads is None else whole_number(threads, "threads", 0),
    )
    names, players = model._groups(by, teams, groups)
    r = _core.shapley_values(
        model._fitted, names, players, options, progress_callback(progress, "Shapley pairs")
    )
    fitted = model._fitted
    count = model._COUNT
    frame = pd.DataFrame(
        {by: list(r["names"]), count: r["conversions"], "value": r["value"], "share": r["share"]}
    )
    columns = [(count, r["conversions"], model._attribution_totals()[0])]
    columns.append(("value", r["value"], model._attribution_totals()[1]))
    loop = bool(len(r["first_purchases"])) or model.is_loop_
    if loop:
        frame["first_purchases"] = r["first_purchases"]
        frame["repeat_purchases"] = r["repeat_purchases"]
        columns.append(("first_purchases", r["first_purchases"], fitted.buyers))
        columns.append(("repeat_purchases", r["repeat_purchases"], fitted.repeat_purchases))
    if r["sampled"]:
        frame[f"{count}_se"] = r["conversions_se"]
        frame["value_se"] = r["value_se"]
        if loop:
            frame["first_purchases_se"] = r["first_purchases_se"]
            frame["repeat_purchases_se"] = r["repeat_purchases_se"]
    warn_unshared(by, columns)
    frame.attrs["method"] = "sampled" if r["sampled"] else "exact"
    frame.attrs["permutations"] = int(r["permutations"])
    return frame
