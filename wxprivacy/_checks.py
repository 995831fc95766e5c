"""The one check of an integer argument (counts, sizes, limits), for every class that takes one,
and :func:`shown`: how an error message quotes a value it refuses."""

from __future__ import annotations

from typing import Any

from ._errors import InvalidArgumentError

__all__ = ["check_int", "shown"]

_SHOWN_CHARS = 60
_SHOWN_BITS = 256


def shown(value: Any) -> str:
    """``repr(value)`` for an error message, bounded: an int too long to print whole (Python
    refuses ints past 4,300 digits) is named by its size, anything else is cut at 60 characters.
    Never raises: a ``repr`` that fails is named by the value's type."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _SHOWN_BITS:
            return f"an int of {value.bit_length():,} bits"
    try:
        text = repr(value)
    except Exception:  # a caller's object whose __repr__ fails  # noqa: BLE001
        return f"a {type(value).__name__}"
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def check_int(name: str, value: Any, *, low: int, high: int | None = None, unit: str = "") -> int:
    """Return ``value`` if it is an int (not a bool) from ``low`` to ``high`` (inclusive).

    Raises:
        InvalidArgumentError: naming ``name``, the range (and ``unit``), and the value
            (:func:`shown`).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        span = f">= {low}" if high is None else f"from {low} to {high}"
        suffix = f" {unit}" if unit else ""
        raise InvalidArgumentError(f"{name} must be an int {span}{suffix}, got {shown(value)}")
    return value
