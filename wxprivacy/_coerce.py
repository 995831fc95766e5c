"""Value hooks of the converter in :mod:`wxprivacy._serde`: coerce what is clear, reject the rest.

Every hook takes ``(value, type)`` like a cattrs structure hook and either returns the field's
value or raises :class:`~wxprivacy._keys.WireError`. ``null`` gives the field's default. The
common, well-typed case is tested first so it costs one type check.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable
from typing import Any, Final

from ._keys import WireError, describe

__all__ = [
    "code_exist_in",
    "model_tuple_hook",
    "optional_int_in",
    "optional_model_hook",
    "required_str_in",
    "str_in",
    "str_tuple_in",
    "unix_seconds_in",
    "unix_seconds_out",
]

_INTEGER: Final = re.compile(r"\s*([+-]?[0-9]+)\s*")
_BOOLS: Final[dict[str, bool]] = {"0": False, "1": True, "false": False, "true": True}


def str_in(value: Any, _: Any = None) -> str:
    """A string field: strings pass, integers become their decimal text, ``null`` is ``""``."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if type(value) is int:
        return str(value)
    raise WireError(f"expected a string, got {describe(value)}")


def required_str_in(value: Any, _: Any = None) -> str:
    """A required string field (``privacy_key``): as :func:`str_in`, but ``null`` is an error."""
    if type(value) is str:
        return value
    if value is None:
        raise WireError("expected a string, got null")
    return str_in(value)


def code_exist_in(value: Any, _: Any = None) -> bool:
    """``code_exist``: true/false, 0/1 or "0"/"1"/"true"/"false"; ``null`` is ``False``."""
    if value is True or value is False:
        return value
    if type(value) is int and (value == 0 or value == 1):
        return value == 1
    if value is None:
        return False
    if type(value) is str:
        flag = _BOOLS.get(value.strip().lower())
        if flag is not None:
            return flag
    raise WireError(f"expected 0 or 1, got {describe(value)}")


def _integer(value: Any) -> int | None:
    """Return ``value`` as an int when that is unambiguous (int, integral float, digits)."""
    if type(value) is int:
        return value
    if type(value) is str:
        match = _INTEGER.fullmatch(value)
        return int(match.group(1)) if match else None
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def optional_int_in(value: Any, _: Any = None) -> int | None:
    """An optional integer (``store_region``): ints, integral floats, digit strings; ``null``/""
    give ``None``."""
    if type(value) is int:
        return value
    if value is None or (type(value) is str and not value.strip()):
        return None
    number = _integer(value)
    if number is None:
        raise WireError(f"expected an integer, got {describe(value)}")
    return number


def unix_seconds_in(value: Any, _: Any = None) -> _dt.datetime | None:
    """``update_time``: Unix seconds (int, float or digit string) to an aware UTC datetime.

    0, ``""`` and ``null`` mean "never" and give ``None``. An aware datetime passes (in UTC).
    """
    if type(value) is int:
        seconds: float = value
    elif value is None or (type(value) is str and not value.strip()):
        return None
    elif isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_dt.UTC)
    else:
        number = _integer(value)
        if number is None and type(value) is float and math.isfinite(value):
            seconds = value
        elif number is None:
            raise WireError(f"expected Unix seconds, got {describe(value)}")
        else:
            seconds = number
    if seconds == 0:
        return None
    if seconds < 0:
        raise WireError(f"expected Unix seconds, got negative {seconds!r}")
    try:
        return _dt.datetime.fromtimestamp(seconds, _dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise WireError(f"Unix seconds out of range: {seconds!r}") from None


def unix_seconds_out(value: _dt.datetime | None) -> int:
    """``update_time`` back to whole Unix seconds; ``None`` is 0, a naive datetime counts as UTC."""
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return int(value.timestamp())


def str_tuple_in(value: Any, _: Any = None) -> tuple[str, ...]:
    """A list of strings (``privacy_list``); integers become text; ``null`` is ``()``."""
    if type(value) is list or type(value) is tuple:
        for item in value:
            if type(item) is not str:
                return tuple(_items(value, required_str_in))
        return tuple(value)
    if value is None:
        return ()
    raise WireError(f"expected an array, got {describe(value)}")


def _items(values: Any, hook: Callable[[Any, Any], Any], cls: Any = None) -> list[Any]:
    """Apply ``hook`` to every item, prefixing the item's index to the path of any error."""
    out = []
    for index, item in enumerate(values):
        try:
            out.append(hook(item, cls))
        except WireError as err:
            err.path.insert(0, index)
            raise
    return out


def model_tuple_hook(hook: Callable[[Any, Any], Any], cls: type) -> Callable[[Any, Any], Any]:
    """Build the hook of a list of models (``setting_list``); ``null`` is ``()``.

    When ``hook`` has a ``batch`` attribute (set by :mod:`wxprivacy._serde` on string-only leaf
    models), the whole list is tried with it first; it returns ``None`` to decline.
    """
    batch: Callable[[Any], tuple[Any, ...] | None] | None = getattr(hook, "batch", None)

    def structure_models(value: Any, _: Any = None) -> tuple[Any, ...]:
        if type(value) is list or type(value) is tuple:
            if batch is not None:
                done = batch(value)
                if done is not None:
                    return done
            try:
                return tuple([hook(item, cls) for item in value])
            except WireError:
                return tuple(_items(value, hook, cls))  # raises again, with the index
        if value is None:
            return ()
        raise WireError(f"expected an array, got {describe(value)}")

    return structure_models


def optional_model_hook(hook: Callable[[Any, Any], Any], cls: type) -> Callable[[Any, Any], Any]:
    """Build the hook of an optional nested model (``owner_setting``); ``null`` is ``None``."""

    def structure_optional(value: Any, _: Any = None) -> Any:
        if value is None:
            return None
        return hook(value, cls)

    return structure_optional
