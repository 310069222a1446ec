"""The exceptions and warnings journeyloop raises.

Every error derives from :class:`JourneyloopError`, so ``except
jl.JourneyloopError`` catches all of them, and also keeps the standard Python
base that matches its meaning (``InvalidInputError`` is a ``ValueError``,
``UnknownChannelError`` a ``KeyError``, ...), so code that catches the
standard type keeps working. The first six are defined by the C++ core.
"""

from __future__ import annotations

import os
import sys

from ._core import (
    InvalidInputError,
    JourneyloopError,
    MemoryLimitError,
    NumericalError,
    StateSpaceTooLargeError,
    UnknownChannelError,
)

__all__ = [
    "DataWarning",
    "InvalidInputError",
    "JourneyloopError",
    "MemoryLimitError",
    "NotApplicableError",
    "NotFittedError",
    "NumericalError",
    "StateSpaceTooLargeError",
    "UnknownChannelError",
]


class DataWarning(UserWarning):
    """Rows of the input were rejected, dropped or changed, or nothing in it
    converts: the result holds, but the input is not what it was taken for.
    The message names the counts; the object's ``report`` has the details.

    Turn it into an error with ``warnings.simplefilter("error", jl.DataWarning)``.
    """


def flag(value: object, name: str) -> bool:
    """A True/False option; numpy booleans too, anything else is refused."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    msg = f"{name} must be True or False, got {value!r}"
    raise InvalidInputError(msg)


def file_bytes(data: object) -> bytes:
    """The bytes of a saved file given to a ``from_bytes``; anything that is not
    bytes-like (a str, a path, None) is refused with a journeyloop error."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    msg = f"from_bytes expects bytes (the contents of a saved file), got {type(data).__name__}"
    if isinstance(data, str):
        msg += ": read a file with load(path), or pass the bytes of to_bytes()"
    raise InvalidInputError(msg)


class NotFittedError(JourneyloopError, ValueError, AttributeError):
    """A model was used before ``fit`` was called."""


class NotApplicableError(InvalidInputError, AttributeError):
    """A figure that does not apply to the model's form was asked for (such as
    ``expected_purchases_`` of a funnel model, or ``conversion_rate_`` of a loop
    model).

    It is also an ``AttributeError``, so ``hasattr(model, name)`` is False for
    such a name, and an :class:`InvalidInputError`, as before the two model
    types existed.
    """


def outside_frames() -> int:
    """The stack level of the first frame outside this package, as
    :func:`warnings.warn` counts from its caller."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == (
        package
    ):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
