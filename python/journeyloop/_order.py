"""Choosing the Markov order by cross-validation (``docs/order.md``).

Every number comes from the C++ core (``select_order`` and ``split_folds`` in
``<journeyloop/order_selection.hpp>``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from . import _core
from ._errors import DataWarning, InvalidInputError
from ._journeys import Histories, Journeys
from ._model_base import Progress, progress_callback, real_number, whole_number

__all__ = ["backed_off", "check_min_count", "select_order"]


def check_min_count(min_count: object) -> int | None:
    """``min_count`` of ``MarkovModel``: None, or an integer >= 1."""
    if min_count is None:
        return None
    return whole_number(min_count, "min_count", 1)


def backed_off(counts: _core.transition_counts, min_count: int | None) -> _core.transition_counts:
    """``counts`` with the states seen fewer than ``min_count`` times backed off
    to their suffix states (C++ ``back_off``), or ``counts`` when None."""
    if min_count is None:
        return counts
    return _core.back_off(counts, min_count)


def _orders(orders: object) -> list[int]:
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        msg = f"orders must be an iterable of integers >= 1 (e.g. range(1, 6)), got {orders!r}"
        raise InvalidInputError(msg)
    out = [whole_number(k, "orders: every order", 1, int(_core.max_order)) for k in orders]
    if not out:
        msg = "orders is empty: give at least one Markov order (>= 1), e.g. range(1, 6)"
        raise InvalidInputError(msg)
    return out


def _reason(frame: pd.DataFrame, recommended: int, best: int, ca: int) -> str:
    ll = dict(zip(frame["order"], frame["log_likelihood"], strict=True))
    se = dict(zip(frame["order"], frame["log_likelihood_se"], strict=True))
    auc = dict(zip(frame["order"], frame["auc"], strict=True))
    if recommended == best:
        text = (
            f"Order {best} predicts the held-out journeys best: log-likelihood "
            f"{ll[best]:.4f} per symbol (standard error {se[best]:.4f})"
        )
        others = [k for k in ll if k != best]
        if others:
            runner = max(others, key=lambda k: (ll[k], -k))
            text += f", against {ll[runner]:.4f} for order {runner}"
        text += "."
    else:
        text = (
            f"Order {recommended} is the smallest order within one standard error of the "
            f"best held-out log-likelihood (order {best}: {ll[best]:.4f} per symbol, "
            f"standard error {se[best]:.4f}; order {recommended}: {ll[recommended]:.4f}): "
            "the higher order's gain is within the noise between folds."
        )
    if recommended == max(ll) and len(ll) > 1:
        text += " It is the highest order compared: a higher one may do better still."
    top_auc = max(auc, key=lambda k: (auc[k], -k))
    text += f" Its held-out conversion AUC is {auc[recommended]:.4f}"
    if top_auc != recommended:
        text += f" (order {top_auc}: {auc[top_auc]:.4f})"
    text += "."
    if ca:
        text += f" ChannelAttribution's in-sample penalised AUC would choose order {ca}."
    return text


def select_order(
    journeys: Journeys,
    orders: Iterable[int] = range(1, 6),
    folds: int = 5,
    seed: int = 0,
    *,
    prior: float = 1.0,
    collapse_repeats: bool = False,
    roc_points: int = 100,
    threads: int | None = None,
    progress: Progress = None,
) -> pd.DataFrame:
    """Compare Markov orders by how well they predict held-out journeys.

    The journeys (or, for journeys built from events, the customers) are
    split at random into ``folds`` folds of sizes that differ by at most one.
    For each order and each fold, the order-k chain is counted on the other
    folds and scored on the held-out one: the log-probability of every
    held-out touch and outcome (smoothed by a Dirichlet prior centred on the
    order k - 1 prediction, so that a transition never seen in training
    keeps a finite probability; such symbols are counted), and the AUC of
    its conversion prediction from each journey's last state. Beside them,
    ChannelAttribution's in-sample penalised AUC (``choose_order``). See
    ``docs/order.md`` for the exact definitions.

    Parameters
    ----------
    journeys
        Funnel journeys with converting and non-converting journeys (whole
        counts when they come from a path table).
    orders
        The Markov orders to compare, each >= 1.
    folds
        Folds of the cross-validation: >= 2 and at most the number of
        journeys (or customers).
    seed
        Seed of the split into folds, an integer in [0, 2**64 - 1].
    prior
        Strength of the Dirichlet prior of the held-out predictions (> 0).
    collapse_repeats
        Collapse consecutive identical states. Off by default (unlike
        ``MarkovModel``), so that every order predicts every touch: a
        collapsed order-k chain leaves out the repeats it folds into a state,
        and the orders would be scored on different symbols. Self-loops
        change neither removal effects nor the conversion predictions, so the
        order chosen holds for ``MarkovModel(order=k)`` as fitted by default.
    roc_points
        Points of ChannelAttribution's ROC curve (its ``roc_npt``).
    threads
        Threads over the orders (None: the library's setting).
    progress
        ``True`` (print the steps to stderr), or a callable ``(done, total)``
        called after the counting and after each order.

    Returns
    -------
    DataFrame
        One row per order: ``order``, ``log_likelihood`` (held-out, natural
        log, per touch and outcome), ``log_likelihood_se`` (its standard
        error over the folds), ``auc`` (held-out), ``states`` (of the chain
        fitted on all journeys), ``unseen_transitions`` and
        ``unseen_states`` (held-out symbols whose transition, or state, the
        training folds never saw), ``ca_nodes``, ``ca_auc`` and ``ca_pauc``
        (ChannelAttribution's penalty, AUC and penalised AUC; NaN where it
        skips the order). ``attrs`` holds ``recommended`` (the smallest
        order within one standard error of the best log-likelihood),
        ``best``, ``ca_suggested``, ``reason`` (a sentence saying why),
        ``folds``, ``units``, ``unit`` (``"journeys"`` or ``"customers"``),
        ``symbols`` (held-out touches and outcomes) and ``seed``.

    Raises
    ------
    InvalidInputError
        For bad arguments (naming the argument), or journeys without
        conversions or without nulls.

    Examples
    --------
    Whether ``a > b`` or ``b > a`` converts depends on the order of the
    touches, which order 1 forgets:

    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b > a", "a", "b"], conversions=[30, 5, 10, 2],
    ...                            nulls=[10, 30, 10, 20])
    >>> s = jl.select_order(j, orders=[1, 2], folds=5, seed=1)
    >>> s[["order", "log_likelihood", "auc", "states", "unseen_transitions"]].round(4)
       order  log_likelihood     auc  states  unseen_transitions
    0      1         -0.9392  0.5749       2                 0.0
    1      2         -0.7150  0.7784       4                 0.0
    >>> s.attrs["recommended"]
    2
    """
    if isinstance(journeys, Histories) or not isinstance(journeys, Journeys):
        msg = f"journeys must be funnel journeys (jl.Journeys), got {type(journeys).__name__}"
        raise InvalidInputError(msg)
    order_list = _orders(orders)
    n_folds = whole_number(folds, "folds", 2)
    seed_value = whole_number(seed, "seed", 0, 2**64 - 1)
    prior_value = real_number(prior, "prior")
    if prior_value <= 0:
        msg = f"prior must be a finite number > 0, got {prior!r}"
        raise InvalidInputError(msg)
    if not isinstance(collapse_repeats, (bool, np.bool_)):
        msg = f"collapse_repeats must be True or False, got {collapse_repeats!r}"
        raise InvalidInputError(msg)
    points = whole_number(roc_points, "roc_points", 2)
    n_threads = 0 if threads is None else whole_number(threads, "threads", 1)
    callback = progress_callback(progress, "order selection")
    rows = journeys._set
    result = _core.select_order(
        rows,
        order_list,
        n_folds,
        seed_value,
        prior_value,
        bool(collapse_repeats),
        points,
        n_threads,
        callback,
    )
    frame = pd.DataFrame(
        {
            "order": result["order"].astype(np.int64),
            "log_likelihood": result["log_likelihood"],
            "log_likelihood_se": result["log_likelihood_se"],
            "auc": result["auc"],
            "states": result["states"].astype(np.int64),
            "unseen_transitions": result["unseen_transitions"],
            "unseen_states": result["unseen_states"],
            "ca_nodes": result["ca_nodes"],
            "ca_auc": result["ca_auc"],
            "ca_pauc": result["ca_pauc"],
        }
    )
    recommended = int(result["recommended"])
    best = int(result["best"])
    ca = int(result["ca_suggested"])
    empty = int(result["rows_without_journeys"])
    frame.attrs.update(
        {
            "recommended": recommended,
            "best": best,
            "ca_suggested": ca if ca else None,
            "reason": _reason(frame, recommended, best, ca),
            "folds": int(result["folds"]),
            "units": int(result["units"]),
            "unit": "customers" if result["by_customer"] else "journeys",
            "symbols": float(result["symbols"][0]),
            "seed": seed_value,
            "rows_without_journeys": empty,
        }
    )
    if empty:
        warnings.warn(
            f"{empty} rows hold no journey (0 conversions and 0 nulls) and are left out of "
            "the folds (attrs['rows_without_journeys'])",
            DataWarning,
            stacklevel=2,
        )
    return frame
