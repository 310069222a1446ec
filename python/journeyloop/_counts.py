"""Transition counts: the sufficient statistics of a Markov model."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from . import _core
from ._errors import InvalidInputError, file_bytes, flag
from ._files import write_atomically
from ._journeys import Histories, Journeys

__all__ = ["DEFAULT_MAX_STATES", "LOOP_MAGIC", "LoopCounts", "TransitionCounts", "check_order"]

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
        for other in others:
            if not isinstance(other, TransitionCounts):
                msg = f"can only merge TransitionCounts, got {type(other).__name__}"
                raise InvalidInputError(msg)
        if not others:
            return self
        # In one pass: self's states are indexed once, whatever the number of parts.
        return TransitionCounts(_core.merge_all([self._counts, *(o._counts for o in others)]))

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


#: First bytes of LoopCounts.to_bytes(): a name and a version.
LOOP_MAGIC = b"journeyloop-loop-counts 1\n"


class LoopCounts:
    """The transition counts of loop histories: the loop model's sufficient statistics.

    The two funnel views of the loop chain (the first purchase, and the next
    purchase after one), which share their channel rows, with the customers,
    purchases and value of the histories. Like :class:`TransitionCounts` they
    :meth:`merge` exactly: counts made per partition, file or day merge into
    the counts of all the histories, and ``MarkovModel(order).fit(counts)`` (or
    ``LoopModel``) fits the loop model from them.

    Examples
    --------
    >>> import journeyloop as jl
    >>> h1 = jl.Histories.from_paths(["a > purchase > b > purchase", "a > b"], count=[1, 1])
    >>> h2 = jl.Histories.from_paths(["b > purchase"], count=[2])
    >>> both = jl.Histories.from_paths(["a > purchase > b > purchase", "a > b", "b > purchase"],
    ...                                count=[1, 1, 2])
    >>> merged = jl.LoopCounts.from_histories(h1).merge(jl.LoopCounts.from_histories(h2))
    >>> merged == jl.LoopCounts.from_histories(both)
    True
    >>> round(jl.LoopModel().fit(merged).expected_purchases_, 12)
    1.0
    """

    __slots__ = ("_counts",)

    def __init__(self, counts: _core.loop_counts) -> None:
        self._counts = counts

    @classmethod
    def from_histories(
        cls,
        histories: Histories,
        order: int = 1,
        *,
        collapse_repeats: bool = True,
        max_states: int = DEFAULT_MAX_STATES,
        progress: bool | Callable[[int, int], object] | None = None,
    ) -> LoopCounts:
        """Counts the transitions of loop-form ``histories`` (see :class:`LoopModel`)."""
        if not isinstance(histories, Histories):
            msg = (
                f"expected loop-form Histories, got {type(histories).__name__} (funnel journeys "
                "are counted by TransitionCounts.from_journeys)"
            )
            raise InvalidInputError(msg)
        from ._model_base import progress_callback  # imports this module

        return cls(
            _core.count_loop_transitions(
                histories._set,
                _core.counting_options(
                    order=check_order(order),
                    collapse_repeats=flag(collapse_repeats, "collapse_repeats"),
                    max_states=max_states,
                ),
                progress_callback(progress, "counting transitions"),
            )
        )

    @property
    def order(self) -> int:
        """The Markov order k."""
        return int(self._counts.first.order)

    @property
    def collapse_repeats(self) -> bool:
        """Whether consecutive identical states were collapsed."""
        return bool(self._counts.first.collapse_repeats)

    @property
    def channels(self) -> list[str]:
        """Channel names (the purchase marker is not one)."""
        return list(self._counts.first.channels)

    @property
    def first(self) -> TransitionCounts:
        """The first view: from START to the first purchase (or the end)."""
        return TransitionCounts(self._counts.first)

    @property
    def repeat(self) -> TransitionCounts | None:
        """The repeat view: from a purchase to the next one (None when nobody purchased)."""
        repeat = self._counts.repeat
        return None if repeat is None else TransitionCounts(repeat)

    @property
    def customers(self) -> float:
        """Customers counted (each history weighs its number of customers)."""
        return float(self._counts.customers)

    @property
    def purchases(self) -> float:
        """Purchases, first and repeat."""
        return float(self._counts.purchases)

    @property
    def value(self) -> float:
        """The value of the purchases."""
        return float(self._counts.value)

    @property
    def buyers(self) -> float:
        """Customers with at least one purchase."""
        return float(self._counts.buyers)

    @property
    def repeat_purchases(self) -> float:
        """Purchases after a customer's first."""
        return float(self._counts.repeat_purchases)

    def merge(self, *others: LoopCounts) -> LoopCounts:
        """The counts of the union of the histories behind ``self`` and ``others``.

        Raises
        ------
        InvalidInputError
            If the orders or options differ.
        """
        out = self._counts
        for other in others:
            if not isinstance(other, LoopCounts):
                msg = f"can only merge LoopCounts, got {type(other).__name__}"
                raise InvalidInputError(msg)
            out = _core.merge_loop_counts(out, other._counts)
        return LoopCounts(out)

    def to_bytes(self) -> bytes:
        """The counts as bytes: both views in journeyloop's versioned, checksummed
        file format, after a header holding the totals."""
        first = bytes(self._counts.first.to_bytes())
        repeat = self._counts.repeat
        second = b"" if repeat is None else bytes(repeat.to_bytes())
        header = json.dumps(
            {
                "first": len(first),
                "repeat": len(second) if repeat is not None else None,
                "customers": self.customers,
                "purchases": self.purchases,
                "value": self.value,
                "buyers": self.buyers,
                "repeat_purchases": self.repeat_purchases,
            }
        ).encode()
        return LOOP_MAGIC + header + b"\n" + first + second

    @classmethod
    def from_bytes(cls, data: bytes) -> LoopCounts:
        """Counts from :meth:`to_bytes`; damaged bytes raise InvalidInputError."""
        raw = file_bytes(data)
        if not raw.startswith(LOOP_MAGIC):
            msg = "not loop counts (LoopCounts.to_bytes): the header is missing"
            raise InvalidInputError(msg)
        end = raw.find(b"\n", len(LOOP_MAGIC))
        try:
            header = json.loads(raw[len(LOOP_MAGIC) : end])
            n_first, n_repeat = int(header["first"]), header["repeat"]
            names = ("customers", "purchases", "value", "buyers", "repeat_purchases")
            totals = [float(header[k]) for k in names]
        except (ValueError, KeyError, TypeError) as e:
            msg = f"loop counts: a damaged header ({e})"
            raise InvalidInputError(msg) from None
        body = raw[end + 1 :]
        if len(body) != n_first + (int(n_repeat) if n_repeat is not None else 0):
            msg = "loop counts: the views are cut short or followed by other bytes"
            raise InvalidInputError(msg)
        first = _core.transition_counts.from_bytes(body[:n_first])
        repeat = None if n_repeat is None else _core.transition_counts.from_bytes(body[n_first:])
        return cls(_core.loop_counts(first, repeat, *totals))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the counts to a file (as :meth:`to_bytes`), atomically."""
        write_atomically(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LoopCounts:
        """Reads counts written by :meth:`save`."""
        return cls.from_bytes(Path(path).read_bytes())

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (LoopCounts.from_bytes, (self.to_bytes(),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LoopCounts):
            return NotImplemented
        a, b = self._counts, other._counts
        return bool(
            a.first == b.first
            and (a.repeat is None) == (b.repeat is None)
            and (a.repeat is None or a.repeat == b.repeat)
            and (a.customers, a.purchases, a.value, a.buyers, a.repeat_purchases)
            == (b.customers, b.purchases, b.value, b.buyers, b.repeat_purchases)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"LoopCounts(order={self.order}, {self.customers:g} customers, "
            f"{self.purchases:g} purchases, {len(self.channels)} channels)"
        )
