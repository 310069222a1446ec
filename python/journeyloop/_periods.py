"""Counts per period: incremental updates, windows and attribution over time."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ._counts import DEFAULT_MAX_STATES, TransitionCounts
from ._errors import DataWarning, InvalidInputError, file_bytes
from ._events import EventReport, warn_about
from ._files import write_atomically
from ._partition import (
    CountSpec,
    Tally,
    credit_frame,
    merge_tallies,
    period_code,
    tally_partition,
    tally_report,
)

__all__ = ["PeriodCounts"]

_MAGIC = b"journeyloop-period-counts 1\n"
_SUFFIX = ".jlperiod"
_UNDATED = "undated"


class PeriodCounts:
    """Transition counts of an event log, one set per period (day, week, month).

    Each funnel journey belongs to the period in which it ends. A customer's
    rows are cut into segments, each ending at a conversion, before a gap
    longer than ``inactivity`` (when given), or at the customer's last row;
    every journey of a segment belongs to the period of the segment's last
    row. A journey that starts on Monday and converts on Tuesday is counted
    whole on Tuesday, and on no other day. The periods' counts therefore merge
    into the counts of any window of periods, exactly
    (:meth:`window`), and the periods of new data merge into those kept
    (:meth:`merge`); docs/scale-out.md shows the daily workflow.

    Rows without a customer or a time end no journey: they are rejected as
    ``Journeys.from_events`` rejects them and counted in :attr:`report`, in
    no period.

    Examples
    --------
    >>> import pandas as pd, journeyloop as jl
    >>> events = pd.DataFrame({
    ...     "customer": [1, 1, 2, 2, 3],
    ...     "time": pd.to_datetime(["2024-01-01 23:00", "2024-01-02 01:00", "2024-01-01 10:00",
    ...                             "2024-01-01 11:00", "2024-01-03 09:00"]),
    ...     "channel": ["search", "email", "display", "search", "email"],
    ...     "conversion": [0, 1, 0, 1, 1]})
    >>> daily = jl.PeriodCounts.from_events(events, conversion="conversion", period="D")
    >>> [str(p.date()) for p in daily.periods]
    ['2024-01-01', '2024-01-02', '2024-01-03']
    >>> daily.counts("2024-01-02").to_frame()["from"].tolist()  # customer 1, whole
    ['START', 'search', 'email']
    >>> daily.window("2024-01-01", "2024-01-03") == jl.TransitionCounts.from_journeys(
    ...     jl.Journeys.from_events(events[:4], conversion="conversion"))
    True
    """

    __slots__ = ("_methods", "_order", "_period", "_tallies", "_undated")

    def __init__(
        self,
        tallies: dict[pd.Timestamp, Tally],
        *,
        period: str,
        order: int,
        methods: Sequence[str] = (),
        undated: Tally | None = None,
    ) -> None:
        self._tallies = dict(sorted(tallies.items()))
        self._period = period
        self._order = order
        self._methods = tuple(methods)
        self._undated = undated

    # -- making them --

    @classmethod
    def from_events(
        cls,
        events: Any,
        customer: str = "customer",
        time: str = "time",
        channel: str = "channel",
        conversion: str | None = None,
        value: str | None = None,
        *,
        period: str = "D",
        order: int = 1,
        methods: Sequence[str] = (),
        lookback: Any = None,
        inactivity: Any = None,
        conversion_is_touch: bool = True,
        duplicates: Literal["keep", "drop"] = "keep",
        strict: bool = False,
        collapse_repeats: bool = True,
        padded: bool = False,
        max_states: int = DEFAULT_MAX_STATES,
    ) -> PeriodCounts:
        """Counts the funnel journeys of an event log (a pandas DataFrame) per period.

        The columns and options are those of :meth:`Journeys.from_events`
        and :meth:`TransitionCounts.from_journeys`; ``period`` is a pandas
        frequency (``"D"``, ``"W"``, ``"MS"``); ``methods`` heuristics whose
        credit is added up per period too. For a Dask DataFrame, use
        ``journeyloop.dask.count_events(..., period=...)``.
        """
        if not isinstance(events, pd.DataFrame):
            msg = f"PeriodCounts.from_events reads a pandas DataFrame, got {type(events).__name__}"
            raise InvalidInputError(msg)
        spec = CountSpec(
            kind="events",
            order=order,
            collapse_repeats=collapse_repeats,
            padded=padded,
            max_states=max_states,
            methods=tuple(methods),
            period=period,
            read={
                "customer": customer, "time": time, "channel": channel,
                "conversion": conversion, "value": value, "lookback": lookback,
                "inactivity": inactivity, "conversion_is_touch": conversion_is_touch,
                "duplicates": duplicates, "strict": strict,
            },
        )  # fmt: skip
        spec.check()
        out = cls._from_tally(tally_partition(events, spec), spec)
        report = out.report
        if report is not None:
            warn_about(report, conversion_given=conversion is not None)
        return out

    @classmethod
    def _from_tally(cls, tally: Tally, spec: CountSpec) -> PeriodCounts:
        """The periods of a tally; the rows in none of them are kept apart."""
        assert spec.period is not None
        dated = merge_tallies(tally.periods.values()) if tally.periods else Tally(partitions=0)
        undated = None
        if tally.report is not None and (dated.report is None or tally.rows > dated.rows):
            # The whole's report less the periods': the rows in no period.
            whole = tally.report
            rest = {k: (v if k == "sorted_input" else v - (dated.report or {}).get(k, 0))
                    for k, v in whole.items()}  # fmt: skip
            undated = Tally(rows=tally.rows - dated.rows, report=rest)
        return cls(
            dict(tally.periods),
            period=spec.period,
            order=spec.order,
            methods=spec.methods,
            undated=undated,
        )

    # -- reading them --

    @property
    def period(self) -> str:
        """The pandas frequency of the periods."""
        return self._period

    @property
    def order(self) -> int:
        """The Markov order of the counts."""
        return self._order

    @property
    def periods(self) -> list[pd.Timestamp]:
        """The start of every period that holds rows, in order."""
        return list(self._tallies)

    @property
    def report(self) -> EventReport | None:
        """The row account of all the rows, those in no period included."""
        parts = list(self._tallies.values()) + ([self._undated] if self._undated else [])
        return tally_report(merge_tallies(parts)) if parts else None

    def counts(self, period: Any) -> TransitionCounts:
        """The counts of the period starting at ``period`` (a date or a string)."""
        key = pd.Timestamp(period)
        if key not in self._tallies or not self._tallies[key].has_counts():
            msg = f"no counts for the period {key} (periods: {len(self._tallies)})"
            raise InvalidInputError(msg)
        counts = self._tallies[key].counts_object()
        assert isinstance(counts, TransitionCounts)
        return counts

    def _between(self, start: Any, end: Any) -> dict[pd.Timestamp, Tally]:
        """The tallies of the periods starting in ``[start, end)`` (None: no bound)."""
        lo = None if start is None else pd.Timestamp(start)
        hi = None if end is None else pd.Timestamp(end)
        return {
            key: t
            for key, t in self._tallies.items()
            if (lo is None or key >= lo) and (hi is None or key < hi)
        }

    def window(self, start: Any = None, end: Any = None) -> TransitionCounts:
        """The counts of the periods starting in ``[start, end)`` merged: the
        counts of the journeys that end in that window. None: no bound."""
        tally = merge_tallies(self._between(start, end).values())
        counts = tally.counts_object()
        if counts is None:
            msg = f"no counts between {start} and {end}"
            raise InvalidInputError(msg)
        assert isinstance(counts, TransitionCounts)
        return counts

    def select(self, start: Any = None, end: Any = None) -> PeriodCounts:
        """The periods starting in ``[start, end)``, as PeriodCounts."""
        return PeriodCounts(
            self._between(start, end), period=self._period, order=self._order,
            methods=self._methods,
        )  # fmt: skip

    def merge(self, *others: PeriodCounts) -> PeriodCounts:
        """These periods and those of ``others``; a period in several is merged
        (its journeys counted from different rows, such as a late file)."""
        tallies = dict(self._tallies)
        undated = [self._undated] if self._undated else []
        methods = list(self._methods)
        for other in others:
            if not isinstance(other, PeriodCounts):
                msg = f"can only merge PeriodCounts, got {type(other).__name__}"
                raise InvalidInputError(msg)
            if (other._period, other._order) != (self._period, self._order):
                msg = (
                    f"cannot merge periods {other._period!r} of order {other._order} into "
                    f"periods {self._period!r} of order {self._order}"
                )
                raise InvalidInputError(msg)
            for key, t in other._tallies.items():
                tallies[key] = merge_tallies([tallies[key], t]) if key in tallies else t
            if other._undated:
                undated.append(other._undated)
            methods += [m for m in other._methods if m not in methods]
        return PeriodCounts(
            tallies,
            period=self._period,
            order=self._order,
            methods=methods,
            undated=merge_tallies(undated) if undated else None,
        )

    # -- files --

    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Writes one file per period into ``folder`` (``2024-01-31.jlperiod``),
        each atomically, and returns their paths. Saving the periods of new
        data into the same folder adds their files; a period already there is
        replaced (merge first to add to it)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        items: list[tuple[str, Tally]] = [
            (f"{key:%Y-%m-%dT%H%M%S}" if key != key.normalize() else f"{key:%Y-%m-%d}", t)
            for key, t in self._tallies.items()
        ]
        if self._undated is not None:
            items.append((_UNDATED, self._undated))
        for name, t in items:
            data = t.counts_bytes()
            header = {
                "period": self._period,
                "order": self._order,
                "methods": list(self._methods),
                "rows": t.rows,
                "report": t.report,
                "credits": t.credits,
                "counts": len(data) if data is not None else None,
            }
            path = out / f"{name}{_SUFFIX}"
            write_atomically(path, _MAGIC + json.dumps(header).encode() + b"\n" + (data or b""))
            written.append(path)
        return written

    @classmethod
    def load(
        cls, folder: str | os.PathLike[str], start: Any = None, end: Any = None
    ) -> PeriodCounts:
        """The periods saved in ``folder`` (those starting in ``[start, end)``)."""
        files = sorted(Path(folder).glob(f"*{_SUFFIX}"))
        if not files:
            msg = f"no {_SUFFIX} files in {os.fspath(folder)!r}"
            raise InvalidInputError(msg)
        tallies: dict[pd.Timestamp, Tally] = {}
        undated = None
        kinds = set()
        methods: list[str] = []
        for f in files:
            raw = file_bytes(f.read_bytes())
            end_of_header = raw.find(b"\n", len(_MAGIC))
            try:
                if not raw.startswith(_MAGIC):
                    raise ValueError("not a period file")
                header = json.loads(raw[len(_MAGIC) : end_of_header])
                body = raw[end_of_header + 1 :]
                if len(body) != (header["counts"] or 0):
                    raise ValueError("the counts are cut short")
            except (ValueError, KeyError) as e:
                msg = f"{f}: not a file of PeriodCounts.save ({e})"
                raise InvalidInputError(msg) from None
            kinds.add((header["period"], header["order"]))
            methods += [m for m in header["methods"] if m not in methods]
            t = Tally(
                rows=header["rows"],
                counts=body or None,
                report=header["report"],
                credits=header["credits"],
            )
            if f.name == _UNDATED + _SUFFIX:
                undated = t
            else:
                stem = f.name[: -len(_SUFFIX)]
                tallies[
                    pd.Timestamp(
                        pd.to_datetime(
                            stem, format="%Y-%m-%dT%H%M%S" if "T" in stem else "%Y-%m-%d"
                        )
                    )
                ] = t
        if len(kinds) != 1:
            msg = (
                f"{os.fspath(folder)!r} holds periods of different kinds (period, order): "
                f"{sorted(kinds)}"
            )
            raise InvalidInputError(msg)
        period, order = kinds.pop()
        out = cls(tallies, period=period, order=order, methods=methods, undated=undated)
        return out if start is None and end is None else out.select(start, end)

    # -- attribution over time --

    def attribution(
        self,
        freq: str | None = None,
        *,
        window: int | None = None,
        methods: Sequence[str] | None = None,
        ci: float | None = None,
        n_samples: int = 200,
        seed: int = 0,
        **model_options: Any,
    ) -> pd.DataFrame:
        """The attribution of every period (or of every ``freq`` bin of
        periods, or of a rolling ``window`` of periods), as one tidy frame.

        Parameters
        ----------
        freq
            Group the periods into coarser bins (``"W"``, ``"MS"``): None keeps
            the periods.
        window
            Instead of bins: for each period, the last ``window`` periods
            (calendar periods; those without rows add nothing) merged.
        methods
            ``"markov"`` (fitted on each bin's merged counts) and the heuristics
            counted with the periods. Default: all of them.
        ci
            Markov intervals at this level, from the Dirichlet posterior of the
            bin's transition rows (``uncertainty="bayes"``: counts are all a
            bin holds); ``lower``/``upper`` columns.
        model_options
            Options of :class:`MarkovModel` (``smoothing``, ...).

        Returns
        -------
        pandas.DataFrame
            ``period`` (the start of the bin: of the ``freq`` period, or the
            period itself), ``method``, ``channel``,
            ``conversions``, ``value``, ``share`` (and ``lower``, ``upper``).

        Warns
        -----
        DataWarning
            Naming the bins left out because their journeys do not convert
            (nothing to attribute).
        """
        from ._markov import MarkovModel

        chosen = ["markov", *self._methods] if methods is None else list(methods)
        for m in chosen:
            if m != "markov" and m not in self._methods:
                counted = ", ".join(self._methods) or "none"
                msg = f"method {m!r} was not counted with these periods (counted: {counted})"
                raise InvalidInputError(msg)
        if freq is not None and window is not None:
            msg = "give freq= (bins) or window= (rolling), not both"
            raise InvalidInputError(msg)
        bins: list[tuple[pd.Timestamp, list[Tally]]]
        keys = list(self._tallies)
        if window is not None:
            if isinstance(window, bool) or not isinstance(window, int) or window < 1:
                msg = f"window must be a positive number of periods, got {window!r}"
                raise InvalidInputError(msg)
            offset = pd.tseries.frequencies.to_offset(self._period)
            bins = []
            for key in keys:
                lo = key - (window - 1) * offset
                bins.append((key, [t for k, t in self._tallies.items() if lo <= k <= key]))
        elif freq is not None:
            grouped: dict[pd.Timestamp, list[Tally]] = {}
            for key, t in self._tallies.items():
                start = key.to_period(period_code(freq)).start_time
                grouped.setdefault(start, []).append(t)
            bins = list(grouped.items())
        else:
            bins = [(key, [t]) for key, t in self._tallies.items()]
        frames = []
        skipped = []
        for start, tallies in bins:
            tally = merge_tallies(tallies)
            if "markov" in chosen:
                counts = tally.counts_object()
                if counts is None:
                    skipped.append(start)
                else:
                    try:
                        model = MarkovModel(order=self._order, **model_options).fit(counts)
                        frame = (
                            model.attribution(
                                ci=ci, uncertainty="bayes", n_boot=n_samples, seed=seed
                            )
                            if ci is not None
                            else model.attribution()
                        )
                    except InvalidInputError:
                        skipped.append(start)
                    else:
                        frame.insert(0, "method", "markov")
                        frame.insert(0, "period", start)
                        frames.append(frame)
            heuristics = [m for m in chosen if m != "markov"]
            if heuristics:
                frame = credit_frame(tally, heuristics)
                frame.insert(0, "period", start)
                frames.append(frame)
        if skipped:
            warnings.warn(
                f"{len(skipped)} of {len(bins)} bins have no journey with an outcome to fit and "
                f"are left out of the Markov attribution: {', '.join(str(s) for s in skipped[:5])}"
                + (" ..." if len(skipped) > 5 else ""),
                DataWarning,
                stacklevel=2,
            )
        if not frames:
            return pd.DataFrame(
                columns=["period", "method", "channel", "conversions", "value", "share"]
            )
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values(["period", "method"], kind="stable").reset_index(drop=True)

    def __len__(self) -> int:
        return len(self._tallies)

    def __repr__(self) -> str:
        first = f"{self.periods[0]:%Y-%m-%d}" if self._tallies else "-"
        last = f"{self.periods[-1]:%Y-%m-%d}" if self._tallies else "-"
        return (
            f"PeriodCounts({len(self._tallies)} periods of {self._period!r} from {first} to "
            f"{last}, order={self._order})"
        )
