"""Simulation from fitted models: journeys, loop histories and holding times.

The models' ``simulate`` methods and ``expected_time_to_conversion_`` call
these functions; every number is drawn or computed by the C++ core.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from . import _core
from ._errors import DataWarning, InvalidInputError
from ._journeys import Histories, Journeys
from ._model_base import Progress, progress_callback, whole_number

__all__ = [
    "DEFAULT_MAX_TOUCHES",
    "expected_purchase_time",
    "expected_time_to_conversion",
    "fit_holding_times",
    "fit_loop_holding_times",
    "simulate_histories",
    "simulate_journeys",
]

#: The default runaway guard: the most touches one simulated walk makes.
DEFAULT_MAX_TOUCHES = 10_000


def _arguments(n: object, seed: object, threads: object, max_touches: object) -> dict[str, int]:
    out = {
        "n": whole_number(n, "n", 0),
        "seed": whole_number(seed, "seed", 0, 2**64 - 1),
        "threads": 0 if threads is None else whole_number(threads, "threads", 1),
        "max_touches": whole_number(max_touches, "max_touches", 1),
    }
    return out


def _announce(
    report: dict[str, Any], what: str, max_touches: int, empty_counted: bool = False
) -> None:
    truncated = int(report["truncated"])
    if truncated:
        warnings.warn(
            f"{truncated:,} simulated {what} reached max_touches={max_touches:,} without "
            "ending and were stopped there (kept as they stood, without a further outcome); "
            "raise max_touches to let them run",
            DataWarning,
            stacklevel=3,
        )
    empty = int(report["empty"])
    if empty and not empty_counted:
        warnings.warn(
            f"{empty:,} simulated walks ended before their first touch (the fitted START row "
            f"leads straight to an outcome) and are not rows; they held "
            f"{report['empty_conversions']:g} conversions or purchases",
            DataWarning,
            stacklevel=3,
        )


def fit_holding_times(journeys: Journeys, model: _core.markov_model) -> _core.holding_times | None:
    """The holding times of ``model`` from ``journeys``, or None if they carry no times."""
    if not journeys._set.has_times:
        return None
    return _core.fit_holding_times(journeys._set, model)


def fit_loop_holding_times(
    histories: Histories, model: _core.loop_model
) -> _core.loop_holding_times | None:
    """The holding times of a loop ``model`` from ``histories``, or None if they
    carry no times."""
    if not histories._set.has_times:
        return None
    return _core.fit_loop_holding_times(histories._set, model)


def simulate_journeys(
    model: _core.markov_model,
    holding: _core.holding_times | None,
    n: object,
    seed: object,
    threads: object,
    max_touches: object,
    teams: dict[str, str] | None,
    stages: dict[str, str] | None,
    report_out: dict[str, Any] | None = None,
    progress: Progress = None,
) -> Journeys:
    """``n`` funnel journeys drawn from ``model`` (see MarkovModel.simulate).
    With ``report_out``, the simulation report is copied into it, and the walks
    that made no row are left for the caller to count (no warning about them)."""
    args = _arguments(n, seed, threads, max_touches)
    callback = progress_callback(progress, "simulation")
    rows, report = _core.simulate_journeys(
        model,
        args["n"],
        seed=args["seed"],
        threads=args["threads"],
        max_touches=args["max_touches"],
        holding=holding,
        progress=callback,
    )
    if report_out is not None:
        report_out.update(report)
    _announce(report, "journeys", args["max_touches"], empty_counted=report_out is not None)
    return Journeys(rows, teams=teams, stages=stages)


def simulate_histories(
    model: _core.loop_model,
    holding: _core.loop_holding_times | None,
    n: object,
    seed: object,
    threads: object,
    max_touches: object,
    teams: dict[str, str] | None,
    stages: dict[str, str] | None,
    report_out: dict[str, Any] | None = None,
    progress: Progress = None,
) -> Histories:
    """``n`` loop histories drawn from ``model`` (see LoopModel.simulate); for
    ``report_out``, see :func:`simulate_journeys`."""
    args = _arguments(n, seed, threads, max_touches)
    callback = progress_callback(progress, "simulation")
    rows, report = _core.simulate_histories(
        model,
        args["n"],
        seed=args["seed"],
        threads=args["threads"],
        max_touches=args["max_touches"],
        holding=holding,
        progress=callback,
    )
    if report_out is not None:
        report_out.update(report)
    _announce(report, "histories", args["max_touches"], empty_counted=report_out is not None)
    return Histories(rows, teams=teams, stages=stages)


def expected_time_to_conversion(
    model: _core.markov_model, holding: _core.holding_times | None
) -> float | pd.Timedelta:
    """The exact expected time from the first touch to the conversion: a
    ``pd.Timedelta`` when the event log's times were datetimes (their unit is
    known), else a number in the log's own time units."""
    if holding is None:
        msg = (
            "expected_time_to_conversion_ needs holding times: fit the model on journeys "
            "with times (Journeys.from_events)"
        )
        raise InvalidInputError(msg)
    t = float(_core.expected_time_to_conversion(model, holding))
    return _as_time(t, float(holding.time_unit_seconds))


def _as_time(t: float, unit: float) -> float | pd.Timedelta:
    return pd.Timedelta(seconds=t * unit) if unit > 0 and np.isfinite(t) else t


def expected_purchase_time(
    model: _core.loop_model, holding: _core.loop_holding_times | None, which: str
) -> float | pd.Timedelta:
    """The exact expected time to the first purchase (from the first touch) or
    to the next (from a purchase), as :func:`expected_time_to_conversion`."""
    if holding is None:
        msg = (
            f"expected_time_to_{which}_purchase_ needs holding times: fit the model on "
            'histories with times (Histories.from_events or Journeys.from_events(..., form="loop"))'
        )
        raise InvalidInputError(msg)
    if which == "first":
        t = float(_core.expected_time_to_first_purchase(model, holding))
    else:
        t = float(_core.expected_time_to_next_purchase(model, holding))
    return _as_time(t, float(holding.time_unit_seconds))
