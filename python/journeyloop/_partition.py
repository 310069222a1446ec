"""Counting one partition of a distributed frame, and merging partitions' tallies.

The scale-out modules (:mod:`journeyloop.dask`, :mod:`journeyloop.spark`) run
:func:`tally_partition` on the workers, each on a pandas frame holding whole
customers, and reduce the tallies with :func:`merge_tallies`. A tally is
plain data (bytes, numbers, strings) so that it travels between processes as
it is: the counts in journeyloop's versioned file format, the row account as
its fields, the heuristics' credit as sums per channel.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa

from . import _core
from ._counts import LOOP_MAGIC, LoopCounts, TransitionCounts, check_order
from ._errors import InvalidInputError
from ._events import _FIELDS, EventReport
from ._journeys import Histories, Journeys

__all__ = [
    "HEURISTICS",
    "PART_COLUMN",
    "ROW_COLUMN",
    "CountSpec",
    "Tally",
    "merge_tallies",
    "period_code",
    "period_keys",
    "tally_partition",
    "tally_partitions",
]

#: The methods whose credit is a sum over journeys (and so merges).
HEURISTICS: tuple[str, ...] = tuple(_core.heuristic_names())

#: Columns added to the rows before a shuffle, with ``strict=True``: each row's
#: partition and position before it, so that an error names the row as read.
PART_COLUMN = "__journeyloop_partition__"
ROW_COLUMN = "__journeyloop_row__"

_ROW = re.compile(r"^row (\d+)")


@dataclass(frozen=True)
class CountSpec:
    """What to count in every partition (the same for all of them)."""

    kind: Literal["events", "paths"]
    order: int = 1
    form: Literal["funnel", "loop"] = "funnel"
    collapse_repeats: bool = True
    padded: bool = False
    max_states: int = int(_core.default_max_states)
    methods: tuple[str, ...] = ()
    #: Keyword arguments of Journeys.from_events / from_paths.
    read: Mapping[str, Any] = field(default_factory=dict)
    #: A pandas frequency ("D", "W", "MS", ...): tally each period apart.
    period: str | None = None
    #: Names of the partitions' files, by partition (for messages).
    files: Sequence[str | None] = ()

    def check(self) -> None:
        check_order(self.order)
        if self.form not in ("funnel", "loop"):
            msg = f'form must be "funnel" or "loop", got {self.form!r}'
            raise InvalidInputError(msg)
        for m in self.methods:
            if m not in HEURISTICS:
                msg = (
                    f"method {m!r} does not merge across partitions; the heuristics do "
                    f"({', '.join(HEURISTICS)}), and Markov attribution is fitted from the merged "
                    "counts"
                )
                raise InvalidInputError(msg)
        if self.methods and self.form == "loop":
            msg = "the heuristics attribute funnel journeys: count loop histories with methods=()"
            raise InvalidInputError(msg)
        if self.period is not None:
            if self.kind != "events" or self.form != "funnel":
                msg = "period= splits funnel journeys of an event log by the time they end"
                raise InvalidInputError(msg)
            try:
                pd.tseries.frequencies.to_offset(self.period)
            except ValueError:
                msg = (
                    "period must be a pandas frequency such as 'D', 'W' or 'MS', got "
                    f"{self.period!r}"
                )
                raise InvalidInputError(msg) from None


@dataclass
class Tally:
    """What one partition (or a merge of partitions) holds: plain, picklable data."""

    rows: int = 0
    #: TransitionCounts.to_bytes() (or LoopCounts.to_bytes()), made when the
    #: tally is pickled (or asked for); None: nothing counted, or not yet.
    counts: bytes | None = None
    #: EventReport fields (summed; ``sorted_input`` is true when it is for all).
    report: dict[str, Any] | None = None
    #: method -> channel -> [conversions, value].
    credits: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    #: Tallies of each period (``period=``), by the period's start.
    periods: dict[pd.Timestamp, Tally] = field(default_factory=dict)
    partitions: int = 1
    #: The counts as an object, while the tally stays in one process: a merge
    #: on the worker that counted its inputs reads them without a round trip
    #: through bytes.
    _object: TransitionCounts | LoopCounts | None = field(default=None, repr=False, compare=False)

    def has_counts(self) -> bool:
        return self.counts is not None or self._object is not None

    def counts_object(self) -> TransitionCounts | LoopCounts | None:
        """The counts (read from their bytes once)."""
        if self._object is None and self.counts is not None:
            self._object = _load(self.counts)
        return self._object

    def counts_bytes(self) -> bytes | None:
        """The counts in journeyloop's file format (written once)."""
        if self.counts is None and self._object is not None:
            self.counts = self._object.to_bytes()
        return self.counts

    def __getstate__(self) -> dict[str, Any]:
        # Between processes the counts travel as their versioned bytes.
        self.counts_bytes()
        state = dict(self.__dict__)
        state["_object"] = None
        return state


def _load(data: bytes) -> TransitionCounts | LoopCounts:
    return (
        LoopCounts.from_bytes(data)
        if data.startswith(LOOP_MAGIC)
        else TransitionCounts.from_bytes(data)
    )


def _merge_reports(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    if a is None or b is None:
        return a if b is None else b
    out = {}
    for name, _, kind in _FIELDS:
        out[name] = a[name] and b[name] if kind == "flag" else a[name] + b[name]
    out["rows_rejected"] = a["rows_rejected"] + b["rows_rejected"]
    return out


def merge_tallies(tallies: Iterable[Tally]) -> Tally:
    """One tally of every row of ``tallies`` (counts merged exactly, sums added)."""
    out = Tally(partitions=0)
    parts: list[Any] = []
    for t in tallies:
        out.rows += t.rows
        out.partitions += t.partitions
        out.report = _merge_reports(out.report, t.report)
        c = t.counts_object()
        if c is not None:
            parts.append(c)
        for method, by_channel in t.credits.items():
            into = out.credits.setdefault(method, {})
            for channel, (conversions, value) in by_channel.items():
                was = into.get(channel, [0.0, 0.0])
                into[channel] = [was[0] + conversions, was[1] + value]
        for key, p in t.periods.items():
            out.periods[key] = merge_tallies([out.periods[key], p]) if key in out.periods else p
    out._object = parts[0].merge(*parts[1:]) if parts else None
    return out


@dataclass(frozen=True)
class _Origin:
    """Where the rows of a tallied frame were read: partition ``part`` on, of
    ``lengths`` rows each (one partition when None)."""

    part: int
    lengths: tuple[int, ...] | None = None

    def locate(self, position: int) -> tuple[int, int]:
        """(partition, row in it) of the frame's row ``position``."""
        if self.lengths is None:
            return self.part, position
        offsets = np.cumsum((0, *self.lengths))
        i = int(np.searchsorted(offsets, position, side="right")) - 1
        return self.part + i, position - int(offsets[i])


def _with_origin(
    error: InvalidInputError, frame: pd.DataFrame, origin: _Origin, spec: CountSpec
) -> InvalidInputError:
    """``error`` (naming a row of ``frame``, whose index holds the rows'
    positions in the tallied frame) naming the partition, the file and the row
    as read (before any shuffle, when the rows carry their origin)."""
    text = str(error)
    match = _ROW.match(text)
    where_part, where_row = origin.part, None
    if match is not None:
        row = int(match.group(1))
        if PART_COLUMN in frame.columns and row < len(frame):
            where_part = int(frame[PART_COLUMN].iloc[row])
            where_row = int(frame[ROW_COLUMN].iloc[row])
        else:
            position = int(frame.index[row]) if row < len(frame) else row
            where_part, where_row = origin.locate(position)
        text = text[match.end() :].lstrip(",: ")
    file = spec.files[where_part] if where_part < len(spec.files) else None
    place = f"partition {where_part}"
    if file is not None:
        place += f" (file {file})"
    if where_row is not None:
        place += f", row {where_row}" + (
            " of the file" if file is not None else " of the partition"
        )
    return InvalidInputError(f"{place}: {text}")


def period_keys(frame: pd.DataFrame, spec: CountSpec) -> pd.Series:
    """The period each row's journey ends in (NaT where the row has no customer
    or no time). A customer's rows are cut into segments, each ending at a
    conversion, before a gap longer than ``inactivity``, or at the customer's
    last row; the journeys of a segment end in the period of its last row."""
    read = spec.read
    customer, time = read.get("customer", "customer"), read.get("time", "time")
    conversion = read.get("conversion")
    for name in (customer, time) + ((conversion,) if conversion else ()):
        if name not in frame.columns:
            msg = f"column {name!r} is missing (columns: {', '.join(map(str, frame.columns))})"
            raise InvalidInputError(msg)
    t = frame[time]
    if not (pd.api.types.is_datetime64_any_dtype(t.dtype)):
        msg = f"period= needs datetimes in column {time!r}, got {t.dtype}"
        raise InvalidInputError(msg)
    n = len(frame)
    if conversion is None:
        closes = np.zeros(n, dtype=bool)
    else:
        c = pd.to_numeric(frame[conversion], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        closes = np.isfinite(c) & (c > 0)
    work = pd.DataFrame(
        {"c": frame[customer].to_numpy(), "t": t.to_numpy(), "closes": closes, "pos": np.arange(n)}
    )
    valid = work["c"].notna() & work["t"].notna()
    w = work[valid].sort_values(["c", "t", "pos"], kind="stable")
    # A segment starts at a customer's first row, after a conversion, and
    # after a gap longer than inactivity.
    same = w["c"].to_numpy()[1:] == w["c"].to_numpy()[:-1]
    starts = np.ones(len(w), dtype=bool)
    starts[1:] = ~same | w["closes"].to_numpy()[:-1]
    inactivity = read.get("inactivity")
    if inactivity is not None and len(w) > 1:
        try:
            limit = pd.Timedelta(inactivity)
        except (ValueError, TypeError):
            msg = f"inactivity must be a duration such as '30D' with period=, got {inactivity!r}"
            raise InvalidInputError(msg) from None
        times = w["t"].to_numpy()
        starts[1:] |= (times[1:] - times[:-1]) > limit.to_timedelta64()
    w = w.assign(segment=np.cumsum(starts))
    end = w.groupby("segment", sort=False)["t"].transform("max")
    keys = pd.Series(pd.NaT, index=np.arange(n), dtype=end.dtype)
    first = end.dt.to_period(period_code(spec.period)).dt.start_time
    if getattr(end.dt, "tz", None) is not None:
        first = first.dt.tz_localize(end.dt.tz)
    keys.iloc[w["pos"].to_numpy()] = first.to_numpy()
    return keys


def period_code(freq: str | None) -> str:
    """The period code of a frequency: to_period takes "M" for "MS" (month start)."""
    assert freq is not None
    return {"MS": "M", "QS": "Q", "YS": "Y", "AS": "Y"}.get(freq, freq)


def tally_partition(frame: pd.DataFrame, spec: CountSpec, part: int = 0) -> Tally:
    """The tally of one partition (whole customers, for events)."""
    try:
        return _tally_periods(frame.reset_index(drop=True), spec, _Origin(part))
    finally:
        # Arrow's allocator keeps what a read freed for the next one; a worker
        # with a memory limit counts it against the limit, so it goes back.
        pa.default_memory_pool().release_unused()


def tally_partitions(frames: Sequence[pd.DataFrame], spec: CountSpec, first: int = 0) -> Tally:
    """One tally of consecutive partitions ``first``, ``first + 1``, ... (each
    holding whole customers): fewer, larger tallies to merge."""
    if len(frames) == 1:
        return tally_partition(frames[0], spec, first)
    whole = pd.concat(list(frames), ignore_index=True)
    origin = _Origin(first, tuple(len(f) for f in frames))
    try:
        out = _tally_periods(whole, spec, origin)
    finally:
        pa.default_memory_pool().release_unused()
    out.partitions = len(frames)
    return out


def _tally_periods(frame: pd.DataFrame, spec: CountSpec, part: _Origin) -> Tally:
    if spec.period is None:
        return _tally(frame, spec, part)
    keys = period_keys(frame, spec)
    out = Tally(rows=len(frame))
    parts = []
    undated = keys.isna().to_numpy()
    for key, idx in (
        pd.Series(np.arange(len(frame)))[~undated].groupby(keys[~undated].to_numpy()).groups.items()
    ):
        t = _tally(frame.iloc[np.asarray(idx)], spec, part)
        out.periods[pd.Timestamp(cast("Any", key))] = t
        parts.append(t)
    if undated.any():
        # Rows with no customer or no time: rejected, and counted in the
        # whole's report (they end no journey, so they are in no period).
        parts.append(_tally(frame.iloc[np.flatnonzero(undated)], spec, part))
    whole = merge_tallies(parts) if parts else _tally(frame, spec, part)
    out.counts, out._object = whole.counts, whole._object
    out.report, out.credits = whole.report, whole.credits
    return out


def _tally(frame: pd.DataFrame, spec: CountSpec, part: _Origin) -> Tally:
    out = Tally(rows=len(frame))
    data = frame.drop(columns=[PART_COLUMN, ROW_COLUMN], errors="ignore")
    loop = spec.form == "loop"
    try:
        # Warnings are announced once, on the client, from the merged report.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if spec.kind == "events":
                rows = Journeys.from_events(
                    data.reset_index(drop=True), form=spec.form, **spec.read
                )
            else:
                rows = Journeys.from_paths(data.reset_index(drop=True), form=spec.form, **spec.read)
    except InvalidInputError as e:
        raise _with_origin(e, frame, part, spec) from None
    report = rows.report
    if report is not None:
        out.report = {name: getattr(report, name) for name, _, _ in _FIELDS}
        out.report["rows_rejected"] = report.rows_rejected
    if len(rows) == 0:
        return out
    if loop:
        assert isinstance(rows, Histories)
        out._object = LoopCounts.from_histories(
            rows, spec.order, collapse_repeats=spec.collapse_repeats, max_states=spec.max_states
        )
        return out
    assert isinstance(rows, Journeys)
    out._object = TransitionCounts.from_journeys(
        rows,
        spec.order,
        collapse_repeats=spec.collapse_repeats,
        padded=spec.padded,
        max_states=spec.max_states,
    )
    for method in spec.methods:
        a = _core.heuristic_attribution(rows._set, method, _core.heuristic_options())
        out.credits[method] = {
            name: [float(c), float(v)]
            for name, c, v in zip(a.names, a.conversions, a.value, strict=True)
        }
    return out


def tally_report(tally: Tally, unassigned: Sequence[str] = ()) -> EventReport | None:
    """The merged row account of ``tally`` as an EventReport (None for path tables)."""
    if tally.report is None:
        return None
    return EventReport(unassigned_channels=unassigned, **tally.report)


def credit_frame(tally: Tally, methods: Sequence[str]) -> pd.DataFrame:
    """The heuristics' credit as jl.attribute gives it: method, channel,
    conversions, value, share (of the conversions)."""
    frames = []
    for method in methods:
        by_channel = tally.credits.get(method, {})
        names = sorted(by_channel)
        conversions = np.array([by_channel[c][0] for c in names], dtype=float)
        value = np.array([by_channel[c][1] for c in names], dtype=float)
        total = conversions.sum()
        share = conversions / total if total > 0 else np.zeros_like(conversions)
        frames.append(
            pd.DataFrame(
                {
                    "method": method,
                    "channel": names,
                    "conversions": conversions,
                    "value": value,
                    "share": share,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["method", "channel", "conversions", "value", "share"])
    return pd.concat(frames, ignore_index=True)
