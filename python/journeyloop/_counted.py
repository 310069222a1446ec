"""The result of the scale-out engines' counting (:mod:`journeyloop.dask`,
:mod:`journeyloop.spark`): one class for both, so that code switching engines
reads the same fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from ._counts import LoopCounts, TransitionCounts
from ._errors import InvalidInputError
from ._events import EventReport, warn_about
from ._partition import CountSpec, Tally, credit_frame, tally_report
from ._periods import PeriodCounts

if TYPE_CHECKING:
    from ._loop import LoopModel
    from ._markov import MarkovModel

__all__ = ["Counted", "Route"]

Route = Literal["paths", "given", "index", "checked", "shuffled", "single"]


@dataclass
class Counted:
    """What ``count_events`` and ``count_paths`` return, in
    :mod:`journeyloop.dask` and :mod:`journeyloop.spark` alike.

    Attributes
    ----------
    counts
        The merged counts (TransitionCounts, or LoopCounts for ``form="loop"``).
    report
        The merged row account (None for path tables).
    credit
        The heuristics' credit asked for by ``methods``: method, channel,
        conversions, value, share (an empty frame without methods).
    periods
        With ``period=``: the counts of each period (None otherwise).
    partitions
        Partitions counted.
    route
        How the customers' rows met: ``"paths"`` (path tables need nothing),
        ``"given"`` (``partitioned=True``), ``"index"`` (the customer is the
        frame's sorted index; Dask), ``"checked"`` (found already partitioned
        by customer; Dask), ``"shuffled"`` (shuffled by customer) or
        ``"single"`` (one partition; Dask).
    """

    counts: TransitionCounts | LoopCounts
    report: EventReport | None
    credit: pd.DataFrame
    periods: PeriodCounts | None
    partitions: int
    route: Route

    @classmethod
    def from_tally(cls, tally: Tally, spec: CountSpec, route: Route) -> Counted:
        """The result of a merged tally (the counts, the report announced once
        by a DataWarning, the heuristics' credit, the periods)."""
        if not tally.has_counts():
            msg = "no journeys in any partition: nothing to count (see the report)"
            if tally.report is not None:
                msg += "\n" + str(tally_report(tally))
            raise InvalidInputError(msg)
        counts = tally.counts_object()
        assert counts is not None
        report = tally_report(tally)
        if report is not None:
            warn_about(report, conversion_given=spec.read.get("conversion") is not None)
        periods = PeriodCounts._from_tally(tally, spec) if spec.period is not None else None
        return cls(
            counts=counts,
            report=report,
            credit=credit_frame(tally, spec.methods),
            periods=periods,
            partitions=tally.partitions,
            route=route,
        )

    def fit(self, **options: Any) -> MarkovModel | LoopModel:
        """``jl.MarkovModel(order=counts.order, **options).fit(counts)`` on the client."""
        from ._markov import MarkovModel

        return MarkovModel(order=self.counts.order, **options).fit(self.counts)

    def attribution(self, *, markov: bool = True, **options: Any) -> pd.DataFrame:
        """The heuristics' credit and (``markov=True``) the Markov attribution of
        the fitted counts, in ``jl.attribute``'s long form (a ``method`` column)."""
        frames = [self.credit] if len(self.credit) else []
        if markov:
            frame = self.fit(**options).attribution()
            frame.insert(0, "method", "markov")
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)
