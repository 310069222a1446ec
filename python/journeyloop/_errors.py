"""The exceptions journeyloop raises.

The first four are raised by the C++ core and keep the standard Python base
that matches their C++ base class.
"""

from __future__ import annotations

from ._core import (
    InvalidInputError,
    NumericalError,
    StateSpaceTooLargeError,
    UnknownChannelError,
)

__all__ = [
    "InvalidInputError",
    "NotFittedError",
    "NumericalError",
    "StateSpaceTooLargeError",
    "UnknownChannelError",
]


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit`` was called."""
