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
    "NotApplicableError",
    "NotFittedError",
    "NumericalError",
    "StateSpaceTooLargeError",
    "UnknownChannelError",
]


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit`` was called."""


class NotApplicableError(InvalidInputError, AttributeError):
    """A figure that does not apply to the model's form was asked for (such as
    ``expected_purchases_`` of a funnel model, or ``conversion_rate_`` of a loop
    model).

    It is also an ``AttributeError``, so ``hasattr(model, name)`` is False for
    such a name, and an :class:`InvalidInputError`, as before the two model
    types existed.
    """
