"""Scoring journeys in flight: ``model.score`` and ``model.next_touch``.

The models' methods call these functions; every number comes from the C++
core (``score_journeys``, ``next_touch``), which looks each journey's state
up in the solution of the fit.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from . import _core
from ._errors import DataWarning, InvalidInputError, UnknownChannelError, outside_frames
from ._journeys import Histories, Journeys
from ._model_base import whole_number

if TYPE_CHECKING:
    from ._model_base import ModelBase

#: How each journey's state was found, by the core's status code.
STATUS = ("exact", "backed off", "unknown")

Unknown = Literal["start", "nan"]


def _options(
    unknown: str, purchase: str, threads: int | None, best_only: bool = False
) -> _core.score_options:
    if unknown not in ("start", "nan"):
        msg = f'unknown must be "start" or "nan", got {unknown!r}'
        raise InvalidInputError(msg)
    if not isinstance(purchase, str) or not purchase:
        msg = f"purchase must be a non-empty string (the purchase token), got {purchase!r}"
        raise InvalidInputError(msg)
    n = 0 if threads is None else whole_number(threads, "threads", 1)
    return _core.score_options(unknown=unknown, purchase=purchase, threads=n, best_only=best_only)


def _open_rows(model: ModelBase, journeys: Any, path: str, sep: str) -> tuple[Any, Any, pd.Index]:
    """The core rows of the open journeys, their paths (as given, or
    rebuilt from the journeys) and the index of the result."""
    if isinstance(journeys, Histories):
        if not model.is_loop_:
            msg = (
                "journeys: loop-form Histories are scored by a LoopModel; this funnel model "
                "scores Journeys or a list of paths"
            )
            raise InvalidInputError(msg)
        return journeys._set, _paths_of(journeys), pd.RangeIndex(len(journeys))
    if isinstance(journeys, Journeys):
        return journeys._set, _paths_of(journeys), pd.RangeIndex(len(journeys))
    if isinstance(journeys, (str, bytes)):
        msg = (
            f"journeys must be Journeys, a list of paths or a column of paths, not the string "
            f"{journeys!r}: write [{journeys!r}] for one journey"
        )
        raise InvalidInputError(msg)
    if isinstance(journeys, pd.DataFrame):
        if path not in journeys.columns:
            msg = f"journeys: the DataFrame has no column {path!r}; give path=<the path column>"
            raise InvalidInputError(msg)
        journeys = journeys[path]
    if isinstance(journeys, (pd.Series, pd.Index)):
        index = journeys.index if isinstance(journeys, pd.Series) else pd.RangeIndex(len(journeys))
        values = list(journeys)
    elif isinstance(journeys, (Sequence, np.ndarray)):
        values = list(journeys)
        index = pd.RangeIndex(len(values))
    else:
        msg = (
            "journeys must be Journeys (or, for a loop model, Histories), a list of paths, a "
            f"pandas Series of paths or a DataFrame with a path column; got "
            f"{type(journeys).__name__}"
        )
        raise InvalidInputError(msg)
    if not values:
        msg = "journeys: no open journeys to score; give at least one path"
        raise InvalidInputError(msg)
    rows = Journeys.from_paths(values, conversions=[0.0] * len(values), sep=sep)
    paths = np.array([v if isinstance(v, str) else " > ".join(v) for v in values], dtype=object)
    return rows._set, paths, index


def _paths_of(journeys: Journeys | Histories) -> Any:
    return np.array(journeys._set.path_strings(" > "), dtype=object)


def _status(codes: Any) -> Any:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=pd.Index(STATUS))


def _counts(exact: int, backed_off: int, unknown: int) -> dict[str, int]:
    return {"exact": int(exact), "backed_off": int(backed_off), "unknown": int(unknown)}


def _warn(counts: dict[str, int], total: int, unknown: str) -> None:
    parts = []
    if counts["backed_off"]:
        parts.append(
            f"{counts['backed_off']:,} in a state never seen in fitting, backed off to the "
            "states ending with their longest known suffix"
        )
    if counts["unknown"]:
        given = "NaN" if unknown == "nan" else "the probability from START"
        parts.append(
            f"{counts['unknown']:,} ending with a channel no state of the model ends with, "
            f"given {given}"
        )
    if parts:
        warnings.warn(
            f"of {total:,} open journeys: " + "; ".join(parts) + " (see the status column and "
            ".attrs['backoff'])",
            DataWarning,
            stacklevel=outside_frames(),
        )


def _frame(model: ModelBase, s: dict[str, Any], paths: Any, index: pd.Index) -> pd.DataFrame:
    labels = pd.Categorical.from_codes(
        np.asarray(s["key"], dtype=np.int64), categories=pd.Index(s["labels"], dtype=object)
    )
    columns: dict[str, Any] = {
        "path": paths,
        "state": labels,
        "status": _status(s["status"]),
        "matched": np.asarray(s["matched"], dtype=np.int64),
    }
    if model.is_loop_:
        columns["next"] = pd.Categorical.from_codes(
            np.asarray(s["repeat"], dtype=np.int64), categories=pd.Index(["first", "repeat"])
        )
    columns["probability"] = s["probability"]
    columns["expected_value"] = s["expected_value"]
    if model.is_loop_:
        columns["expected_purchases"] = s["expected_purchases"]
        columns["future_value"] = s["future_value"]
    return pd.DataFrame(columns, index=index)


def score(
    model: ModelBase,
    journeys: Any,
    *,
    path: str = "path",
    sep: str = ">",
    unknown: Unknown = "start",
    purchase: str = "purchase",
    threads: int | None = None,
) -> pd.DataFrame:
    """See :meth:`MarkovModel.score` and :meth:`LoopModel.score`."""
    options = _options(unknown, purchase, threads)
    rows, paths, index = _open_rows(model, journeys, path, sep)
    s = _core.score_journeys(model._fitted, rows, options)
    out = _frame(model, s, paths, index)
    counts = _counts(s["exact"], s["backed_off"], s["unknown"])
    out.attrs["backoff"] = counts
    _warn(counts, len(out), unknown)
    return out


def _candidate_groups(
    model: ModelBase,
    candidates: Sequence[str] | Mapping[str, Sequence[str]] | None,
    by: str,
    teams: Mapping[str, str] | Any | None,
) -> tuple[list[str], list[list[int]], bool]:
    """Names and channel ids of the candidate groups, and whether they are
    groups (teams, named groups) rather than single channels."""
    if by == "team":
        names, members = model._groups("team", teams, None)
        if candidates is not None:
            if isinstance(candidates, (str, bytes, Mapping)):
                msg = 'with by="team", candidates is a list of team names (or None: every team)'
                raise InvalidInputError(msg)
            wanted = list(candidates)
            for name in wanted:
                if name not in names:
                    msg = f"candidates: unknown team {name!r} (the teams are {names})"
                    raise InvalidInputError(msg)
            members = [members[names.index(n)] for n in wanted]
            names = wanted
        for name, m in zip(names, members):
            if not m:
                msg = (
                    f"candidates: team {name!r} has no channel of the model; leave it out of "
                    "the candidates"
                )
                raise InvalidInputError(msg)
        return names, members, True
    if by != "channel":
        msg = f'by must be "channel" or "team", got {by!r}'
        raise InvalidInputError(msg)
    if candidates is None:
        names = model.channels_
        return names, [[i] for i in range(len(names))], False
    if isinstance(candidates, Mapping):
        names, members = model._groups("group", None, candidates)
        for name, m in zip(names, members):
            if not m:
                msg = f"candidates: group {name!r} has no channel; give it at least one"
                raise InvalidInputError(msg)
        return names, members, True
    if isinstance(candidates, (str, bytes)):
        msg = f"candidates must be a list of channels, not the string {candidates!r}"
        raise InvalidInputError(msg)
    names = [str(c) for c in candidates]
    if not names:
        msg = "candidates: no candidate next touch given (None means every channel)"
        raise InvalidInputError(msg)
    index = {c: i for i, c in enumerate(model.channels_)}
    for name in names:
        if name not in index:
            msg = f"candidates: unknown channel {name!r}; the model's channels are {list(index)}"
            raise UnknownChannelError(msg)
    return names, [[index[n]] for n in names], False


def next_touch(
    model: ModelBase,
    journeys: Any,
    candidates: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    *,
    by: Literal["channel", "team"] = "channel",
    teams: Mapping[str, str] | Any | None = None,
    best: bool = False,
    path: str = "path",
    sep: str = ">",
    unknown: Unknown = "start",
    purchase: str = "purchase",
    threads: int | None = None,
) -> pd.DataFrame:
    """See :meth:`MarkovModel.next_touch` and :meth:`LoopModel.next_touch`.

    With ``best=True`` the core keeps each journey's best candidate alone (one
    entry a journey); the full table of journeys x candidates is never built.
    Without it the core refuses a table above the memory limit
    (:class:`MemoryLimitError`) before allocating it."""
    if not isinstance(best, (bool, np.bool_)):
        msg = f"best must be True or False, got {best!r}"
        raise InvalidInputError(msg)
    options = _options(unknown, purchase, threads, bool(best))
    names, groups, grouped = _candidate_groups(model, candidates, by, teams)
    rows, paths, index = _open_rows(model, journeys, path, sep)
    t = _core.next_touch(model._fitted, rows, groups, options)
    n, m = int(t["journeys"]), int(t["groups"])
    current = t["current"]
    channel_names = np.array(model.channels_, dtype=object)
    if best:
        # One entry a journey, its best candidate's.
        take = np.arange(n)
        journey = np.arange(n)
        group = np.asarray(t["best"], dtype=np.int64)
    else:
        take = np.arange(n * m)
        journey = np.repeat(np.arange(n), m)
        group = np.tile(np.arange(m), n)
    columns: dict[str, Any] = {
        "journey": index.to_numpy()[journey],
        "path": paths[journey],
        "candidate": np.array(names, dtype=object)[group],
    }
    if grouped:
        columns["channel"] = channel_names[np.asarray(t["channel"])[take]]
    columns["current"] = np.asarray(current["probability"])[journey]
    columns["probability"] = np.asarray(t["probability"])[take]
    columns["gain"] = np.asarray(t["gain"])[take]
    columns["expected_value"] = np.asarray(t["expected_value"])[take]
    columns["value_gain"] = np.asarray(t["value_gain"])[take]
    columns["status"] = _status(np.asarray(t["status"])[take])
    out = pd.DataFrame(columns)
    counts = _counts(current["exact"], current["backed_off"], current["unknown"])
    after = np.bincount(np.asarray(t["status"], dtype=np.int64), minlength=3)
    out.attrs["backoff"] = counts
    out.attrs["backoff_after"] = _counts(after[0], after[1], after[2])
    _warn(counts, n, unknown)
    return out
