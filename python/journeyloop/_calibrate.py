"""Calibrating an attribution to lift tests (holdout experiments).

The arithmetic is the C++ core's (``calibrate`` in
``<journeyloop/calibration.hpp>``); this module reads the frames, checks
them with the user's column names, and shapes the result. See
``docs/calibration.md``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _core
from ._errors import DataWarning, InvalidInputError, UnknownChannelError, outside_frames

__all__ = ["Calibration", "calibrate"]

#: Interval columns of an attribution frame, in the order they are looked for.
_INTERVALS = (("conversions_lower", "conversions_upper"), ("lower", "upper"))


@dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    report
        One row per tested channel (per method, when the attribution has a
        ``method`` column): ``channel`` (or ``team``), ``attributed``,
        ``attributed_lower``, ``attributed_upper`` (the attribution's interval,
        or ``attributed`` twice without one), ``experiment``, ``lower``,
        ``upper`` (the test's), ``ratio`` (attributed / experiment) and
        ``disagrees`` (the two intervals do not overlap).
    attribution
        The calibrated attribution: ``channel`` (or ``team``), ``conversions``,
        ``value``, ``share``, ``tested`` and ``scale`` (calibrated / attributed
        conversions, NaN where the attribution gave nothing).
    unallocated
        Per method (one row without a ``method`` column): the ``conversions``
        and ``value`` of the attribution's total that the calibrated
        attribution does not hold (positive when every channel was tested
        and the tests sum to less, negative when the tests exceed the total).
    """

    report: pd.DataFrame
    attribution: pd.DataFrame
    unallocated: pd.DataFrame


def _numbers(frame: pd.DataFrame, column: str, what: str) -> npt.NDArray[np.float64]:
    """The column as floats; InvalidInputError naming the row and column for
    anything that is not a finite number."""
    if column not in frame.columns:
        msg = f"{what} has no column {column!r} (columns: {', '.join(map(str, frame.columns))})"
        raise InvalidInputError(msg)
    values = frame[column].tolist()
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            msg = f"{what} row {i}, column {column!r}: {v!r} is not a number"
            raise InvalidInputError(msg)
        if not math.isfinite(float(v)):
            msg = f"{what} row {i}, column {column!r}: {v!r}; numbers must be finite"
            raise InvalidInputError(msg)
        out[i] = float(v)
    return out


def _experiments(
    experiments: Any, key: str, conversions: str | None, lower: str, upper: str
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(experiments, pd.DataFrame):
        msg = f"experiments must be a DataFrame, got {type(experiments).__name__}"
        raise InvalidInputError(msg)
    if len(experiments) == 0:
        msg = "experiments is empty: give at least one lift test"
        raise InvalidInputError(msg)
    name_column = key if key in experiments.columns else "channel"
    if name_column not in experiments.columns:
        msg = f"experiments needs a column {key!r} naming the channel tested"
        raise InvalidInputError(msg)
    if conversions is None:
        conversions = (
            "incremental_conversions"
            if "incremental_conversions" in experiments.columns
            else "conversions"
        )
    what = "experiments"
    measured = _numbers(experiments, conversions, what)
    low = _numbers(experiments, lower, what)
    high = _numbers(experiments, upper, what)
    names = [str(n) for n in experiments[name_column]]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            msg = (
                f"experiments row {i}, column {name_column!r}: {name!r} is tested twice "
                f"(also row {seen[name]}); give one test per channel"
            )
            raise InvalidInputError(msg)
        seen[name] = i
        for column, x in ((conversions, measured[i]), (lower, low[i]), (upper, high[i])):
            if x < 0:
                msg = (
                    f"experiments row {i}, column {column!r}: {x:g} is negative; incremental "
                    "conversions and their interval must be non-negative"
                )
                raise InvalidInputError(msg)
        if low[i] > high[i]:
            msg = (
                f"experiments row {i}: {lower!r} {low[i]:g} is above {upper!r} {high[i]:g}; "
                "give lower <= upper"
            )
            raise InvalidInputError(msg)
        if not low[i] <= measured[i] <= high[i]:
            msg = (
                f"experiments row {i}, column {conversions!r}: {measured[i]:g} is outside its "
                f"interval [{low[i]:g}, {high[i]:g}]"
            )
            raise InvalidInputError(msg)
    return names, measured, low, high


def _interval_columns(frame: pd.DataFrame) -> tuple[str, str] | None:
    for lo, hi in _INTERVALS:
        if lo in frame.columns and hi in frame.columns:
            return lo, hi
        if lo in frame.columns or hi in frame.columns:
            msg = f"the attribution has only one of the interval columns {lo!r} and {hi!r}"
            raise InvalidInputError(msg)
    return None


def _one(
    part: pd.DataFrame,
    key: str,
    tests: tuple[list[str], np.ndarray, np.ndarray, np.ndarray],
    interval: tuple[str, str] | None,
) -> dict[str, Any]:
    names = [str(n) for n in part[key]]
    if len(set(names)) != len(names):
        msg = f"the attribution lists a {key} twice: {names!r}"
        raise InvalidInputError(msg)
    known = set(names)
    for i, name in enumerate(tests[0]):
        if name not in known:
            msg = (
                f"experiments row {i}: {key} {name!r} is not in the attribution "
                f"({', '.join(names)}); test only {key}s it credits"
            )
            raise UnknownChannelError(msg)
    conversions = _numbers(part, "conversions", "attribution")
    value = (
        _numbers(part, "value", "attribution") if "value" in part.columns else np.zeros(len(part))
    )
    lo = hi = None
    if interval is not None:
        lo = _numbers(part, interval[0], "attribution")
        hi = _numbers(part, interval[1], "attribution")
    out: dict[str, Any] = _core.calibrate(
        names, conversions, value, tests[0], tests[1], tests[2], tests[3], lo, hi
    )
    return out


def calibrate(
    attribution: pd.DataFrame,
    experiments: pd.DataFrame,
    *,
    conversions: str | None = None,
    lower: str = "lower",
    upper: str = "upper",
) -> Calibration:
    """Compares an attribution with lift tests and calibrates it to them.

    A lift test (a holdout of one channel) measures the conversions the
    channel adds, with an interval. Per tested channel, the report puts the
    attribution's conversions (with its interval, when the frame has
    ``conversions_lower``/``conversions_upper`` or ``lower``/``upper``
    columns) beside the test's and says whether the two intervals do not
    overlap. The calibrated attribution gives each tested channel its
    measured conversions (its value scaled alike) and shares what is left of
    the attribution's total between the untested channels in proportion to
    their credit. It assumes that the tests and the attribution count the
    same conversions over the same period, and that the total is right.

    Parameters
    ----------
    attribution
        A frame of :func:`attribute` or of a model's ``attribution()``:
        ``channel`` (or ``team``), ``conversions``, optionally ``value``,
        ``method`` (each method calibrated on its own) and the interval
        columns.
    experiments
        One row per lift test: ``channel`` (or ``team``), the incremental
        conversions (column ``incremental_conversions``, or ``conversions``),
        ``lower`` and ``upper``.
    conversions, lower, upper
        Column names of ``experiments``, when they differ from the defaults.

    Returns
    -------
    Calibration
        ``report``, ``attribution`` (calibrated) and ``unallocated``.

    Raises
    ------
    InvalidInputError
        For a missing column, a value that is not a finite non-negative
        number, ``lower > upper``, a measurement outside its interval, or a
        channel tested twice (naming the row and column).
    UnknownChannelError
        For a tested channel the attribution does not have.

    Examples
    --------
    >>> import pandas as pd
    >>> import journeyloop as jl
    >>> a = pd.DataFrame({"channel": ["a", "b", "c"], "conversions": [60.0, 30.0, 10.0],
    ...                   "value": [600.0, 300.0, 100.0]})
    >>> tests = pd.DataFrame({"channel": ["a"], "incremental_conversions": [30.0],
    ...                       "lower": [20.0], "upper": [40.0]})
    >>> result = jl.calibrate(a, tests)
    >>> result.report[["channel", "attributed", "experiment", "ratio", "disagrees"]]
      channel  attributed  experiment  ratio  disagrees
    0       a        60.0        30.0    2.0       True
    >>> result.attribution
      channel  conversions  value  share  tested  scale
    0       a         30.0  300.0  0.300    True   0.50
    1       b         52.5  525.0  0.525   False   1.75
    2       c         17.5  175.0  0.175   False   1.75
    """
    if not isinstance(attribution, pd.DataFrame):
        msg = f"attribution must be a DataFrame, got {type(attribution).__name__}"
        raise InvalidInputError(msg)
    key = "channel" if "channel" in attribution.columns else "team"
    if key not in attribution.columns or "conversions" not in attribution.columns:
        msg = (
            "attribution needs the columns 'channel' (or 'team') and 'conversions', as "
            "jl.attribute and model.attribution() give"
        )
        raise InvalidInputError(msg)
    if len(attribution) == 0:
        msg = "attribution is empty"
        raise InvalidInputError(msg)
    tests = _experiments(experiments, key, conversions, lower, upper)
    interval = _interval_columns(attribution)
    has_method = "method" in attribution.columns
    parts = (
        [(m, attribution[attribution["method"] == m]) for m in pd.unique(attribution["method"])]
        if has_method
        else [(None, attribution)]
    )
    reports, frames, unallocated = [], [], []
    for method, part in parts:
        r = _one(part.reset_index(drop=True), key, tests, interval)
        report = pd.DataFrame(r["report"]).rename(columns={"channel": key})
        conv = np.asarray(r["conversions"])
        total = conv.sum()
        frame = pd.DataFrame(
            {
                key: r["names"],
                "conversions": conv,
                "value": r["value"],
                "share": conv / total if total > 0 else np.zeros_like(conv),
                "tested": r["tested"],
                "scale": r["scale"],
            }
        )
        left = {"conversions": r["unallocated_conversions"], "value": r["unallocated_value"]}
        if method is not None:
            report.insert(0, "method", method)
            frame.insert(0, "method", method)
            left = {"method": method, **left}
        reports.append(report)
        frames.append(frame)
        unallocated.append(left)
        scale = max(1.0, abs(float(conv.sum())))
        if abs(r["unallocated_conversions"]) > 1e-9 * scale:
            where = f"method {method!r}: " if method is not None else ""
            warnings.warn(
                f"{where}the calibrated attribution does not hold "
                f"{r['unallocated_conversions']:+g} conversions of the total (the tests "
                + (
                    "exceed the total; the untested channels get nothing)"
                    if r["unallocated_conversions"] < 0
                    else "cover every channel and sum to less than the total)"
                ),
                DataWarning,
                stacklevel=outside_frames(),
            )
    return Calibration(
        report=pd.concat(reports, ignore_index=True),
        attribution=pd.concat(frames, ignore_index=True),
        unallocated=pd.DataFrame(unallocated),
    )
