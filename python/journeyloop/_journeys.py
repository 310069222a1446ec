"""Journeys: the input of every attribution method."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast, overload

import numpy as np
import pandas as pd

from . import _core
from ._columns import (
    arrow_buffers,
    arrow_strings,
    as_count_column,
    as_float_column,
    as_path_list,
    get_column,
    is_columnar,
)
from ._errors import DataWarning, InvalidInputError, file_bytes, outside_frames
from ._events import EventReport, duration_in_units, event_columns, warn_about
from ._files import write_atomically
from ._teams import UNASSIGNED

__all__ = ["Histories", "Journeys"]

_Set = TypeVar("_Set", _core.journey_set, _core.loop_histories)
_R = TypeVar("_R", bound="_Rows[Any]")


class _Rows(Generic[_Set]):
    """What journeys and loop histories share: channels, the event report,
    channel metadata (teams, stages), team flows, stage moves and the frames."""

    __slots__ = ("_report", "_set", "_stages", "_teams")
    # The count columns of to_frame(), as the core names them.
    _columns: ClassVar[tuple[str, ...]] = ()
    # The core type of the rows (its from_bytes reads them).
    _core_rows: ClassVar[Any] = None

    def __init__(
        self,
        rows: _Set,
        report: EventReport | None = None,
        teams: dict[str, str] | None = None,
        stages: dict[str, str] | None = None,
    ) -> None:
        self._set: _Set = rows
        self._report = report
        self._teams = teams
        self._stages = stages

    def with_channels(self: _R, channels: Any) -> _R:
        """These rows with channel metadata: each channel's team and stage.

        Parameters
        ----------
        channels
            A DataFrame with a ``channel`` column and a ``team`` and/or
            ``stage`` column, or a dict ``channel -> team``, or a dict
            ``channel -> {"team": ..., "stage": ...}``.

        Channels of the journeys missing from the metadata get team (and
        stage) ``"unassigned"``; they are listed in
        ``report.unassigned_channels`` and in a warning. Team attribution then
        needs no ``teams=`` argument.
        """
        teams, stages = _channel_metadata(channels)
        known = set(teams or {}) | set(stages or {})
        missing = tuple(c for c in self.channels if c not in known)
        if missing:
            warnings.warn(
                f"{len(missing)} channel(s) have no metadata and count as {UNASSIGNED!r}: "
                + ", ".join(missing),
                UserWarning,
                stacklevel=2,
            )
        report = self._report
        if report is not None:
            report = report.with_unassigned(missing)
        if teams is not None:
            teams = {c: teams.get(c, UNASSIGNED) for c in self.channels} | {
                c: t for c, t in teams.items() if c not in self.channels
            }
        if stages is not None:
            stages = {c: stages.get(c, UNASSIGNED) for c in self.channels} | {
                c: t for c, t in stages.items() if c not in self.channels
            }
        return type(self)(self._set, report, teams, stages)

    @property
    def report(self) -> EventReport | None:
        """The account of the event rows (None for journeys from a path table)."""
        return self._report

    @property
    def teams(self) -> dict[str, str] | None:
        """Channel -> team from the attached metadata (None without)."""
        return None if self._teams is None else dict(self._teams)

    @property
    def stages(self) -> dict[str, str] | None:
        """Channel -> stage from the attached metadata (None without)."""
        return None if self._stages is None else dict(self._stages)

    @property
    def unassigned_channels(self) -> list[str]:
        """Channels missing from the attached metadata (team ``"unassigned"``)."""
        mapping = self._teams if self._teams is not None else self._stages
        if mapping is None:
            return []
        return [c for c in self.channels if mapping.get(c, UNASSIGNED) == UNASSIGNED]

    @property
    def form(self) -> str:
        """``"funnel"`` (:class:`Journeys`) or ``"loop"`` (:class:`Histories`)."""
        return str(self._set.form)

    @property
    def has_times(self) -> bool:
        """Whether the touches have times (journeys built from events)."""
        return bool(self._set.has_times)

    @property
    def channels(self) -> list[str]:
        """Channel names, in order of first appearance."""
        return list(self._set.channels)

    @property
    def total_value(self) -> float:
        """Sum of the value of all rows."""
        return float(self._set.total_value)

    def to_frame(self, sep: str = " > ") -> pd.DataFrame:
        """The rows as a DataFrame: ``path`` and the count columns (for
        journeys conversions, nulls, value; for histories customers,
        purchases, value), with ``customer`` first for rows built from events.

        Raises InvalidInputError if a channel name holds the separator's text
        (trimmed of blanks, as ``from_paths`` splits): the paths would not
        read back as the same channels; pass another ``sep``.
        """
        token = sep.strip() or sep
        for name in self._set.channels:
            if token in name:
                msg = (
                    f"channel {name!r} holds the separator {token!r}: the paths would not read "
                    "back as the same channels; pass another sep"
                )
                raise InvalidInputError(msg)
        frame = pd.DataFrame(
            {"path": self._set.path_strings(sep)}
            | {name: self._set.column(name) for name in self._columns}
        )
        if self._set.has_customers:
            ids = self._set.customer_ids()
            frame.insert(
                0, "customer", ids if len(ids) == len(frame) else self._set.customer_names()
            )
        return frame

    def to_touches(self) -> pd.DataFrame:
        """One row per touch: ``journey`` (row number), ``position``,
        ``channel`` and, for rows built from events, ``before_end``: the
        touch's time before the end of its journey (a timedelta for datetime
        times, a number in the time units otherwise). In loop histories the
        purchase markers are rows too (channel ``"purchase"``, at the
        purchase's time), and the end is the history's last touch or
        purchase."""
        rows, position, ids = self._set.touches()
        names = np.asarray(list(self._set.channels), dtype=object)
        frame = pd.DataFrame(
            {"journey": rows, "position": position, "channel": names[ids] if len(ids) else []}
        )
        if self._set.has_times:
            times = self._set.times_before_end()
            unit = float(self._set.time_unit_seconds)
            frame["before_end"] = (
                pd.to_timedelta(np.rint(times * unit * 1e9).astype(np.int64), unit="ns")
                if unit > 0
                else times
            )
        return frame

    # -- teams ------------------------------------------------------------------

    def _team_flows(self, teams: Mapping[str, str] | Any | None) -> dict[str, Any]:
        from ._teams import team_of_channels

        teams = teams if teams is not None else self._teams
        if teams is None:
            msg = "team flows need teams={channel: team, ...} or channel metadata"
            raise InvalidInputError(msg)
        channels = self.channels
        group_of, _ = team_of_channels(channels, teams)
        team_of = dict(zip(channels, group_of, strict=True))
        # One team per entry of the core's dictionary; the purchase marker of loop
        # histories is one too, and the core ignores its entry.
        return dict(
            _core.analyze_teams(self._set, [team_of.get(c, "") for c in self._set.channels])
        )

    def handoffs(self, teams: Mapping[str, str] | Any | None = None) -> pd.DataFrame:
        """Handoffs between teams: how often a touch of team ``from`` is followed
        by a touch of team ``to`` in the same journey (each journey weighs its
        journeys, or customers in loop form), and ``probability``, the share of
        ``from``'s handoffs that go to ``to``.

        ``teams`` maps channel -> team (default: the channel metadata).
        """
        f = self._team_flows(teams)
        names = f["teams"]
        t = len(names)
        return pd.DataFrame(
            {
                "from": np.repeat(names, t),
                "to": np.tile(names, t),
                "count": f["handoffs"],
                "probability": f["handoff_share"],
            }
        )

    def team_shares(self, teams: Mapping[str, str] | Any | None = None) -> pd.DataFrame:
        """Each team's touches and share of touches, and for journeys with times
        its journey time (from each touch to the next touch or to the end)
        and share of it."""
        f = self._team_flows(teams)
        frame = pd.DataFrame(
            {"team": f["teams"], "touches": f["touches"], "touch_share": f["touch_share"]}
        )
        if len(f["time"]):
            time = np.asarray(f["time"])
            unit = float(self._set.time_unit_seconds)
            frame["time"] = pd.to_timedelta(time * unit, unit="s") if unit > 0 else time
            frame["time_share"] = f["time_share"]
        return frame

    # -- stages -------------------------------------------------------------------

    def _stage_of(self, stages: Mapping[str, str] | None) -> list[str]:
        stages = stages if stages is not None else self._stages
        if stages is None:
            msg = "stages need stages={channel: stage, ...} or channel metadata"
            raise InvalidInputError(msg)
        missing = [c for c in self.channels if c not in stages]
        if missing:
            warnings.warn(
                f"{len(missing)} channel(s) have no stage and count as {UNASSIGNED!r}: "
                + ", ".join(missing),
                UserWarning,
                stacklevel=3,
            )
        # One stage per entry of the core's dictionary; the purchase marker of loop
        # histories is one too, and keeps its name in the core whatever its entry.
        return [str(stages.get(c, UNASSIGNED)) for c in self._set.channels]

    def by_stage(self: _R, stages: Mapping[str, str] | None = None) -> _R:
        """These rows with each channel replaced by its stage (the stage
        graph's input): ``MarkovModel().fit(journeys.by_stage())`` gives the
        flows between stages (``transition_matrix()``), the conversion
        probability from each stage (``states()``) and the stage graph
        (``to_dot()``). ``stages`` defaults to the channel metadata."""
        return type(self)(_core.relabel_channels(self._set, self._stage_of(stages)), self._report)

    def plot_circle(
        self, stages: Mapping[str, str] | None = None, *, ax: Any = None, **options: Any
    ) -> Any:
        """:func:`journeyloop.plot.circular_journey` of these rows: the stage graph drawn as
        a loop (``stages`` default to the channel metadata); returns the axes. ``options``:
        ``min_probability``, ``labels``."""
        from . import plot

        return plot.circular_journey(self, stages=stages, ax=ax, **options)

    def plot_handoffs(self, teams: Any = None, *, ax: Any = None) -> Any:
        """:func:`journeyloop.plot.handoffs` of :meth:`handoffs` (``teams`` as there);
        returns the axes."""
        from . import plot

        return plot.handoffs(self.handoffs(teams), ax=ax)

    def stage_moves(self, stages: Mapping[str, str] | None = None) -> pd.DataFrame:
        """Which channels move customers between stages.

        Each time a journey goes from a touch in stage A to a touch in another
        stage B, the channel of the last touch in A is credited with the move
        A -> B; at the end of a funnel journey its last touch is credited with
        A -> ``conversion`` and A -> ``null``, and in loop histories with A ->
        ``purchase`` before each purchase and A -> ``end``. Moves are
        weighted by the row's journeys (customers in loop form).

        Returns
        -------
        DataFrame
            ``from``, ``to``, ``channel``, ``count`` and ``share`` (of the
            moves from ``from`` to ``to``), largest first within each pair.
        """
        d = _core.stage_moves(self._set, self._stage_of(stages))
        # In the core's order: by from and to, the largest count first within each pair.
        return pd.DataFrame({k: d[k] for k in ("from", "to", "channel", "count", "share")})

    def __len__(self) -> int:
        return len(self._set)

    def to_bytes(self) -> bytes:
        """These rows in journeyloop's versioned, checksummed file format.

        Every row's path, counts and value, the channels in their order, the
        touch times and customers of rows built from events, and the channel
        metadata (:attr:`teams`, :attr:`stages`). The event :attr:`report` is
        not part of the file (pickling keeps it).
        """
        teams = None if self._teams is None else list(self._teams.items())
        stages = None if self._stages is None else list(self._stages.items())
        return bytes(self._set.to_bytes(teams=teams, stages=stages))

    @classmethod
    def from_bytes(cls: type[_R], data: bytes) -> _R:
        """Rows from :meth:`to_bytes`.

        Raises
        ------
        InvalidInputError
            If the bytes are not a journeyloop file of this kind, or are
            truncated, modified or inconsistent.
        """
        rows, teams, stages = cls._core_rows.from_bytes(file_bytes(data))
        return cls(rows, None, _mapping(teams), _mapping(stages))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes :meth:`to_bytes` to a file, atomically (as models are saved)."""
        write_atomically(path, self.to_bytes())

    @classmethod
    def load(cls: type[_R], path: str | os.PathLike[str]) -> _R:
        """Reads rows written by :meth:`save`; a damaged file raises InvalidInputError."""
        return cls.from_bytes(Path(path).read_bytes())

    def __reduce__(self) -> tuple[Any, ...]:
        # Through the file format (checked again on loading), with the report.
        report = self._report
        state = None if report is None else (dict(report._values), report.unassigned_channels)
        return (_restore_rows, (type(self), self.to_bytes(), state))


def _mapping(pairs: list[tuple[str, str]] | None) -> dict[str, str] | None:
    return None if pairs is None else dict(pairs)


def _restore_rows(
    cls: type[_R], data: bytes, report: tuple[dict[str, Any], tuple[str, ...]] | None
) -> _R:
    """Unpickles journeys or histories (see _Rows.__reduce__)."""
    rows = cls.from_bytes(data)
    if report is None:
        return rows
    values, unassigned = report
    return cls(
        rows._set, EventReport(unassigned_channels=unassigned, **values), rows._teams, rows._stages
    )


class Journeys(_Rows[_core.journey_set]):
    """A set of customer journeys with their outcomes.

    Each row is a channel sequence with a number of conversions, a number of
    non-converting outcomes (nulls) and a conversion value. Rows are kept as
    given; duplicate paths are summed by the models. Build one with
    :meth:`from_paths` (a path table) or :meth:`from_events` (an event log,
    one row per touch). Journeys built from events also know each row's
    customer and each touch's time, and carry a :attr:`report` of the rows
    read. Channel metadata (team, stage) can be attached with
    :meth:`with_channels`. Loop histories (``form="loop"``) are
    :class:`Histories`.

    Examples
    --------
    >>> import journeyloop as jl
    >>> j = jl.Journeys.from_paths(["a > b", "b"], conversions=[1, 0], nulls=[1, 2])
    >>> j
    Journeys(2 rows, 2 channels, 1 conversions, 3 nulls, value 0)
    >>> j.channels
    ['a', 'b']
    """

    __slots__ = ()
    _columns = ("conversions", "nulls", "value")
    _core_rows = _core.journey_set

    @overload
    @classmethod
    def from_events(
        cls,
        data: Any,
        customer: str = "customer",
        time: str = "time",
        channel: str = "channel",
        conversion: str | None = None,
        value: str | None = None,
        *,
        lookback: Any = None,
        inactivity: Any = None,
        form: Literal["funnel"] = "funnel",
        conversion_is_touch: bool = True,
        duplicates: Literal["keep", "drop"] = "keep",
        strict: bool = False,
        purchase: str = "purchase",
        channels: Any = None,
    ) -> Journeys: ...

    @overload
    @classmethod
    def from_events(
        cls,
        data: Any,
        customer: str = "customer",
        time: str = "time",
        channel: str = "channel",
        conversion: str | None = None,
        value: str | None = None,
        *,
        lookback: Any = None,
        inactivity: Any = None,
        form: Literal["loop"],
        conversion_is_touch: bool = True,
        duplicates: Literal["keep", "drop"] = "keep",
        strict: bool = False,
        purchase: str = "purchase",
        channels: Any = None,
    ) -> Histories: ...

    @classmethod
    def from_events(
        cls,
        data: Any,
        customer: str = "customer",
        time: str = "time",
        channel: str = "channel",
        conversion: str | None = None,
        value: str | None = None,
        *,
        lookback: Any = None,
        inactivity: Any = None,
        form: Literal["funnel", "loop"] = "funnel",
        conversion_is_touch: bool = True,
        duplicates: Literal["keep", "drop"] = "keep",
        strict: bool = False,
        purchase: str = "purchase",
        channels: Any = None,
    ) -> Journeys | Histories:
        """Journeys from an event log: one row per touch (or conversion).

        Parameters
        ----------
        data
            A pandas DataFrame, a pyarrow Table, a polars DataFrame (any
            object with the Arrow PyCapsule stream interface) or a dict of
            numpy arrays. Columns are read in place where their types allow.
        customer
            Customer id column: integers, strings, or floats holding whole
            numbers (NaN is a missing customer, counted in the report).
        time
            Time column: datetime64 of any unit, timezone-aware datetimes,
            Arrow timestamps or dates, or plain numbers.
        channel
            Channel column: strings or categorical. A conversion row may have
            no channel.
        conversion
            Conversion column: booleans, or non-negative counts (0 for a
            touch). None: no conversions (every journey is non-converting).
        value
            Conversion value column, read on conversion rows: a missing,
            negative or infinite value there is taken as 0 (the conversion
            is kept) and counted in ``report.bad_value``; a value other than
            0 or missing on a touch row is ignored (the touch is kept) and
            counted in ``report.value_without_conversion``.
        lookback
            Funnel form: touches older than this before the conversion (before
            the last touch, for a non-converting journey) are dropped and
            counted. A duration (``"30D"``, a timedelta) for datetime times, a
            number for numeric times. None: no window.
        inactivity
            Funnel form: a gap longer than this between two events of a
            customer ends the journey (non-converting) and starts a new one.
        form
            ``"funnel"``: journeys end at each conversion. ``"loop"``: one
            history per customer with a ``purchase`` marker after each
            conversion (the input of the loop model), as :class:`Histories`.
        conversion_is_touch
            Whether a conversion row's channel is the journey's last touch.
        duplicates
            Events with the same customer, time, channel and conversion:
            ``"keep"`` them as separate touches or ``"drop"`` all but the
            first. Counted either way.
        strict
            Raise on the first row that would be rejected, or have its value
            set aside, instead of counting it.
        purchase
            Loop form: the name of the purchase marker.
        channels
            Optional channel metadata (see :meth:`with_channels`).

        Returns
        -------
        Journeys or Histories
            Events ordered by (customer, time), stably; customers in order of
            first appearance. :attr:`report` accounts for every row.
            ``form="loop"`` gives :class:`Histories`.

        Raises
        ------
        InvalidInputError
            For a missing column, a column of the wrong type (a column of
            mixed types names its first row of another type), bad options,
            and with ``strict=True`` the first bad row (its position and
            column).

        Warns
        -----
        DataWarning
            Once, naming the counts, when rows are rejected, values set
            aside, conversions left without a touch, or nothing converts.

        Examples
        --------
        >>> import pandas as pd, journeyloop as jl
        >>> events = pd.DataFrame({
        ...     "customer": [1, 1, 1, 2],
        ...     "time": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-04", "2024-01-02"]),
        ...     "channel": ["search", "email", "demo", "search"],
        ...     "conversion": [False, False, True, False]})
        >>> j = jl.Journeys.from_events(events, conversion="conversion", lookback="2D")
        >>> j.to_frame()["path"].tolist()
        ['email > demo', 'search']
        >>> j.report.outside_lookback
        1
        """
        kwargs, unit = event_columns(data, customer, time, channel, conversion, value)
        options = _core.event_options(
            lookback=duration_in_units(lookback, unit, "lookback"),
            inactivity=duration_in_units(inactivity, unit, "inactivity"),
            conversion_is_touch=conversion_is_touch,
            duplicates=duplicates,
            strict=strict,
            time_unit_seconds=unit,
            purchase=purchase,
            customer_column=customer,
            time_column=time,
            channel_column=channel,
            conversion_column=conversion or "conversion",
            value_column=value or "value",
        )
        js, report = _core.build_events(**kwargs, options=options, form=form)
        rows: Journeys | Histories = (
            Histories(js, EventReport(**report))
            if isinstance(js, _core.loop_histories)
            else cls(js, EventReport(**report))
        )
        warn_about(cast("EventReport", rows.report), conversion_given=conversion is not None)
        return rows if channels is None else rows.with_channels(channels)

    @overload
    @classmethod
    def from_paths(
        cls,
        data: Any,
        path: str = "path",
        conversions: str | Sequence[float] | None = "conversions",
        nulls: str | Sequence[float] | Literal[False] | None = None,
        value: str | Sequence[float] | Literal[False] | None = None,
        sep: str = ">",
        *,
        form: Literal["funnel"] = "funnel",
        count: str | Sequence[float] | Literal[False] | None = None,
        purchase: str = "purchase",
    ) -> Journeys: ...

    @overload
    @classmethod
    def from_paths(
        cls,
        data: Any,
        path: str = "path",
        conversions: str | Sequence[float] | None = "conversions",
        nulls: str | Sequence[float] | Literal[False] | None = None,
        value: str | Sequence[float] | Literal[False] | None = None,
        sep: str = ">",
        *,
        form: Literal["loop"],
        count: str | Sequence[float] | Literal[False] | None = None,
        purchase: str = "purchase",
    ) -> Histories: ...

    @classmethod
    def from_paths(
        cls,
        data: Any,
        path: str = "path",
        conversions: str | Sequence[float] | None = "conversions",
        nulls: str | Sequence[float] | Literal[False] | None = None,
        value: str | Sequence[float] | Literal[False] | None = None,
        sep: str = ">",
        *,
        form: Literal["funnel", "loop"] = "funnel",
        count: str | Sequence[float] | Literal[False] | None = None,
        purchase: str = "purchase",
    ) -> Journeys | Histories:
        """Journeys from a path table (ChannelAttribution's format).

        Parameters
        ----------
        data
            A pandas DataFrame (or a mapping of columns) holding the path
            column and the count columns; or a list of paths, each a string
            like ``"email > demo"`` or a list of channel names, in which case
            ``conversions``, ``nulls`` and ``value`` are sequences (or None).
        path
            Name of the path column (ignored when ``data`` is a list).
        conversions
            Name of the conversions column, or a sequence of counts. With a
            list of paths, None means one conversion per path. Left at
            ``"conversions"``, a table without that column but with
            ``total_conversions`` (ChannelAttribution's name) uses it. Count
            and value columns of integers (8 to 64 bits) or floats are read
            in place when the paths are Arrow or pandas ``str`` strings;
            others are converted to float64.
        nulls
            Name (or sequence) of the non-converting counts. None (the
            default) takes the table's column ``nulls``, ``total_null`` or
            ``total_nulls``, the first it has, and no non-converting outcomes
            when it has none (or ``data`` is a list of paths); ``False``: no
            non-converting outcomes, whatever the table holds.
        value
            Name (or sequence) of the conversion value. None (the default)
            takes the table's column ``value``, ``total_conversion_value`` or
            ``conversion_value``, the first it has, and value 0 when it has
            none; ``False``: value 0, whatever the table holds.
        sep
            Separator between channels; tokens are trimmed of blanks.
        form
            ``"funnel"`` (the default) or ``"loop"``: each row is a customer
            history with purchases inside it as the token ``purchase``
            (``"email > demo > purchase > webinar"``), ``count`` the number
            of customers with it (default 1) and ``value`` the total value of
            their purchases (split evenly between the row's purchases). The
            conversions and nulls arguments are not used.
        count
            Loop form: the customers column (or a sequence). None takes the
            table's column ``count`` or ``customers`` if it has one, else 1
            customer per row; ``False``: 1 customer per row.
        purchase
            Loop form: the purchase token.

        The repr shows the totals of conversions, nulls and value read, so
        the columns a table gave are seen at once.

        Returns
        -------
        Journeys or Histories
            Channels are numbered in order of first appearance.
            ``form="loop"`` gives :class:`Histories` (see
            :meth:`Histories.from_paths`).

        Raises
        ------
        InvalidInputError
            For a missing column, a path that is not a string, an empty path
            or empty channel name (``"a >> b"``), a count or value that is
            not a number, NaN, infinite or negative, or a value on a row
            without conversions. The message names the row (0-based
            position) and the column.
        """
        if form == "loop":
            return Histories.from_paths(data, path, count, value, sep, purchase=purchase)
        if form != "funnel":
            msg = f'form must be "funnel" or "loop", got {form!r}'
            raise InvalidInputError(msg)
        return cls(_funnel_from_paths(data, path, conversions, nulls, value, sep))

    @property
    def total_conversions(self) -> float:
        """Sum of the conversions of all rows."""
        return float(self._set.total_conversions)

    @property
    def total_nulls(self) -> float:
        """Sum of the non-converting outcomes of all rows."""
        return float(self._set.total_nulls)

    def opener_closer(self, teams: Mapping[str, str] | Any | None = None) -> pd.DataFrame:
        """Conversions of converting journeys by the team of their first touch
        (rows, ``opener``) and of their last touch (columns)."""
        f = self._team_flows(teams)
        names = f["teams"]
        t = len(names)
        table = pd.DataFrame(
            np.asarray(f["opener_closer"]).reshape(t, t), index=names, columns=names
        )
        table.index.name = "opener"
        table.columns.name = "closer"
        return table

    def __repr__(self) -> str:
        return (
            f"Journeys({len(self)} rows, {len(self._set.channels)} channels, "
            f"{self.total_conversions:g} conversions, {self.total_nulls:g} nulls, "
            f"value {self.total_value:.10g})"
        )

    def _repr_html_(self) -> str:
        """Notebook display: totals, channels, the first paths and the row account."""
        from ._display import journeys_html

        return journeys_html(self)


class Histories(_Rows[_core.loop_histories]):
    """Loop histories: the input of the loop model of repeat purchases.

    Each row is one customer's whole sequence of touches (or, from a path
    table, a sequence shared by several customers) with a purchase marker
    after each purchase, held by a number of customers. Build them with
    :meth:`from_paths` or :meth:`from_events` (also reached through
    ``Journeys.from_paths(..., form="loop")`` and
    ``Journeys.from_events(..., form="loop")``) and fit them with
    ``MarkovModel().fit(histories)``.

    Examples
    --------
    >>> import journeyloop as jl
    >>> h = jl.Histories.from_paths(["a > purchase > b", "b"], count=[2, 1], value=[30, 0])
    >>> h
    Histories(2 histories, 2 channels, 3 customers, 2 purchases, value 30)
    >>> h.to_frame()["purchases"].tolist()
    [2.0, 0.0]
    """

    __slots__ = ()
    _columns = ("customers", "purchases", "value")
    _core_rows = _core.loop_histories

    @property
    def channels(self) -> list[str]:
        """Channel names, in order of first appearance (without the purchase marker)."""
        marker = self._set.purchase_name
        return [c for c in self._set.channels if c != marker]

    @classmethod
    def from_paths(
        cls,
        data: Any,
        path: str = "path",
        count: str | Sequence[float] | Literal[False] | None = None,
        value: str | Sequence[float] | Literal[False] | None = None,
        sep: str = ">",
        *,
        purchase: str = "purchase",
    ) -> Histories:
        """Loop histories from a path table whose paths hold the purchase token
        (``"email > demo > purchase > webinar"``).

        ``count`` is the number of customers with each history (a column
        name or a sequence; None takes a ``count`` or ``customers`` column
        of the table, else 1 each; ``False``: 1 each) and ``value`` the total
        value of their purchases, split evenly between the row's purchases
        (None takes a ``value`` column of the table; ``False``: value 0). The
        other arguments are those of :meth:`Journeys.from_paths`.

        Purchases before the first touch of a history (``"purchase > email
        > purchase"``) have nothing to credit: they are left out of the
        history, with their share of the row's value, and counted in
        :attr:`unattributed_purchases` and :attr:`unattributed_value`, with a
        :class:`~journeyloop.DataWarning` (an event log counts them in its
        report's ``conversions_without_touch``). A row of purchases only is
        not built.
        """
        table = _PathTable(data, path, arrow=False)
        count = table.column_of(count, "count")
        value = table.column_of(value, "value")
        customers = table.numbers(count, "count")
        options = table.options(sep, conversions=("count", count), value=("value", value))
        histories = cls(
            _core.loop_histories.from_paths(
                table.path_strings(sep),
                np.ones(table.n) if customers is None else customers,
                table.numbers(value, "value"),
                options,
                purchase,
            )
        )
        if histories.unattributed_purchases:
            warnings.warn(
                f"{histories.unattributed_purchases:,.10g} purchases before the first touch of "
                f"a history, value {histories.unattributed_value:,.10g}, have no touch to "
                "credit: left out of the histories (see .unattributed_purchases)",
                DataWarning,
                stacklevel=outside_frames(),
            )
        return histories

    @classmethod
    def from_events(
        cls,
        data: Any,
        customer: str = "customer",
        time: str = "time",
        channel: str = "channel",
        conversion: str | None = None,
        value: str | None = None,
        *,
        conversion_is_touch: bool = True,
        duplicates: Literal["keep", "drop"] = "keep",
        strict: bool = False,
        purchase: str = "purchase",
        channels: Any = None,
    ) -> Histories:
        """Loop histories from an event log: one row per customer, with a
        ``purchase`` marker after each conversion row. The arguments are
        those of :meth:`Journeys.from_events` (without ``lookback`` and
        ``inactivity``: a history keeps every touch of its customer)."""
        return Journeys.from_events(
            data,
            customer,
            time,
            channel,
            conversion,
            value,
            form="loop",
            conversion_is_touch=conversion_is_touch,
            duplicates=duplicates,
            strict=strict,
            purchase=purchase,
            channels=channels,
        )

    @property
    def total_customers(self) -> float:
        """Sum of the customers of all rows."""
        return float(self._set.total_customers)

    @property
    def total_purchases(self) -> float:
        """Sum of the purchases of all rows."""
        return float(self._set.total_purchases)

    @property
    def unattributed_purchases(self) -> float:
        """Purchases (over their customers) that a path table put before the
        first touch of a history: left out of the rows, as nothing can be
        credited with them. Histories built from events count them in
        ``report.conversions_without_touch`` (and this is 0)."""
        return float(self._set.unattributed_purchases)

    @property
    def unattributed_value(self) -> float:
        """The value of :attr:`unattributed_purchases`."""
        return float(self._set.unattributed_value)

    def __repr__(self) -> str:
        return (
            f"Histories({len(self)} histories, {len(self.channels)} channels, "
            f"{self.total_customers:g} customers, {self.total_purchases:g} purchases, "
            f"value {self.total_value:.10g})"
        )

    def _repr_html_(self) -> str:
        """Notebook display: totals, channels, the first histories and the row account."""
        from ._display import histories_html

        return histories_html(self)


class _PathTable:
    """The columns of a path table, read one way: ``data`` is a table (a
    DataFrame, a mapping of columns) whose columns are named, or a list of
    paths whose counts are sequences."""

    def __init__(self, data: Any, path: str, *, arrow: bool) -> None:
        self.data = data
        self.columnar = is_columnar(data)
        self.path = path if self.columnar else "path"
        values = get_column(data, path) if self.columnar else data
        # Arrow strings (a table column only) are read in place by the core.
        self.chunks = arrow_strings(values) if arrow and self.columnar else None
        self.paths: list[str] | list[list[str]] = []
        self.tokenized = False
        if self.chunks is None:
            self.paths, self.tokenized = as_path_list(values, self.path)
            self.n = len(self.paths)
        else:
            self.n = sum(len(c) for c in self.chunks)

    def column_of(
        self, spec: str | Sequence[float] | Literal[False] | None, kind: str
    ) -> str | Sequence[float] | None:
        """The column (or sequence) to read for ``kind``: ``spec`` as given,
        except that None takes the table's first column named as in
        ``_USUAL_NAMES[kind]`` (None when it has none), the default
        ``"conversions"`` falls back to ``total_conversions`` likewise, and
        False means none."""
        if spec is False:
            return None
        if not self.columnar or not (spec is None or (isinstance(spec, str) and spec == kind)):
            return spec
        columns = _column_names(self.data)
        if spec == kind and kind in columns:
            return spec
        found = next((c for c in _USUAL_NAMES[kind] if c in columns), None)
        return spec if found is None and spec is not None else found

    def numbers(self, spec: str | Sequence[float] | None, name: str) -> Any:
        """Column ``spec`` (a column name, or a sequence) as numbers, or None
        when it is not given. With a list of paths a name is only accepted
        as the default ``name`` (meaning: not given)."""
        if spec is None:
            return None
        if isinstance(spec, str):
            if not self.columnar:
                if spec == name:
                    return None
                msg = f"with a list of paths, {name} must be a sequence, not {spec!r}"
                raise InvalidInputError(msg)
            values, label = get_column(self.data, spec), spec
        else:
            values, label = spec, name
        if self.chunks is not None:
            # Read in place by the core (integer counts need no copy).
            return as_count_column(values, label, self.n)
        return as_float_column(values, label, self.n)

    def options(
        self, sep: str, **columns: tuple[str, str | Sequence[float] | None]
    ) -> _core.path_options:
        """Path options naming each column as given (or by its default name):
        ``conversions=(default name, spec)``, and so on for nulls and value."""
        names = {
            kind: spec if isinstance(spec, str) else default
            for kind, (default, spec) in columns.items()
        }
        return _core.path_options(
            separator=sep,
            path_column=self.path,
            conversions_column=names.get("conversions", "conversions"),
            nulls_column=names.get("nulls", "nulls"),
            value_column=names.get("value", "value"),
        )

    def path_strings(self, sep: str) -> list[str]:
        """The paths as strings (token lists joined with ``sep``). A token that
        holds ``sep`` would be split into two channels: InvalidInputError
        naming the row instead."""
        if self.tokenized:
            rows = cast("list[list[str]]", self.paths)
            for i, tokens in enumerate(rows):
                for token in tokens:
                    if sep in token:
                        msg = (
                            f"row {i}, column {self.path!r}: the channel {token!r} holds the "
                            f"separator {sep!r}; rename the channel or choose another sep"
                        )
                        raise InvalidInputError(msg)
            return [f" {sep} ".join(tokens) for tokens in rows]
        return cast("list[str]", self.paths)


# The columns a path table usually has for each count, in the order they are
# looked for when the argument is left out (ChannelAttribution's names too).
_USUAL_NAMES: dict[str, tuple[str, ...]] = {
    "conversions": ("conversions", "total_conversions"),
    "nulls": ("nulls", "total_null", "total_nulls"),
    "value": ("value", "total_conversion_value", "conversion_value"),
    "count": ("count", "customers"),
}


def _column_names(data: Any) -> list[Any]:
    return list(data.columns) if hasattr(data, "columns") else list(data.keys())


def _funnel_from_paths(
    data: Any,
    path: str,
    conversions: str | Sequence[float] | Literal[False] | None,
    nulls: str | Sequence[float] | Literal[False] | None,
    value: str | Sequence[float] | Literal[False] | None,
    sep: str,
) -> _core.journey_set:
    table = _PathTable(data, path, arrow=True)
    if table.columnar and conversions is None:
        msg = "conversions is required with a table: give the conversions column"
        raise InvalidInputError(msg)
    conversions = table.column_of(conversions, "conversions")
    nulls = table.column_of(nulls, "nulls")
    value = table.column_of(value, "value")
    conv = table.numbers(conversions, "conversions")
    nul = table.numbers(nulls, "nulls")
    val = table.numbers(value, "value")
    options = table.options(
        sep,
        conversions=("conversions", conversions),
        nulls=("nulls", nulls),
        value=("value", value),
    )
    if conv is None:
        conv = np.ones(table.n)
    if table.chunks is not None:
        return _from_arrow(table.chunks, table.n, conv, nul, val, options)
    if table.tokenized:
        paths = cast("list[list[str]]", table.paths)
        return _core.journey_set.from_token_lists(paths, conv, nul, val, options)
    return _core.journey_set.from_paths(cast("list[str]", table.paths), conv, nul, val, options)


def _from_arrow(
    chunks: Any, n: int, conv: Any, nul: Any, val: Any, options: _core.path_options
) -> _core.journey_set:
    """Journeys whose paths are Arrow string chunks, read in place by the core."""
    js = _core.journey_set()
    buffers = [arrow_buffers(chunk) for chunk in chunks]
    if len(chunks) > 1:
        # Room for every chunk at once; a touch and its separator take at
        # least two characters. Only a capacity hint (the core grows past it
        # and no figure depends on it), so it may be worked out here.
        chars = sum(int(b[0][-1]) - int(b[0][0]) for b in buffers)
        js.reserve(n, chars // 2 + n)
    first = 0
    for chunk, (offsets, data, bits, bit_offset) in zip(chunks, buffers, strict=True):
        end = first + len(chunk)
        js.append_arrow(
            offsets, data, bits, bit_offset, conv[first:end],
            None if nul is None else nul[first:end],
            None if val is None else val[first:end],
            options, first,
        )  # fmt: skip
        first = end
    return js


def _channel_metadata(channels: Any) -> tuple[dict[str, str] | None, dict[str, str] | None]:
    """(channel -> team, channel -> stage) from a DataFrame or a dict."""
    teams: dict[str, str] | None = None
    stages: dict[str, str] | None = None
    if hasattr(channels, "columns"):
        cols = list(channels.columns)
        if "channel" not in cols or not ({"team", "stage"} & set(cols)):
            msg = "channel metadata needs a 'channel' column and a 'team' or 'stage' column"
            raise InvalidInputError(msg)
        names = [str(c) for c in channels["channel"]]
        if len(set(names)) != len(names):
            dup = next(c for c in names if names.count(c) > 1)
            msg = f"channel metadata lists channel {dup!r} twice"
            raise InvalidInputError(msg)
        if "team" in cols:
            teams = dict(zip(names, channels["team"]))
        if "stage" in cols:
            stages = dict(zip(names, channels["stage"]))
    elif isinstance(channels, Mapping):
        for c, meta in channels.items():
            if isinstance(meta, Mapping):
                unknown = set(meta) - {"team", "stage"}
                if unknown:
                    msg = f"channel {c!r}: unknown metadata {sorted(unknown)} (team, stage)"
                    raise InvalidInputError(msg)
                if "team" in meta:
                    teams = teams if teams is not None else {}
                    teams[str(c)] = meta["team"]
                if "stage" in meta:
                    stages = stages if stages is not None else {}
                    stages[str(c)] = meta["stage"]
            else:
                teams = teams if teams is not None else {}
                teams[str(c)] = meta
    else:
        msg = (
            "channel metadata must be a DataFrame (channel, team, stage) or a dict, "
            f"got {type(channels).__name__}"
        )
        raise InvalidInputError(msg)
    for kind, mapping in (("team", teams), ("stage", stages)):
        for c, v in (mapping or {}).items():
            if not isinstance(v, str) or not v:
                msg = f"{kind} of channel {c!r} must be a non-empty string, got {v!r}"
                raise InvalidInputError(msg)
    return teams, stages
