"""Per-journey credit: every attribution method, one row per journey and channel.

Every number comes from the C++ core (``<journeyloop/journey_credit.hpp>``);
this module checks the arguments and shapes the tidy DataFrame. See
``docs/credit.md`` for the rules and their properties.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _core
from ._errors import InvalidInputError, UnknownChannelError
from ._journeys import Histories, Journeys
from ._teams import given_teams, team_of_channels

if TYPE_CHECKING:
    from ._markov import MarkovModel

__all__ = ["journey_credit_frame", "model_journey_credit", "position_options"]

Credit = tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]
Callback = Callable[[int, int], object] | None


def position_options(position_weights: Any) -> dict[str, float]:
    """Keyword arguments of ``heuristic_options`` for ``position_weights=(first, last)``.

    None keeps the default 40 % / 40 %. Raises InvalidInputError naming the
    argument for anything but two numbers in [0, 1] whose sum is at most 1.
    """
    if position_weights is None:
        return {}
    if isinstance(position_weights, (str, bytes)) or not isinstance(position_weights, Sequence):
        msg = (
            "position_weights must be a pair (first, last) of shares in [0, 1], got "
            f"{position_weights!r}"
        )
        raise InvalidInputError(msg)
    if len(position_weights) != 2:
        msg = (
            "position_weights must be a pair (first, last), got "
            f"{len(position_weights)} values: {tuple(position_weights)!r}"
        )
        raise InvalidInputError(msg)
    first, last = position_weights
    for name, share in (("first", first), ("last", last)):
        if isinstance(share, bool) or not isinstance(share, Real) or not 0 <= float(share) <= 1:
            msg = f"position_weights: the {name} share must be a number in [0, 1], got {share!r}"
            raise InvalidInputError(msg)
    if float(first) + float(last) > 1 + 1e-12:
        msg = (
            f"position_weights: first + last must be at most 1 (the middle touches share the "
            f"rest), got {float(first):g} + {float(last):g}"
        )
        raise InvalidInputError(msg)
    return {"first_share": float(first), "last_share": float(last)}


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        msg = f"threads must be a positive integer or None, got {threads!r}"
        raise InvalidInputError(msg)
    return int(threads)


class _Rows:
    """The journeys as the frame shows them: path strings and customers, made once."""

    def __init__(self, journeys: Journeys) -> None:
        self.journeys = journeys
        self._paths: npt.NDArray[np.object_] | None = None
        self._customers: npt.NDArray[Any] | None = None

    def paths(self, rows: npt.NDArray[Any]) -> npt.NDArray[np.object_]:
        if self._paths is None:
            self._paths = np.asarray(self.journeys._set.path_strings(" > "), dtype=object)
        out: npt.NDArray[np.object_] = self._paths[rows]
        return out

    def customers(self, rows: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
        js = self.journeys._set
        if not js.has_customers:
            return None
        if self._customers is None:
            ids = js.customer_ids()
            self._customers = np.asarray(
                ids if len(ids) == len(js) else js.customer_names(),
                dtype=None if len(ids) == len(js) else object,
            )
        out: npt.NDArray[Any] = self._customers[rows]
        return out


def _frame(
    rows: _Rows, method: str, key: str, names: Sequence[str], credit: Credit
) -> pd.DataFrame:
    row, channel, conversions, value = credit
    row = row.astype(np.int64)
    columns: dict[str, Any] = {"method": method, "journey": row}
    customers = rows.customers(row)
    if customers is not None:
        columns["customer"] = customers
    columns["path"] = rows.paths(row)
    columns[key] = np.asarray(list(names), dtype=object)[channel] if len(row) else []
    columns["conversions"] = conversions
    columns["value"] = value
    return pd.DataFrame(columns)


def _empty(rows: _Rows, key: str) -> pd.DataFrame:
    columns = ["method", "journey"]
    if rows.journeys._set.has_customers:
        columns.append("customer")
    return pd.DataFrame(columns=[*columns, "path", key, "conversions", "value"])


def _weights_by_name(
    names: Sequence[str], figures: pd.DataFrame, key: str, columns: tuple[str, str]
) -> tuple[list[float], list[float]]:
    """Weights per name of the (relabelled) journeys from a frame of figures by ``key``;
    rounding below zero counts as zero."""
    conv = dict(zip(figures[key], figures[columns[0]].astype(float)))
    value = dict(zip(figures[key], figures[columns[1]].astype(float)))
    missing = [n for n in names if n not in conv]
    if missing:
        msg = (
            f"the journeys have {key}s the model does not know: {', '.join(map(repr, missing))}; "
            "fit the model on these journeys"
        )
        raise UnknownChannelError(msg)
    return [max(0.0, conv[n]) for n in names], [max(0.0, value[n]) for n in names]


def _check_known_channels(journeys: Journeys, model: MarkovModel) -> None:
    known = set(model.channels_)
    missing = [c for c in journeys.channels if c not in known]
    if missing:
        msg = (
            f"the journeys touch channels the model was not fitted on: "
            f"{', '.join(map(repr, missing))}; fit the model on these journeys"
        )
        raise UnknownChannelError(msg)


def _model_credit(
    method: str,
    journeys: Journeys,
    model: MarkovModel,
    by: str,
    teams: Any,
    rows_set: Any,
    callback: Callback,
    threads: int,
) -> Credit:
    """Credit of ``markov`` or ``shapley`` per row of ``rows_set`` (the journeys, or
    the journeys relabelled by team)."""
    fitted = model._fitted
    if by == "channel":
        if method == "markov":
            return _core.markov_journey_credit(rows_set, fitted, callback, threads)
        return _core.shapley_journey_credit(rows_set, fitted, threads)
    _check_known_channels(journeys, model)
    if method == "markov":
        figures = model.removal_effects("team", teams=teams, progress=callback)
        columns = ("removal_effect", "value_removal_effect")
    else:
        figures = model.shapley("team", teams)
        columns = ("conversions", "value")
    wc, wv = _weights_by_name(list(rows_set.channels), figures, "team", columns)
    return _core.proportional_journey_credit(rows_set, wc, wv, threads)


def journey_credit_frame(
    journeys: Journeys,
    methods: Sequence[str],
    *,
    by: str,
    teams: Any,
    heuristic_options: Callable[[str], Any],
    model: Callable[[], MarkovModel],
    callback: Callback,
    threads: int | None,
    group_of: list[str] | None = None,
) -> pd.DataFrame:
    """The per-journey frame of :func:`journeyloop.attribute` (``level="journey"``).

    ``heuristic_options(method)`` gives a heuristic's options and ``model()``
    the fitted model of the Markov methods (fitted on first use); ``group_of``
    the team of every channel, when the caller has it already.
    """
    n_threads = _threads(threads)
    rows = _Rows(journeys)
    rows_set = journeys._set
    if by == "team":
        if group_of is None:
            group_of, _ = team_of_channels(journeys.channels, teams)
        rows_set = _core.relabel_channels(journeys._set, group_of)
    names = list(rows_set.channels)
    frames = []
    for m in methods:
        if m in ("markov", "shapley"):
            credit = _model_credit(m, journeys, model(), by, teams, rows_set, callback, n_threads)
        elif m == "simplified_shapley":
            credit = _core.simplified_shapley_journey_credit(rows_set, n_threads)
        else:
            credit = _core.heuristic_journey_credit(rows_set, m, heuristic_options(m), n_threads)
        frames.append(_frame(rows, m, by, names, credit))
    if not frames:
        return _empty(rows, by)
    return pd.concat(frames, ignore_index=True)


def model_journey_credit(
    model: MarkovModel,
    journeys: Journeys | None,
    by: str,
    teams: Mapping[str, str] | Any | None,
    callback: Callback,
    threads: int | None,
) -> pd.DataFrame:
    """``MarkovModel.attribution(level="journey")``: the Markov credit of every row of
    ``journeys`` (default: the journeys the model was fitted on)."""
    if journeys is None:
        journeys = model.__dict__.get("_journeys")
        if journeys is None:
            msg = (
                'attribution(level="journey") needs the journeys: this model was not fitted '
                "on Journeys in this session (loaded, fitted on counts, or from a scenario); "
                "pass journeys=..."
            )
            raise InvalidInputError(msg)
    if isinstance(journeys, Histories) or not isinstance(journeys, Journeys):
        msg = f"journeys must be funnel Journeys, got {type(journeys).__name__}"
        raise InvalidInputError(msg)
    if by not in ("channel", "team"):
        msg = f'level="journey" attributes by "channel" or "team", got by={by!r}'
        raise InvalidInputError(msg)
    if by == "team":
        teams = given_teams(teams, model.teams_ if model.teams_ is not None else journeys.teams)
    frame = journey_credit_frame(
        journeys,
        ["markov"],
        by=by,
        teams=teams,
        heuristic_options=lambda _: None,
        model=lambda: model,
        callback=callback,
        threads=threads,
    )
    return frame.drop(columns="method")
