"""WeChat JSON bytes <-> :mod:`wxprivacy.models`: the two halves joined.

Bytes <-> JSON values is :mod:`wxprivacy._json` (``loads``, ``dumps``, surrogate repair); JSON
values <-> models is the converter in :mod:`wxprivacy._converter`, which follows the wire rules
the models declare (:mod:`wxprivacy._coerce`). This module only joins them: :func:`dumps` writes
models through the converter.
"""

from __future__ import annotations

from typing import Any

import attrs

from . import _json
from ._converter import converter, structure, structure_response, unstructure
from ._json import loads

__all__ = [
    "JSONBytes",
    "converter",
    "dumps",
    "loads",
    "structure",
    "structure_response",
    "unstructure",
]


class JSONBytes(bytes):
    """A request body encoded once, ahead of time (with :func:`dumps`), and sent as it is: a
    constant body such as getprivacysetting's ``{"privacy_ver":2}`` is not encoded per call."""

    __slots__ = ()


def _model_to_json(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return unstructure(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` (JSON values, models, or a mix) as compact raw UTF-8 JSON.

    Models are written with :func:`unstructure`; see :func:`wxprivacy._json.dumps`.

    Raises:
        TypeError: ``obj`` holds something JSON cannot represent.
        InvalidArgumentError: a string holds a lone UTF-16 surrogate (the message names its path).
    """
    return _json.dumps(obj, default=_model_to_json)
