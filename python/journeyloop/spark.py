"""Counting event logs and path tables held in PySpark DataFrames.

Install with ``pip install 'journeyloop[spark]'`` (and Java 17 or later).

The Spark engine of the scale-out API: the same functions and the same
result (:class:`Counted`) as :mod:`journeyloop.dask`, so that switching
engines means changing the module. Every partition is counted on the
executors with ``mapInPandas`` (as ``jl.Journeys.from_events`` reads a
pandas frame and ``jl.TransitionCounts.from_journeys`` counts it), each
returns its tally as one row of bytes, and the tallies are merged exactly in
a tree (``rdd.treeReduce``) on the executors, so that the driver receives
one merged tally. What comes back is what the single-machine API gives on
the same data:

- :class:`~journeyloop.TransitionCounts` (funnel) or :class:`~journeyloop.LoopCounts`
  (loop form) of any order, to fit with ``jl.MarkovModel(order).fit(counts)``;
- the merged :class:`~journeyloop.EventReport`, accounting for every row;
- the credit of the heuristics (sums over journeys, so they merge too);
- with ``period=``, the same per period (:class:`~journeyloop.PeriodCounts`).

A customer's events must all be in one partition: :func:`count_events`
repartitions the rows by customer (a shuffle) unless told that they already
are (``partitioned=True``). Path tables need no shuffle.

Times: Spark hands timestamps to pandas as wall-clock times of the session
time zone (``spark.sql.session.timeZone``). Set it to ``"UTC"`` so that the
times are instants: then the order of a customer's events, the ``lookback``
and ``inactivity`` durations and the days of ``period=`` are those of the
single-machine API on the same (UTC) data. The executors' Python must import
journeyloop: set ``PYSPARK_PYTHON`` to an interpreter that has it before the
session starts (``spark.pyspark.python`` with ``spark-submit``). Classic
PySpark sessions only: the merge uses the RDD API, which Spark Connect lacks.

Examples
--------
>>> import pandas as pd, journeyloop as jl
>>> import journeyloop.spark as jls
>>> events = pd.DataFrame({
...     "customer": [1, 1, 2, 2, 3],
...     "time": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-03",
...                             "2024-01-02"]),
...     "channel": ["search", "email", "display", "search", "email"],
...     "conversion": [0, 1, 0, 1, 0]})
>>> frame = spark.createDataFrame(events)  # doctest: +SKIP
>>> counted = jls.count_events(frame, conversion="conversion",  # doctest: +SKIP
...                            methods=["last_touch"])
>>> counted.counts == jl.TransitionCounts.from_journeys(  # doctest: +SKIP
...     jl.Journeys.from_events(events, conversion="conversion"))
True
>>> counted.report.rows_read, counted.route  # doctest: +SKIP
(5, 'shuffled')
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
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
    tally_partition,
)

try:
    import pyspark
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F
except ImportError as e:  # pragma: no cover - exercised without the extra
    msg = f"journeyloop.spark needs PySpark (and Java): pip install 'journeyloop[spark]'; {e}"
    raise ImportError(msg) from e

__all__ = ["Counted", "count_events", "count_paths", "partition_by_customer"]

#: The read order of every row, added before a shuffle: Spark's
#: monotonically_increasing_id, the input partition in the upper 31 bits and
#: the row's position in it in the lower 33 (which also name a bad row).
ORDER_COLUMN = "__journeyloop_order__"
_ROW_BITS = 33

#: The schema of the rows the partitions return: a pickled tally, or a
#: pickled error (the first InvalidInputError of the partition, with its number).
_SCHEMA = "payload binary"


def _count_partition(spec: CountSpec) -> Any:
    """The function mapInPandas runs on every partition."""

    def count(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        part = _partition_id()
        # A partition arrives in Arrow batches and a customer may span two of
        # them: the partition is counted whole.
        frames = list(batches)
        if frames:
            frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            payload = _tally_or_error(frame, spec, part)
        else:
            payload = ("tally", Tally())
        yield pd.DataFrame({"payload": [pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)]})

    return count


def _partition_id() -> int:
    context = pyspark.TaskContext.get()
    return 0 if context is None else int(context.partitionId())


def _tally_or_error(frame: pd.DataFrame, spec: CountSpec, part: int) -> tuple[Any, ...]:
    if ORDER_COLUMN in frame.columns:
        order = frame.pop(ORDER_COLUMN).to_numpy(dtype=np.int64)
        frame[PART_COLUMN] = (order >> _ROW_BITS).astype(np.int32)
        frame[ROW_COLUMN] = order & ((1 << _ROW_BITS) - 1)
    try:
        return ("tally", tally_partition(frame, spec, part))
    except InvalidInputError as e:
        # Returned as data: raised here, Spark would wrap it in its own error.
        return ("error", part, str(e))


def _merge(a: bytes | bytearray, b: bytes | bytearray) -> bytes:
    x, y = pickle.loads(a), pickle.loads(b)
    if x[0] == "error" or y[0] == "error":
        errors = [p for p in (x, y) if p[0] == "error"]
        return pickle.dumps(min(errors, key=lambda p: p[1]))
    return pickle.dumps(("tally", merge_tallies([x[1], y[1]])), protocol=pickle.HIGHEST_PROTOCOL)


def _missing(frame: DataFrame, names: Sequence[str | None]) -> None:
    for name in names:
        if name is not None and name not in frame.columns:
            msg = f"column {name!r} is missing (columns: {', '.join(map(str, frame.columns))})"
            raise InvalidInputError(msg)


def _with_order(frame: DataFrame) -> DataFrame:
    return frame.withColumn(ORDER_COLUMN, F.monotonically_increasing_id())


def partition_by_customer(
    frame: DataFrame, customer: str = "customer", npartitions: int | None = None
) -> DataFrame:
    """``frame`` repartitioned so that each customer's rows are in one partition.

    ``repartition(npartitions, customer)`` moves every row once (a hash
    partitioning on the customer); within each partition the rows are then
    sorted by the order they were read in (a column recording it travels
    with them and is dropped by the counting), which decides the order of a
    customer's events with equal times, as in ``Journeys.from_events``.
    Write the result to Parquet (``partitionBy`` is not needed: keep the
    files as the partitions) to skip the shuffle next time and count it with
    ``partitioned=True``.
    """
    _missing(frame, [customer])
    if ORDER_COLUMN not in frame.columns:
        frame = _with_order(frame)
    n = npartitions if npartitions is not None else max(1, frame.rdd.getNumPartitions())
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        msg = f"npartitions must be a positive integer, got {npartitions!r}"
        raise InvalidInputError(msg)
    return frame.repartition(n, customer).sortWithinPartitions(ORDER_COLUMN)


def _count(frame: DataFrame, spec: CountSpec, route: Route, depth: int) -> Counted:
    spec.check()
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        msg = f"depth must be a positive integer, got {depth!r}"
        raise InvalidInputError(msg)
    payloads = frame.mapInPandas(_count_partition(spec), _SCHEMA).rdd.map(lambda row: row[0])
    if payloads.getNumPartitions() == 0:
        msg = "the frame has no partitions (and so no rows): nothing to count"
        raise InvalidInputError(msg)
    # A tree on the executors: the driver receives one merged tally, never
    # every partition's counts at once.
    merged = pickle.loads(payloads.treeReduce(_merge, depth=depth))
    if merged[0] == "error":
        raise InvalidInputError(merged[2])
    tally: Tally = merged[1]
    return Counted.from_tally(tally, spec, route)


def _check_frame(frame: Any, instead: str) -> None:
    if not isinstance(frame, DataFrame):
        msg = f"expected a PySpark DataFrame, got {type(frame).__name__} (use {instead})"
        raise InvalidInputError(msg)


def count_events(
    frame: DataFrame,
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
    depth: int = 2,
) -> Counted:
    """Counts an event log held in a PySpark DataFrame, partition by partition.

    Every partition is read as ``jl.Journeys.from_events`` reads a frame (the
    same columns, options and checks) and counted as
    ``jl.TransitionCounts.from_journeys`` (or ``jl.LoopCounts.from_histories``
    for ``form="loop"``) counts it, on the executors (``mapInPandas``); the
    tallies are merged in a tree. The counts equal those of the
    single-machine API on ``frame.toPandas()``, exactly.

    Parameters
    ----------
    frame
        The events, one row per touch or conversion. Only the named columns
        are read (and shuffled).
    customer, time, channel, conversion, value
        Columns, as in :meth:`journeyloop.Journeys.from_events`.
    lookback, inactivity, conversion_is_touch, duplicates, purchase
        As in :meth:`journeyloop.Journeys.from_events`.
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
        (:class:`journeyloop.PeriodCounts`), in the session time zone.
    strict
        Raise on the first bad row, naming its input partition and its row
        there (the lowest partition's error when several have one).
    partitioned
        None or False: repartition the rows by customer
        (:func:`partition_by_customer`). True: each customer's rows are in
        one partition already, in the order to read them (no shuffle).
    npartitions
        Partitions after the shuffle (default: as many as the frame has).
    depth
        Depth of the merge tree (``rdd.treeReduce``).

    Returns
    -------
    Counted

    Raises
    ------
    InvalidInputError
        As ``Journeys.from_events`` (naming the partition and the row), for
        a missing column, counts that do not merge, and when no partition
        holds a journey.

    Warns
    -----
    DataWarning
        Once, from the merged report, as ``Journeys.from_events`` warns.

    Examples
    --------
    >>> import journeyloop.spark as jls
    >>> counted = jls.count_events(spark.read.parquet("events/"),  # doctest: +SKIP
    ...                            conversion="conversion", order=3)
    >>> model = counted.fit()  # doctest: +SKIP
    """
    _check_frame(frame, "jl.Journeys.from_events")
    columns = [customer, time, channel, conversion, value]
    _missing(frame, columns)
    if partitioned not in (None, True, False):
        msg = f"partitioned must be None, True or False, got {partitioned!r}"
        raise InvalidInputError(msg)
    # Only the columns read travel through the shuffle.
    frame = _with_order(frame.select(*dict.fromkeys(c for c in columns if c is not None)))
    route: Route
    if partitioned is True:
        route = "given"
    else:
        route = "shuffled"
        frame = partition_by_customer(frame, customer, npartitions)
    spec = CountSpec(
        kind="events",
        order=order,
        form=form,
        collapse_repeats=collapse_repeats,
        padded=padded,
        max_states=max_states,
        methods=tuple(methods),
        period=period,
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
    return _count(frame, spec, route, depth)


def count_paths(
    frame: DataFrame,
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
    depth: int = 2,
) -> Counted:
    """Counts a path table held in a PySpark DataFrame (no shuffle: each row
    is a whole journey). The columns and options are those of
    :meth:`journeyloop.Journeys.from_paths` (``count`` for loop histories);
    the rest as in :func:`count_events`.

    Examples
    --------
    >>> import journeyloop.spark as jls
    >>> counted = jls.count_paths(spark.read.parquet("paths/"), nulls="nulls")  # doctest: +SKIP
    """
    _check_frame(frame, "jl.Journeys.from_paths")
    _missing(frame, [path])
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
        read=read,
    )
    return _count(_with_order(frame), spec, "paths", depth)


def attribute(
    frame: DataFrame,
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
