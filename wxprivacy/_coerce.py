"""Wire rules: how model fields and classes are read from and written to WeChat JSON.

A model states its wire rules where it is declared (:mod:`wxprivacy.models`), and the converter
(:mod:`wxprivacy._converter`) only reads them:

* a field's rule is a :class:`Wire` in its attrs metadata (``attrs.field(metadata=wire(FLAG))``);
  a field without one gets the rule of its type (``str``, ``int``, ``int | None``,
  ``tuple[str, ...]``, nested models and tuples of them);
* a model that is a whole response body derives from :class:`ResponseBody`.

The value hooks take ``(value, type)`` like a cattrs structure hook and either return the field's
value or raise :class:`~wxprivacy._keys.WireError`. They refuse ``null``: the converter then
gives a field with a default its default, and reports a required one. The common, well-typed case
is tested first so it costs one type check.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Final

import attrs

from ._keys import WireError, describe

__all__ = [
    "ENVELOPE",
    "EXTRAS",
    "FLAG",
    "NON_EMPTY",
    "NON_NEGATIVE",
    "UNIX_SECONDS",
    "UNIX_SECONDS_OR_NONE",
    "WIRE",
    "Hook",
    "ResponseBody",
    "Wire",
    "flag_in",
    "int_in",
    "as_tuple",
    "model_tuple_hook",
    "non_empty_str_in",
    "non_negative_int_in",
    "optional_int_in",
    "optional_model_hook",
    "required_int_in",
    "rule_of",
    "str_in",
    "str_tuple_in",
    "unix_seconds_in",
    "unix_seconds_or_none_in",
    "unix_seconds_out",
    "whole_number",
    "wire",
]

Hook = Callable[[Any, Any], Any]
"""A structure hook: ``(JSON value, type) -> field value``; raises WireError."""

#: The attrs metadata key under which a field keeps its :class:`Wire` rule.
WIRE: Final = "wxprivacy.wire"

#: Top-level keys of a response envelope: read by the client, never stored.
ENVELOPE: Final = frozenset({"errcode", "errmsg"})

_INTEGER: Final = re.compile(r"\s*([+-]?[0-9]{1,19})\s*")  # more digits: no integer of WeChat
_BOOLS: Final[dict[str, bool]] = {"0": False, "1": True, "false": False, "true": True}


@attrs.frozen
class Wire:
    """The wire rule of one model field (kept in the field's metadata under :data:`WIRE`).

    Attributes:
        structure: JSON value -> field value, raising WireError; ``None`` takes the rule of the
            field's type.
        unstructure: field value -> JSON value; ``None`` writes the value as the converter
            writes its type (tuples as lists, models as objects).
        aliases: other spellings of the key that name this field (compared after folding case
            and white space), e.g. ``contact_WeChat`` for ``contact_weixin``.
        bare_list: the model may arrive as just this field's list instead of an object.
        extras: this field keeps the keys the model does not know (with their raw values).
    """

    structure: Hook | None = None
    unstructure: Callable[[Any], Any] | None = None
    aliases: tuple[str, ...] = ()
    bare_list: bool = False
    extras: bool = False


def wire(
    rule: Wire | None = None,
    *,
    structure: Hook | None = None,
    aliases: tuple[str, ...] = (),
    bare_list: bool = False,
) -> dict[str, Wire]:
    """Return attrs field metadata holding a wire rule: ``rule``, or one made of the keywords.

    Example: ``attrs.field(default=False, metadata=wire(FLAG))``.
    """
    if rule is None:
        rule = Wire(structure=structure, aliases=aliases, bare_list=bare_list)
    return {WIRE: rule}


class ResponseBody:
    """Marks a model that is a whole response body.

    The converter drops the envelope keys (``errcode``/``errmsg``, read by the client already)
    at its top level instead of keeping them in ``extras``.
    """

    __slots__ = ()

    #: The keys dropped at the top level.
    envelope: ClassVar[frozenset[str]] = ENVELOPE


# ----------------------------------------------------------------------------- value hooks


def str_in(value: Any, _: Any = None) -> str:
    """A string field: strings pass, integers become their decimal text; ``null`` is an error."""
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise WireError(f"expected a string, got {describe(value)}")


def non_empty_str_in(value: Any, _: Any = None) -> str:
    """A string that must not be empty (``pre_auth_code``, ``ext_file_media_id``)."""
    text = str_in(value)
    if not text:
        raise WireError("expected a non-empty string, got string ''")
    return text


def flag_in(value: Any, _: Any = None) -> bool:
    """A 0/1 flag (``code_exist``): true/false, 0/1 or "0"/"1"/"true"/"false"."""
    if value is True or value is False:
        return value
    if type(value) is int and (value == 0 or value == 1):
        return value == 1
    if type(value) is str:
        flag = _BOOLS.get(value.strip().lower())
        if flag is not None:
            return flag
    raise WireError(f"expected 0 or 1, got {describe(value)}")


_EXACT: Final = 2.0**53
"""The largest magnitude below which every integer has an exact float."""


def whole_number(value: Any) -> int | None:
    """Return ``value`` as an int when that is unambiguous (int, integral float, digits)."""
    if type(value) is int:
        return value
    if type(value) is str:
        match = _INTEGER.fullmatch(value)
        return int(match.group(1)) if match else None
    if type(value) is float and value.is_integer() and -_EXACT <= value <= _EXACT:
        return int(value)
    return None  # a float past 2**53 is not the integer WeChat sent (orjson reads >64-bit ints so)


def optional_int_in(value: Any, _: Any = None) -> int | None:
    """An optional integer (``store_region``): ints, integral floats, digit strings; ``""`` gives
    ``None``."""
    if type(value) is int:
        return value
    if type(value) is str and not value.strip():
        return None
    number = whole_number(value)
    if number is None:
        raise WireError(f"expected an integer, got {describe(value)}")
    return number


def int_in(value: Any, _: Any = None) -> int:
    """An integer field with a default (``status``, ``expires_in``): as
    :func:`optional_int_in`, and ``""`` is 0."""
    if type(value) is int:
        return value
    number = optional_int_in(value)
    return 0 if number is None else number


def required_int_in(value: Any, _: Any = None) -> int:
    """A required integer field (``audit_id``): as :func:`optional_int_in`, but ``null`` and
    ``""`` are errors."""
    if type(value) is int:
        return value
    number = optional_int_in(value)
    if number is None:
        raise WireError(f"expected an integer, got {describe(value)}")
    return number


def non_negative_int_in(value: Any, _: Any = None) -> int:
    """A count (``total_count``): as :func:`required_int_in`, and negative values are errors."""
    number = optional_int_in(value)
    if number is None or number < 0:
        raise WireError(f"expected an integer >= 0, got {describe(value)}")
    return number


def unix_seconds_in(value: Any, _: Any = None) -> _dt.datetime | None:
    """``update_time``: Unix seconds (int, float or digit string) to an aware UTC datetime.

    0 and ``""`` mean "never" and give ``None``. An aware datetime passes (in UTC).
    """
    if type(value) is int:
        seconds: float = value
    elif type(value) is str and not value.strip():
        return None
    elif isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_dt.UTC)
    else:
        number = whole_number(value)
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


def unix_seconds_or_none_in(value: Any, _: Any = None) -> _dt.datetime | None:
    """An informative instant (``auth_time``) that must never fail a whole answer: read as
    :func:`unix_seconds_in`; anything it cannot read is ``None``."""
    try:
        return unix_seconds_in(value)
    except WireError:
        return None


def unix_seconds_out(value: _dt.datetime | None) -> int:
    """``update_time`` back to whole Unix seconds; ``None`` is 0, a naive datetime counts as UTC."""
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return int(value.timestamp())


def str_tuple_in(value: Any, _: Any = None) -> tuple[str, ...]:
    """A list of strings (``privacy_list``); integers become text."""
    if type(value) is list or type(value) is tuple:
        for item in value:
            if type(item) is not str:
                return tuple(_items(value, str_in))
        return tuple(value)
    raise WireError(f"expected an array, got {describe(value)}")


def as_tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    """Turn any iterable except a string into a tuple (a tuple is returned as is): the attrs
    converter of the models' tuple fields, which the structure functions skip for a tuple.

    Raises:
        TypeError: ``items`` is a ``str`` or ``bytes``.
    """
    if type(items) is tuple:
        return items
    if isinstance(items, str | bytes):
        raise TypeError(f"expected an iterable of items, got {type(items).__name__}")
    return tuple(items)


def _items(values: Any, hook: Hook, cls: Any = None) -> list[Any]:
    """Apply ``hook`` to every item, prefixing the item's index to the path of any error."""
    out = []
    for index, item in enumerate(values):
        try:
            out.append(hook(item, cls))
        except WireError as err:
            err.path.insert(0, index)
            raise
    return out


def model_tuple_hook(hook: Hook, cls: type) -> Hook:
    """Build the hook of a list of models (``setting_list``).

    Args:
        hook: the structure hook of one item.
        cls: the item model.
    """

    def structure_models(value: Any, _: Any = None) -> tuple[Any, ...]:
        if type(value) is list or type(value) is tuple:
            try:
                return tuple([hook(item, cls) for item in value])
            except WireError:
                return tuple(_items(value, hook, cls))  # raises again, with the index
        raise WireError(f"expected an array, got {describe(value)}")

    return structure_models


def optional_model_hook(hook: Hook, cls: type) -> Hook:
    """Build the hook of an optional nested model (``owner_setting``)."""

    def structure_optional(value: Any, _: Any = None) -> Any:
        return hook(value, cls)

    return structure_optional


# ----------------------------------------------------------------------------- named rules

#: A 0/1 flag read into a bool (:func:`flag_in`) and written as 1/0 (``code_exist``).
FLAG: Final = Wire(structure=flag_in, unstructure=int)
#: Unix seconds read into an aware UTC datetime, 0 meaning ``None`` (``update_time``).
UNIX_SECONDS: Final = Wire(structure=unix_seconds_in, unstructure=unix_seconds_out)
#: A string that must not be empty.
NON_EMPTY: Final = Wire(structure=non_empty_str_in)
#: An integer >= 0 (a count).
NON_NEGATIVE: Final = Wire(structure=non_negative_int_in)
#: Unix seconds as :data:`UNIX_SECONDS`, where anything unreadable is ``None`` (``auth_time``).
UNIX_SECONDS_OR_NONE: Final = Wire(structure=unix_seconds_or_none_in, unstructure=unix_seconds_out)
#: The ``extras`` field: the keys the model does not know, never written under its own name.
EXTRAS: Final = Wire(extras=True)


def rule_of(field: attrs.Attribute[Any]) -> Wire:
    """The :class:`Wire` rule in ``field``'s metadata (an empty rule when it has none)."""
    metadata: Mapping[str, Any] = field.metadata
    rule = metadata.get(WIRE)
    return rule if isinstance(rule, Wire) else _NO_RULE


_NO_RULE: Final = Wire()
