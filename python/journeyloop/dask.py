"""Counting event logs and path tables held in Dask DataFrames (``pip install journeyloop[dask]``).

Transition counts are a mergeable value: counted per partition and merged,
they are the counts of all the data, exactly. The functions here count every
partition on the workers, where the data is, and merge the partitions' counts
in a tree (``split_every`` at a time), so that neither the client nor any
worker holds more than a few partitions' counts at once. What comes back is
what the single-machine API gives on the same data:

- :class:`~journeyloop.TransitionCounts` (funnel) or :class:`~journeyloop.LoopCounts`
  (loop form) of any order, to fit with ``jl.MarkovModel(order).fit(counts)``;
- the merged :class:`~journeyloop.EventReport`, accounting for every row;
- the credit of the heuristics (sums over journeys, so they merge too);
- with ``period=``, the same per period (:class:`~journeyloop.PeriodCounts`).

A customer's events must all be in one partition. :func:`count_events`
checks whether they are and otherwise shuffles the rows by customer with
Dask's own shuffle (docs/scale-out.md describes both routes and their cost).
Path tables need no shuffle: every row is a whole journey.

Examples
--------
>>> import dask.dataframe as dd, pandas as pd, journeyloop as jl
>>> import journeyloop.dask as jld
>>> events = pd.DataFrame({
...     "customer": [1, 1, 2, 2, 3],
...     "time": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-03",
...                             "2024-01-02"]),
...     "channel": ["search", "email", "display", "search", "email"],
...     "conversion": [0, 1, 0, 1, 0]})
>>> frame = dd.from_pandas(events, npartitions=2)
>>> counted = jld.count_events(frame, conversion="conversion", methods=["last_touch"],
...                            scheduler="synchronous")
>>> counted.counts == jl.TransitionCounts.from_journeys(
...     jl.Journeys.from_events(events, conversion="conversion"))
True
>>> counted.report.rows_read, counted.route
(5, 'shuffled')
>>> counted.credit[["channel", "conversions"]].to_numpy().tolist()
[['display', 0.0], ['email', 1.0], ['search', 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._counted import Counted, Route
from ._counts import DEFAULT_MAX_STATES
from ._errors import InvalidInputError
from ._partition import (
    HEURISTICS,
    PART_COLUMN,
    ROW_COLUMN,
    CountSpec,
    Tally,
    merge_tallies,
    tally_partitions,
)

try:
    import dask
    import dask.dataframe as dd
    from dask.delayed import Delayed, delayed
except ImportError as e:  # pragma: no cover - exercised without the extra
    msg = (
        f"journeyloop.dask needs Dask: pip install 'journeyloop[dask]' (or dask[distributed]); {e}"
    )
    raise ImportError(msg) from e

__all__ = [
    "Counted",
    "count_events",
    "count_paths",
    "is_partitioned_by_customer",
    "partition_by_customer",
    "read_events",
]

#: Files behind the frames made by read_events, by the frame's name (for messages).
_FILES: dict[str, list[str]] = {}


def _files_of(frame: Any, files: Sequence[str] | None) -> list[str | None]:
    if files is not None:
        return list(files)
    return list(_FILES.get(frame._name, ()))


def _compute(obj: Any, scheduler: str | None) -> Any:
    return dask.compute(obj, scheduler=scheduler)[0] if scheduler else dask.compute(obj)[0]


def _tree(parts: list[Delayed], split_every: int) -> Delayed:
    """The tallies merged ``split_every`` at a time, level by level."""
    if not parts:
        msg = "the frame has no partitions"
        raise InvalidInputError(msg)
    level = 0
    while len(parts) > 1:
        level += 1
        parts = [
            delayed(merge_tallies, pure=True, name=f"journeyloop-merge-{level}-{i}-{id(parts)}")(
                parts[i : i + split_every]
            )
            for i in range(0, len(parts), split_every)
        ]
    return parts[0]


def _unique_hashes(part: pd.DataFrame, customer: str) -> pd.Series:
    c = part[customer].dropna()
    return pd.util.hash_pandas_object(c, index=False).drop_duplicates().reset_index(drop=True)


def is_partitioned_by_customer(
    frame: dd.DataFrame, customer: str = "customer", *, scheduler: str | None = None
) -> bool:
    """Whether every customer's rows are in one partition of ``frame``.

    True at once for one partition, or when ``customer`` is the frame's index
    with known divisions. Otherwise each partition's distinct customers are
    hashed (64 bits) and the hashes' count compared with their distinct count
    across partitions: a pass over the customer column alone, which moves one
    hash per customer and partition. Two customers of different partitions
    whose hashes collide make the answer False, which only costs a shuffle.
    """
    if frame.npartitions == 1:
        return True
    if frame.index.name == customer and frame.known_divisions:
        return True
    if customer not in frame.columns:
        msg = f"column {customer!r} is missing (columns: {', '.join(map(str, frame.columns))})"
        raise InvalidInputError(msg)
    hashes = frame[[customer]].map_partitions(
        _unique_hashes, customer, meta=pd.Series(dtype="uint64")
    )
    method = "tasks" if scheduler is not None else None  # as in count_events
    unique = hashes.drop_duplicates(split_out=True, shuffle_method=method)
    total, distinct = dask.compute(hashes.size, unique.size, scheduler=scheduler)
    return bool(total == distinct)


def _add_origin(part: pd.DataFrame, partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
    number = 0 if partition_info is None else int(partition_info["number"])
    out = part.copy(deep=False)
    out[PART_COLUMN] = np.full(len(part), number, dtype=np.int32)
    out[ROW_COLUMN] = np.arange(len(part), dtype=np.int64)
    return out


def _in_read_order(part: pd.DataFrame) -> pd.DataFrame:
    # A shuffle may interleave the pieces of the input partitions: the rows
    # go back to the order they were read in, which decides the order of a
    # customer's events with equal times.
    return part.sort_values([PART_COLUMN, ROW_COLUMN], kind="stable")


def partition_by_customer(
    frame: dd.DataFrame,
    customer: str = "customer",
    npartitions: int | None = None,
    *,
    shuffle_method: str | None = None,
) -> dd.DataFrame:
    """``frame`` shuffled so that each customer's rows are in one partition.

    Dask's shuffle (``frame.shuffle(on=customer)``) moves every row once; the
    rows keep the order they were read in within each customer (two columns
    recording it travel with them and are dropped by the counting). Write the
    result to Parquet to skip the shuffle next time (docs/scale-out.md).
    ``shuffle_method`` is Dask's (``"p2p"`` on a distributed cluster by
    default, ``"tasks"`` otherwise).
    """
    if customer not in frame.columns:
        msg = f"column {customer!r} is missing (columns: {', '.join(map(str, frame.columns))})"
        raise InvalidInputError(msg)
    tagged = frame.map_partitions(_add_origin, meta=_add_origin(frame._meta))
    shuffled = tagged.shuffle(on=customer, npartitions=npartitions, shuffle_method=shuffle_method)
    return shuffled.map_partitions(_in_read_order, meta=shuffled._meta)


def read_events(
    files: Sequence[str] | str,
    *,
    format: Literal["parquet", "csv"] | None = None,
    columns: Sequence[str] | None = None,
    **read_options: Any,
) -> dd.DataFrame:
    """A Dask DataFrame with one partition per file, which remembers its files.

    Errors found while counting it name the file and the row in that file.
    ``format`` defaults to each file's extension; ``read_options`` go to
    ``pandas.read_parquet`` or ``pandas.read_csv``. A folder (or a glob) is
    expanded to its files, sorted.
    """
    import glob
    import os

    if isinstance(files, (str, os.PathLike)):
        path = os.fspath(files)
        names = (
            sorted(os.path.join(path, f) for f in os.listdir(path) if not f.startswith((".", "_")))
            if os.path.isdir(path)
            else sorted(glob.glob(path))
        )
    else:
        names = [os.fspath(f) for f in files]
    if not names:
        msg = f"no files to read: {files!r}"
        raise InvalidInputError(msg)
    kinds = {format or ("csv" if n.endswith((".csv", ".csv.gz")) else "parquet") for n in names}
    if len(kinds) != 1:
        msg = "read_events reads files of one format; give format= or files of one kind"
        raise InvalidInputError(msg)
    kind = kinds.pop()
    frame = dd.from_map(
        _read_file,
        names,
        kind=kind,
        options=read_options,
        label="journeyloop-read",
        enforce_metadata=False,
    )
    if columns is not None:
        # Dask pushes the selection into the reads (their `columns` argument).
        frame = frame[list(columns)]
    _FILES[frame._name] = names
    return frame


def _read_file(
    name: str, kind: str, options: dict[str, Any], columns: list[str] | None = None
) -> pd.DataFrame:
    if kind == "csv":
        # Read whole, then projected: options such as parse_dates may name
        # columns that the projection leaves out.
        frame: pd.DataFrame = pd.read_csv(name, **options)
        if columns is not None:
            frame = frame[list(columns)]
    else:
        frame = pd.read_parquet(name, columns=columns, **options)
    return frame


def _count(
    frame: dd.DataFrame,
    spec: CountSpec,
    route: Route,
    split_every: int,
    partitions_per_task: int,
    scheduler: str | None,
) -> Counted:
    spec.check()
    if not isinstance(split_every, int) or isinstance(split_every, bool) or split_every < 2:
        msg = f"split_every must be an integer of at least 2, got {split_every!r}"
        raise InvalidInputError(msg)
    if (
        not isinstance(partitions_per_task, int)
        or isinstance(partitions_per_task, bool)
        or partitions_per_task < 1
    ):
        msg = f"partitions_per_task must be a positive integer, got {partitions_per_task!r}"
        raise InvalidInputError(msg)
    frames = frame.to_delayed()
    parts = [
        delayed(tally_partitions, pure=True)(frames[i : i + partitions_per_task], spec, i)
        for i in range(0, len(frames), partitions_per_task)
    ]
    tally: Tally = _compute(_tree(parts, split_every), scheduler)
    return Counted.from_tally(tally, spec, route)


def count_events(
    frame: dd.DataFrame,
    customer: str = "customer",
    time: str = "time",
    channel: str = "channel",
    conversion: str | None = None,
    value: str | None = None,
    *,
    order: int = 1,
    form: Literal["funnel", "loop"] = "funnel",
    methods: Sequence[str] = (),
    period: str | None = None,
    lookback: Any = None,
    inactivity: Any = None,
    conversion_is_touch: bool = True,
    duplicates: Literal["keep", "drop"] = "keep",
    strict: bool = False,
    purchase: str = "purchase",
    collapse_repeats: bool = True,
    padded: bool = False,
    max_states: int = DEFAULT_MAX_STATES,
    partitioned: bool | None = None,
    npartitions: int | None = None,
    split_every: int = 8,
    partitions_per_task: int = 1,
    files: Sequence[str] | None = None,
    scheduler: str | None = None,
) -> Counted:
    """Counts an event log held in a Dask DataFrame, partition by partition.

    Every partition is read as ``jl.Journeys.from_events`` reads a frame (the
    same columns, options and checks) and counted as
    ``jl.TransitionCounts.from_journeys`` (or ``jl.LoopCounts.from_histories``
    for ``form="loop"``) counts it, on the workers; the tallies are merged in
    a tree. The counts equal those of the single-machine API on
    ``frame.compute()``, exactly.

    Parameters
    ----------
    frame
        The events, one row per touch or conversion.
    customer, time, channel, conversion, value, lookback, inactivity
        As in :meth:`journeyloop.Journeys.from_events`, as are
        ``conversion_is_touch``, ``duplicates`` and ``purchase``.
    order, collapse_repeats, padded, max_states
        As in :meth:`journeyloop.TransitionCounts.from_journeys`.
    form
        ``"funnel"`` (TransitionCounts) or ``"loop"`` (LoopCounts).
    methods
        Heuristics whose credit to add up as well (``first_touch``,
        ``last_touch``, ``linear``, ``position_based``, ``time_decay``, with
        their default options).
    period
        A pandas frequency (``"D"``, ``"W"``, ``"MS"``): also count every
        period apart, each journey in the period it ends in
        (:class:`journeyloop.PeriodCounts`).
    strict
        Raise on the first bad row, naming its partition, its file (for
        frames of :func:`read_events`) and its row there.
    partitioned
        None: find out whether each customer's rows are in one partition
        (:func:`is_partitioned_by_customer`) and shuffle by customer if not.
        True: they are (no check, no shuffle). False: shuffle.
    npartitions
        Partitions after a shuffle (Dask's choice by default).
    split_every
        Tallies merged at once in the reduction tree.
    partitions_per_task
        Consecutive partitions counted together by one task (their rows
        joined): fewer, larger tallies to merge, for more memory per task.
        Each merge reads its inputs' counts from their file format when they
        come from another worker; with small partitions and workers that
        have memory to spare, counting a few together saves that work.
    files
        Names of the partitions' files, for messages (known already for
        frames of :func:`read_events`).
    scheduler
        A Dask scheduler name for this call (default: the current one, such
        as a ``dask.distributed`` Client's).

    Returns
    -------
    Counted

    Raises
    ------
    InvalidInputError
        As ``Journeys.from_events`` (naming the partition, the file and the
        row), for counts that do not merge, and when no partition holds a
        journey.

    Warns
    -----
    DataWarning
        Once, from the merged report, as ``Journeys.from_events`` warns.
    """
    if not isinstance(frame, dd.DataFrame):
        msg = f"expected a dask DataFrame, got {type(frame).__name__} (use jl.Journeys.from_events)"
        raise InvalidInputError(msg)
    names = _files_of(frame, files)
    by_index = frame.index.name == customer and customer not in frame.columns
    sorted_index = by_index and bool(frame.known_divisions)
    if by_index:
        frame = frame.reset_index()  # keeps the partitions (and their customers)
    route: Route
    if partitioned is True:
        route = "given"
    elif partitioned is None and frame.npartitions == 1:
        route = "single"
    elif partitioned is None and by_index:
        route = "index" if sorted_index else "checked"
    elif partitioned is None and is_partitioned_by_customer(frame, customer, scheduler=scheduler):
        route = "checked"
    elif partitioned in (None, False):
        route = "shuffled"
    else:
        msg = f"partitioned must be None, True or False, got {partitioned!r}"
        raise InvalidInputError(msg)
    if route == "shuffled":
        # A scheduler named for this call may not be the cluster's: Dask's
        # peer-to-peer shuffle runs on a distributed cluster only.
        method = "tasks" if scheduler is not None else None
        frame = partition_by_customer(frame, customer, npartitions, shuffle_method=method)
    spec = CountSpec(
        kind="events",
        order=order,
        form=form,
        collapse_repeats=collapse_repeats,
        padded=padded,
        max_states=max_states,
        methods=tuple(methods),
        period=period,
        files=names,
        read={
            "customer": customer,
            "time": time,
            "channel": channel,
            "conversion": conversion,
            "value": value,
            "lookback": lookback,
            "inactivity": inactivity,
            "conversion_is_touch": conversion_is_touch,
            "duplicates": duplicates,
            "strict": strict,
            "purchase": purchase,
        },
    )
    return _count(frame, spec, route, split_every, partitions_per_task, scheduler)


def count_paths(
    frame: dd.DataFrame,
    path: str = "path",
    conversions: str | None = "conversions",
    nulls: str | Literal[False] | None = None,
    value: str | Literal[False] | None = None,
    sep: str = ">",
    *,
    order: int = 1,
    form: Literal["funnel", "loop"] = "funnel",
    count: str | Literal[False] | None = None,
    purchase: str = "purchase",
    methods: Sequence[str] = (),
    collapse_repeats: bool = True,
    padded: bool = False,
    max_states: int = DEFAULT_MAX_STATES,
    split_every: int = 8,
    partitions_per_task: int = 1,
    files: Sequence[str] | None = None,
    scheduler: str | None = None,
) -> Counted:
    """Counts a path table held in a Dask DataFrame (no shuffle: each row is a
    whole journey). The columns and options are those of
    :meth:`journeyloop.Journeys.from_paths` (``count`` for loop histories);
    the rest as in :func:`count_events`.
    """
    if not isinstance(frame, dd.DataFrame):
        msg = f"expected a dask DataFrame, got {type(frame).__name__} (use jl.Journeys.from_paths)"
        raise InvalidInputError(msg)
    read: dict[str, Any] = {"path": path, "value": value, "sep": sep, "purchase": purchase}
    if form == "loop":
        read["count"] = count
    else:
        read["conversions"] = conversions
        read["nulls"] = nulls
    spec = CountSpec(
        kind="paths",
        order=order,
        form=form,
        collapse_repeats=collapse_repeats,
        padded=padded,
        max_states=max_states,
        methods=tuple(methods),
        files=_files_of(frame, files),
        read=read,
    )
    return _count(frame, spec, "paths", split_every, partitions_per_task, scheduler)


def attribute(
    frame: dd.DataFrame,
    *,
    paths: bool = False,
    methods: Sequence[str] = (*HEURISTICS, "markov"),
    order: int = 1,
    **options: Any,
) -> pd.DataFrame:
    """Attribution of a distributed event log (or path table, ``paths=True``):
    the heuristics' credit added up over partitions and the Markov attribution
    of the merged counts, one frame with a ``method`` column, as ``jl.attribute``.
    ``options`` go to :func:`count_events` (or :func:`count_paths`)."""
    heuristics = [m for m in methods if m != "markov"]
    count = count_paths if paths else count_events
    counted = count(frame, order=order, methods=heuristics, **options)
    return counted.attribution(markov="markov" in methods)
