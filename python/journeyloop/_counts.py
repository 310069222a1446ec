"""Transition counts: the sufficient statistics of a Markov model."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from . import _core
from ._errors import InvalidInputError, file_bytes, flag
from ._files import write_atomically
from ._journeys import Histories, Journeys

__all__ = ["DEFAULT_MAX_STATES", "TransitionCounts", "check_order"]

#: Default cap on the number of states of a model (C++ counting_options).
DEFAULT_MAX_STATES: int = _core.default_max_states


#: The highest Markov order (the core's, and the file format's).
MAX_ORDER: int = _core.max_order


def check_order(order: object) -> int:
    """``order`` if it is an integer in [1, MAX_ORDER]; InvalidInputError otherwise."""
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        msg = f"order must be an integer in [1, {MAX_ORDER:,}], got {order!r}"
        raise InvalidInputError(msg)
    return order


class TransitionCounts:
    """Weighted transition counts of order k, mergeable and serializable.

    Counts are what every Markov quantity is computed from. They form a
    commutative monoid: counts computed per partition (per day, per worker)
    :meth:`merge` into the counts of all the data, so a distributed fit only
    has to reduce them. Weights merge exactly while they are whole numbers
    below 2**53; values add in floating point.

    Examples
    --------
    >>> import journeyloop as jl
    >>> monday = jl.Journeys.from_paths(["a > b"], conversions=[1])
    >>> tuesday = jl.Journeys.from_paths(["b"], conversions=[0], nulls=[2])
    >>> both = jl.Journeys.from_paths(["a > b", "b"], conversions=[1, 0], nulls=[0, 2])
    >>> c = jl.TransitionCounts.from_journeys(monday).merge(
    ...     jl.TransitionCounts.from_journeys(tuesday))
    >>> c == jl.TransitionCounts.from_journeys(both)
    True
    """

    __slots__ = ("_counts",)

    def __init__(self, counts: _core.transition_counts) -> None:
        self._counts = counts

    @classmethod
    def from_journeys(
        cls,
        journeys: Journeys,
        order: int = 1,
        *,
        collapse_repeats: bool = True,
        padded: bool = False,
        max_states: int = DEFAULT_MAX_STATES,
        progress: bool | Callable[[int, int], object] | None = None,
    ) -> TransitionCounts:
        """Counts the transitions of ``journeys`` (see :class:`MarkovModel`).

        ``progress`` (``True`` for a bar, or a callable ``(done, total)``)
        reports the rows counted. Ctrl-C stops the count with
        ``KeyboardInterrupt``.

        Raises
        ------
        StateSpaceTooLargeError
            If the number of states could exceed ``max_states``; raised before
            anything large is allocated.
        """
        if not isinstance(journeys, Journeys):
            msg = f"expected Journeys, got {type(journeys).__name__}"
            if isinstance(journeys, Histories):
                msg += " (loop-form histories are counted by MarkovModel().fit)"
            raise InvalidInputError(msg)
        from ._model_base import progress_callback  # imports this module

        return cls(
            _core.count_transitions(
                journeys._set,
                _core.counting_options(
                    order=check_order(order),
                    collapse_repeats=flag(collapse_repeats, "collapse_repeats"),
                    padded=flag(padded, "padded"),
                    max_states=max_states,
                ),
                progress_callback(progress, "counting transitions"),
            )
        )

    @property
    def order(self) -> int:
        """The Markov order k."""
        return int(self._counts.order)

    @property
    def collapse_repeats(self) -> bool:
        """Whether consecutive identical states were collapsed."""
        return bool(self._counts.collapse_repeats)

    @property
    def padded(self) -> bool:
        """Whether paths were padded with ``(start)`` symbols."""
        return bool(self._counts.padded)

    @property
    def channels(self) -> list[str]:
        """Channel names."""
        return list(self._counts.channels)

    @property
    def n_states(self) -> int:
        """Number of states, START, CONVERSION and NULL included."""
        return int(self._counts.num_states)

    @property
    def n_transitions(self) -> int:
        """Number of distinct observed transitions."""
        return int(self._counts.num_transitions)

    def merge(self, *others: TransitionCounts) -> TransitionCounts:
        """The counts of the union of the data behind ``self`` and ``others``.

        Raises
        ------
        InvalidInputError
            If the orders or options differ.
        """
        out = self._counts
        for other in others:
            if not isinstance(other, TransitionCounts):
                msg = f"can only merge TransitionCounts, got {type(other).__name__}"
                raise InvalidInputError(msg)
            out = _core.merge(out, other._counts)
        return TransitionCounts(out)

    def to_frame(self) -> pd.DataFrame:
        """Every observed transition: ``from``, ``to``, ``count``."""
        src, dst, weight = self._counts.edges()
        labels = self._counts.state_labels()
        return pd.DataFrame(
            {"from": [labels[s] for s in src], "to": [labels[t] for t in dst], "count": weight}
        )

    def to_bytes(self) -> bytes:
        """The counts in journeyloop's versioned, checksummed file format."""
        return bytes(self._counts.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> TransitionCounts:
        """Counts from :meth:`to_bytes`; a damaged file raises InvalidInputError."""
        return cls(_core.transition_counts.from_bytes(file_bytes(data)))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the counts to a file (as :meth:`to_bytes`), atomically.

        The bytes go to a temporary file in the same folder, flushed to the
        disk, then renamed over ``path``: an interrupted save leaves the old
        file (or none), never a part of the new one.
        """
        write_atomically(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TransitionCounts:
        """Reads counts written by :meth:`save`."""
        return cls.from_bytes(Path(path).read_bytes())

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (TransitionCounts.from_bytes, (self.to_bytes(),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TransitionCounts):
            return NotImplemented
        return bool(self._counts == other._counts)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"TransitionCounts(order={self.order}, {self.n_states} states, "
            f"{self.n_transitions} transitions, {len(self.channels)} channels)"
        )
