"""journeyloop: exact Markov attribution of customer journeys.

Build journeys from a path table, fit a Markov model and attribute
conversions and revenue between channels (and teams)::

    import journeyloop as jl

    journeys = jl.Journeys.from_paths(df, path="path", conversions="conversions",
                                      nulls="nulls", value="value")
    model = jl.MarkovModel(order=1).fit(journeys)
    model.attribution()
    jl.attribute(journeys)      # every method side by side

Loop-form histories (``form="loop"``) fit the loop model of repeat purchases:
``jl.MarkovModel(order=1).fit(histories)`` returns a ``jl.LoopModel``.

Every number is computed by the C++ core (``journeyloop._core``).
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as err:  # pragma: no cover - depends on the installation
    msg = (
        "journeyloop's compiled extension journeyloop._core could not be imported. "
        "Did you build it? Install the package with `pip install .` from the "
        "repository root (or `make install`)."
    )
    raise ImportError(msg) from err

from . import datasets, plot, synthetic
from ._attribute import METHODS, attribute
from ._calibrate import Calibration, calibrate
from ._counts import LoopCounts, TransitionCounts
from ._errors import (
    DataWarning,
    InvalidInputError,
    JourneyloopError,
    MemoryLimitError,
    NotApplicableError,
    NotFittedError,
    NumericalError,
    StateSpaceTooLargeError,
    UnknownChannelError,
)
from ._events import EventReport
from ._journeys import Histories, Journeys
from ._loop import LoopModel
from ._markov import MarkovModel
from ._order import select_order
from ._periods import PeriodCounts
from ._report import report
from ._scenario import Scenario, compare
from ._shapley import simplified_shapley
from ._threads import (
    get_memory_limit,
    get_threads,
    memory_limit,
    set_memory_limit,
    set_threads,
    threads,
)

__version__: str = _core.__version__

__all__ = [
    "METHODS",
    "Calibration",
    "DataWarning",
    "EventReport",
    "Histories",
    "InvalidInputError",
    "JourneyloopError",
    "Journeys",
    "LoopCounts",
    "LoopModel",
    "MarkovModel",
    "MemoryLimitError",
    "NotApplicableError",
    "NotFittedError",
    "NumericalError",
    "PeriodCounts",
    "Scenario",
    "StateSpaceTooLargeError",
    "TransitionCounts",
    "UnknownChannelError",
    "__version__",
    "attribute",
    "calibrate",
    "compare",
    "datasets",
    "get_memory_limit",
    "get_threads",
    "memory_limit",
    "plot",
    "report",
    "select_order",
    "set_memory_limit",
    "set_threads",
    "simplified_shapley",
    "synthetic",
    "threads",
]


def __dir__() -> list[str]:
    return __all__
