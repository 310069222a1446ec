"""Intervals around fitted figures: bootstrap and Bayesian replicates (docs/uncertainty.md).

Every replicate is drawn, fitted and evaluated in C++ (``journeyloop._core``); this module
checks the arguments, keeps the replicate plan of a model's journeys, and adds the
``lower`` / ``upper`` columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import _core
from ._errors import InvalidInputError
from ._model_base import Progress, progress_callback, real_number, whole_number

Uncertainty = Literal["bootstrap", "bayes"]

#: Replicates drawn when ``n_boot`` is not given.
DEFAULT_REPLICATES = 1000
#: The Dirichlet prior per observed transition of ``uncertainty="bayes"`` (Jeffreys's).
DEFAULT_PRIOR = 0.5


@dataclass(frozen=True)
class IntervalRequest:
    """What ``ci=`` asks for, checked."""

    level: float
    replicates: int
    method: Uncertainty
    seed: int
    prior: float


def interval_request(
    ci: float | None,
    n_boot: int,
    uncertainty: str,
    seed: int,
    prior: float,
) -> IntervalRequest | None:
    """The checked request, or None when ``ci`` is None."""
    if ci is None:
        return None
    if isinstance(ci, (bool, np.bool_)) or not isinstance(ci, (int, float, np.floating)):
        msg = f"ci: the interval's level must be a number such as 0.95, got {ci!r}"
        raise InvalidInputError(msg)
    level = float(ci)
    if not 0 < level < 1:
        msg = f"ci: the interval's level must be between 0 and 1 (such as 0.95), got {ci!r}"
        raise InvalidInputError(msg)
    if uncertainty not in ("bootstrap", "bayes"):
        msg = f"uncertainty: {uncertainty!r} is not a method; use 'bootstrap' or 'bayes'"
        raise InvalidInputError(msg)
    replicates = whole_number(n_boot, "n_boot", 2)
    seed = whole_number(seed, "seed", 0, 2**64 - 1)
    return IntervalRequest(
        level,
        replicates,
        uncertainty,  # type: ignore[arg-type]
        seed,
        real_number(prior, "prior"),
    )


def replicate_plan(model: Any) -> Any:
    """The replicate plan of the journeys (or histories) ``model`` was fitted on (made once,
    kept)."""
    plan = model.__dict__.get("_plan")
    if plan is not None:
        return plan
    journeys = model.__dict__.get("_journeys")
    loop = model._GOAL == "PURCHASE"
    if journeys is None:
        msg = (
            "the bootstrap resamples the journeys the model was fitted on, and this model has "
            "none (it was fitted on counts, or loaded from a file or a pickle): fit it on "
            "Journeys (or Histories), or use uncertainty='bayes', which needs only the counts"
        )
        raise InvalidInputError(msg)
    if loop:
        options = _core.counting_options(
            order=model.order, collapse_repeats=model.collapse_repeats, max_states=model.max_states
        )
        plan = _core.make_loop_replicate_plan(journeys._set, options)
        model._plan = plan
        return plan
    counts = model._fitted.counts
    options = _core.counting_options(
        order=counts.order,
        collapse_repeats=counts.collapse_repeats,
        padded=counts.padded,
        max_states=model.max_states,
    )
    plan = _core.make_replicate_plan(journeys._set, options)
    model._plan = plan
    return plan


def markov_replicates(
    model: Any,
    request: IntervalRequest,
    kind: str,
    names: list[str],
    groups: list[list[int]],
    progress: Progress,
    rule: str = "null",
) -> npt.NDArray[np.float64]:
    """Replicates x figures of statistic ``kind`` (see ``_core.markov_replicates`` and
    ``_core.loop_replicates``)."""
    plan = replicate_plan(model) if request.method == "bootstrap" else None
    callback = progress_callback(progress, "replicates")
    if model._GOAL == "PURCHASE":
        table = _core.loop_replicates(
            model._fitted, plan, kind, names, groups, request.method, request.replicates,
            request.seed, request.prior, progress=callback, rule=rule,
        )  # fmt: skip
    else:
        table = _core.markov_replicates(
            model._fitted, plan, kind, names, groups, request.method, request.replicates,
            request.seed, request.prior, progress=callback,
            min_count=model.__dict__.get("min_count") or 0, rule=rule,
        )  # fmt: skip
    return np.asarray(table, dtype=np.float64)


def figures_frame(
    model: Any,
    estimates: dict[str, float],
    request: IntervalRequest | None,
    progress: Progress,
) -> pd.DataFrame:
    """``figure``, ``estimate`` (and with ``request`` the bounds of the C++ statistic
    ``"summary"``, whose figures are those of ``estimates`` in order)."""
    frame = pd.DataFrame({"figure": list(estimates), "estimate": list(estimates.values())})
    if request is None:
        return frame
    table = markov_replicates(model, request, "summary", [], [], progress)
    return with_bounds(frame, ["estimate"], table, request.level)


def bounds(
    table: npt.NDArray[np.float64], level: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Percentile bounds of every column of ``table`` (computed in C++)."""
    lower, upper = _core.percentile_intervals(table, level)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def with_bounds(
    frame: pd.DataFrame, columns: list[str], table: npt.NDArray[np.float64], level: float
) -> pd.DataFrame:
    """``frame`` with ``<column>_lower`` and ``<column>_upper`` after each of ``columns``;
    ``table`` holds the replicates of the columns one after the other."""
    lower, upper = bounds(table, level)
    n = len(frame)
    out = frame.copy()
    for i, column in enumerate(columns):
        at = int(list(out.columns).index(column)) + 1
        out.insert(at, f"{column}_lower", lower[i * n : (i + 1) * n])
        out.insert(at + 1, f"{column}_upper", upper[i * n : (i + 1) * n])
    out.attrs["ci"] = level
    return out
