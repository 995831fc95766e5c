"""The one check of an appid, wherever one enters: the client, the stores, the CLI."""

from __future__ import annotations

from typing import Final

from ._checks import shown
from ._errors import InvalidArgumentError

__all__ = ["check_appid"]

_MAX_APPID: Final = 64


def check_appid(name: str, value: str) -> str:
    """Return ``value`` if it can be an appid: a non-empty string of at most 64 printable
    characters with no white space anywhere (``" wx0123456789abcdef"`` is refused, never
    stripped: a padded appid would be stored under a key nobody looks up).

    Raises:
        InvalidArgumentError: naming ``name`` and showing ``value`` with ``repr``.
    """
    # isprintable() is False for every white space character but the ASCII space
    if (
        not isinstance(value, str)
        or not value
        or len(value) > _MAX_APPID
        or not value.isprintable()
        or " " in value
    ):
        raise InvalidArgumentError(
            f"{name} must be a non-empty string without spaces or control characters "
            f"(like 'wx0123456789abcdef'), got {shown(value)}"
        )
    return value
