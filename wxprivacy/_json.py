"""Bytes <-> JSON values for WeChat bodies: :func:`loads`, :func:`dumps`, surrogate repair.

Nothing here knows the models: :func:`dumps` takes a ``default`` for objects JSON cannot hold
(:mod:`wxprivacy._serde` passes the converter's ``unstructure``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson

from ._errors import InvalidArgumentError, ResponseFormatError
from ._redact import redact_at

__all__ = ["dumps", "loads"]

_SNIPPET: Final = 120
_PROBLEM_CHARS: Final = 60


def _snippet(text: str, pos: int = 0) -> str:
    """At most 120 characters of ``text`` around ``pos``, redacted before anything is cut."""
    text, pos = redact_at(text, min(pos, len(text)))
    start = max(0, pos - _SNIPPET // 2)
    piece = text[start : start + _SNIPPET]
    return repr(piece)[: _SNIPPET + 2]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_INT_RANGE: Final = range(-(2**63), 2**64)
"""The integers orjson reads as ints; it reads any other integer as a float."""


def _orjson_int(digits: str) -> int | float:
    """A JSON integer read as orjson reads it, so a body means the same whichever parser reads
    it: an int within 64 bits, else a float (``inf`` past a float's range), which every integer
    field refuses by name unless the float is exact (``whole_number``). Never Python's
    4,300-digit conversion error."""
    if len(digits) <= 21:  # 2**64 has 20 digits, and a sign
        number = int(digits)
        if number in _INT_RANGE:
            return number
    return float(digits)


def _parse_problem(msg: str) -> str:
    """A JSON error's own words without anything quoted from the body (``Invalid \\escape: 'x'``
    keeps ``Invalid \\escape``)."""
    words = msg.split(": ", 1)[0]
    if len(words) <= _PROBLEM_CHARS:
        return words
    return words[:_PROBLEM_CHARS].rsplit(" ", 1)[0] + " ..."  # whole words only


def _loads_lenient(raw: bytes) -> tuple[Any, str, str, int]:
    """Parse ``raw`` with :func:`json.loads`; return ``(value, text, problem, position)``.

    ``problem`` is ``""`` on success, else what is wrong (``is not valid JSON (Expecting ','
    delimiter at line 1 column 250)``) with ``position`` the character where it is in ``text``.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        near = len(raw[: exc.start].decode("utf-8", "replace"))
        return None, raw.decode("utf-8", "replace"), f"is not valid UTF-8 (byte {exc.start})", near
    try:
        return (
            json.loads(text, strict=False, parse_constant=_reject_constant, parse_int=_orjson_int),
            text,
            "",
            0,
        )
    except json.JSONDecodeError as exc:
        problem = _parse_problem(exc.msg).removesuffix(" at")  # "starting at" + " at line"
        where = f"at line {exc.lineno} column {exc.colno}"
        return None, text, f"is not valid JSON ({problem} {where})", exc.pos
    except ValueError as exc:
        return None, text, f"is not valid JSON ({_parse_problem(str(exc))})", 0
    except RecursionError:
        return None, text, "is not valid JSON (nested too deeply)", 0


def loads(body: bytes | bytearray | memoryview, *, quote: bool = True) -> Any:
    """Decode a WeChat response body into JSON values (dicts, lists, str, int, float, bool, None).

    orjson parses well-formed bodies. What it rejects is parsed again by :func:`json.loads` with
    ``strict=False``, which accepts the raw control characters (tabs, newlines) real WeChat bodies
    carry inside strings, after an explicit UTF-8 decode that also drops a byte-order mark.

    Args:
        body: the raw HTTP body.
        quote: whether an error may quote the body (at most 120 characters, redacted by value:
            see :mod:`wxprivacy._redact`). ``False`` for answers that carry credentials: the
            message then states the body's length and the error position only.

    Returns:
        The decoded JSON value; it is not necessarily an object.

    Raises:
        ResponseFormatError: the body is empty, not UTF-8 or not JSON. The message names the
            problem and its position, and never holds a token, ticket or secret. It is raised
            outside any ``except`` block, so no parser error (which holds the whole body as
            ``doc``) hangs on it as ``__context__``.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    raw = bytes(body)
    if not raw.strip():
        raise ResponseFormatError("empty response body")
    value, text, problem, pos = _loads_lenient(raw)
    if problem:
        shown = _snippet(text, pos) if quote else f"{len(raw)} bytes, not quoted"
        raise ResponseFormatError(f"response body {problem}: {shown}")
    if _SURROGATE_ESCAPE.search(text):
        try:
            return _repair_surrogates(value)
        except RecursionError:
            pass  # raised below, outside the except block (no __context__)
        raise ResponseFormatError(f"response body is nested too deeply ({len(raw)} bytes)")
    return value


#: A ``\uD800``–``\uDFFF`` escape: half of a UTF-16 pair, which may stand alone in broken bodies.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def _repair_surrogates(value: Any) -> Any:
    """Replace lone UTF-16 surrogates (from escapes like ``\ud83d`` without their pair) with
    U+FFFD, so the text can be written as UTF-8 again; valid pairs are joined."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_repair_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_repair_surrogates(k): _repair_surrogates(v) for k, v in value.items()}
    return value


def dumps(obj: Any, *, default: Callable[[Any], Any] | None = None) -> bytes:
    """Encode ``obj`` as compact UTF-8 JSON with Chinese left raw, as WeChat requires.

    WeChat shows ``\\uXXXX`` escapes to users verbatim and rejects ``"30\\u5929"`` where it
    expects ``"30天"`` (errcode 86072), so nothing non-ASCII is escaped. Mappings that are not
    dicts (such as ``extras``) are written as objects.

    Args:
        obj: JSON values.
        default: turns any other object into JSON values, or raises ``TypeError``.

    Returns:
        The request body, e.g. ``b'{"privacy_ver":2}'``.

    Raises:
        TypeError: ``obj`` holds something JSON cannot represent.
        InvalidArgumentError: a string holds a lone UTF-16 surrogate (the message names its path).
    """

    def fallback(value: Any) -> Any:
        if isinstance(value, Mapping):
            return dict(value)
        if default is not None:
            return default(value)
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    try:
        # orjson's bytes keep the ~4 KB buffer they were written into: a request body that
        # waits (queued calls, retries) would hold it all along. A copy is exact-size.
        return bytes(memoryview(orjson.dumps(obj, default=fallback)))
    except orjson.JSONEncodeError:
        # orjson stops at integers beyond 64 bits (and at lone surrogates); json does not.
        text = json.dumps(
            obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=fallback
        )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        path = _bad_text_path(json.loads(text)) or "$"
        raise InvalidArgumentError(
            f"{path}: text is not valid Unicode (a lone UTF-16 surrogate); it cannot be sent"
        ) from None


def _bad_text_path(value: Any, path: str = "") -> str | None:
    """The field path of the first string holding a lone surrogate, if any."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "$"
        return None
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        sub = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
        found = _bad_text_path(item, sub)
        if found:
            return found
    return None
