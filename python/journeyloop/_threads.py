"""The threads of journeyloop's parallel stages, and the cap on the memory of a call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import _core
from ._markov import whole_number

__all__ = [
    "get_memory_limit",
    "get_threads",
    "memory_limit",
    "set_memory_limit",
    "set_threads",
    "threads",
]


def set_threads(n: int) -> None:
    """Set the threads that journeyloop's parallel stages use.

    0 (the default) lets each stage choose: every hardware thread to parse a
    path table, up to two to count transitions, to build journeys from
    events, to fit and to solve removal effects. ``n >= 1`` uses ``n``
    instead (events and the fit take at most a second thread): 1 runs
    everything on the calling thread, and on a larger machine ``n > 2``
    lets parsing, counting and the removal effects use ``n`` threads. A
    removal thread holds eight numbers a live state (the conversions or the
    values of a batch of eight removals), sixteen when it is the only one:
    one or two threads hold the same, each one more adds eight. Results do not
    depend on it, but for the last bits of values counted in parts (added in
    another order). An explicit ``threads`` argument of a call still wins.

    Example::

        jl.set_threads(1)   # least memory
        model.attribution()
        jl.set_threads(0)   # the defaults again
    """
    _core.set_threads(whole_number(n, "threads", 0))


def get_threads() -> int:
    """What :func:`set_threads` last set (0: each stage's default)."""
    return int(_core.get_threads())


@contextmanager
def threads(n: int) -> Iterator[None]:
    """:func:`set_threads` for a ``with`` block; the setting before it comes back after it.

    Example::

        with jl.threads(1):
            model.attribution()
    """
    count = whole_number(n, "threads", 0)
    before = get_threads()
    _core.set_threads(count)
    try:
        yield
    finally:
        _core.set_threads(before)


def set_memory_limit(nbytes: int) -> None:
    """Cap the memory that one stage of a call may need, in bytes.

    Counting transitions, fitting the chain and solving removal effects each
    estimate what they need from the sizes they know before they allocate,
    and raise :class:`MemoryLimitError` (with ``estimate`` and ``cap``)
    instead of starting when the estimate is above the cap. The estimates are
    lower bounds, so an input that is refused would not have fitted either.
    0, the default, caps at the machine's physical memory.

    Example::

        jl.set_memory_limit(2 << 30)
        jl.set_memory_limit(0)         # the default again
    """
    _core.set_memory_limit(whole_number(nbytes, "memory limit", 0))


def get_memory_limit() -> int:
    """What :func:`set_memory_limit` last set (0: the machine's physical memory)."""
    return int(_core.get_memory_limit())


@contextmanager
def memory_limit(nbytes: int) -> Iterator[None]:
    """:func:`set_memory_limit` for a ``with`` block; the cap before it comes back after it.

    Example::

        with jl.memory_limit(1 << 30):
            model = jl.MarkovModel(order=3).fit(journeys)
    """
    cap = whole_number(nbytes, "memory limit", 0)
    before = get_memory_limit()
    _core.set_memory_limit(cap)
    try:
        yield
    finally:
        _core.set_memory_limit(before)
