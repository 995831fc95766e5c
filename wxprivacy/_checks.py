"""The one check of an integer argument (counts, sizes, limits), for every class that takes one."""

from __future__ import annotations

from typing import Any

from ._errors import InvalidArgumentError

__all__ = ["check_int"]


def check_int(name: str, value: Any, *, low: int, high: int | None = None, unit: str = "") -> int:
    """Return ``value`` if it is an int (not a bool) from ``low`` to ``high`` (inclusive).

    Raises:
        InvalidArgumentError: naming ``name``, the range (and ``unit``), and the value's ``repr``.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        span = f">= {low}" if high is None else f"from {low} to {high}"
        suffix = f" {unit}" if unit else ""
        raise InvalidArgumentError(f"{name} must be an int {span}{suffix}, got {value!r}")
    return value
