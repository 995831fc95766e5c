"""WeChat's catalogue of official ``privacy_key`` values, and keys that only look like one.

Custom keys are legal in WeChat, so a key outside the catalogue is not refused. But a key that
differs from an official one only in case or separators (``"Userinfo"``, ``"user_info"``) is
almost always a typo that leaves the real key undeclared, so ``set_privacy_setting`` refuses it
unless the caller says it is custom. The catalogue is the ``privacy_desc_list`` of the last
``getprivacysetting`` answer the client read; before any, this module's snapshot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Final

from anyascii import anyascii

__all__ = ["OFFICIAL_PRIVACY_KEYS", "lookalike"]

OFFICIAL_PRIVACY_KEYS: Final[frozenset[str]] = frozenset(
    {
        "UserInfo", "Location", "Address", "Invoice", "RunData", "Record", "Album", "Camera",
        "PhoneNumber", "Contact", "DeviceInfo", "EXIDNumber", "EXOrderInfo",
        "EXUserPublishContent", "EXUserFollowAcct", "EXUserOpLog", "AlbumWriteOnly",
        "LicensePlate", "BlueTooth", "CalendarWriteOnly", "Email", "MessageFile",
    }
)  # fmt: skip
"""The 22 keys of ``privacy_desc.privacy_desc_list`` in getprivacysetting answers (snapshot of
2026; ``/cgi-bin/component/getprivacysetting``, WeChat's user privacy guideline docs)."""

_SEPARATORS: Final = re.compile(r"[\s_\-.]+")


def _spelling(key: str) -> str:
    """How a key reads: compatibility forms folded (full-width letters, ``Ⅰ``), invisible format
    characters (zero-width spaces) dropped, look-alike letters of other scripts (Cyrillic ``е``,
    small capital ``ᴜ``, ``İ``) transliterated to ASCII (``anyascii``), separators dropped, case
    folded."""
    folded = unicodedata.normalize("NFKC", key)
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return _SEPARATORS.sub("", anyascii(visible)).casefold()


def lookalike(key: str, official: Collection[str]) -> str | None:
    """The official key that ``key`` spells differently (case, separators), or ``None`` when
    ``key`` is official itself or like none of them."""
    if key in official:
        return None
    spelling = _spelling(key)
    return next((o for o in sorted(official) if _spelling(o) == spelling), None)
