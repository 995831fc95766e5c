"""The one check of an integer argument (counts, sizes, limits), for every class that takes one,
and :func:`shown`: how an error message quotes a value it refuses."""

from __future__ import annotations

from typing import Any, Final

from ._errors import InvalidArgumentError

__all__ = ["MAX_SECONDS", "check_int", "check_seconds", "shown"]

MAX_SECONDS: Final = 366 * 86_400
"""The longest duration any setting takes (a year): past it, a value is a mistake, and a float
of it would overflow the milliseconds Redis and the event loop count in."""

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


def check_seconds(
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    high: float = MAX_SECONDS,
    above_low: bool = False,
) -> float:
    """Return ``value`` as a float if it is a number (not a bool) of seconds from ``low`` (or
    above it, with ``above_low``) to ``high``, inclusive; the one check of every duration
    argument. Huge ints are compared as ints (no overflow) and refused.

    Raises:
        InvalidArgumentError: naming ``name``, the range, and the value (:func:`shown`).
    """
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if (
        not number
        or value != value  # nan
        or value < low
        or (above_low and value == low)
        or value > high
    ):
        bound = f"> {low:g}" if above_low else f">= {low:g}"
        raise InvalidArgumentError(
            f"{name} must be a number of seconds {bound} and <= {high:g}, got {shown(value)}"
        )
    return float(value)
