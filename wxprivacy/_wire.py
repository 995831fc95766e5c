"""Sans-I/O wire rules: response bytes -> dict or a typed error; rid parsing; URL redaction.

Nothing here performs I/O, so the whole error mapping is testable without HTTP.

No error raised here holds a token, ticket or secret, whatever the body: the answers of endpoints
that carry credentials (:func:`~wxprivacy._redact.carries_credentials`) are never quoted, only
their length and the parse error position are given; other bodies are quoted (120 characters at
most) after :func:`~wxprivacy._redact.redact` removed secrets from all of the text, by key and by
value; errmsg and wrongly typed values are redacted the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

import orjson

from . import _serde
from ._checks import MAX_SECONDS
from ._coerce import whole_number
from ._errors import ResponseFormatError, TransportError, error_for
from ._keys import describe
from ._redact import carries_credentials, redact

__all__ = [
    "decode_response",
    "redact",
    "snippet",
    "split_rid",
]

_RID_RE: Final = re.compile(r"[,\s]*rid:\s*([0-9a-fA-F]{8}-[0-9a-fA-F]{8}-[0-9a-fA-F]{8})\s*$")
SNIPPET_CHARS: Final = 120
ERRMSG_CHARS: Final = 500
"""errmsg longer than this is cut (WeChat's are a line; a huge one would flood logs)."""
_NOT_QUOTED: Final = " (answers from this endpoint may carry credentials)"


def split_rid(errmsg: str) -> tuple[str, str | None]:
    """Split ``"access_token expired rid: 6553f164-0badc0de-00c0ffee"`` into text and rid.

    Returns:
        ``(text, rid)``; ``rid`` is ``None`` when the message carries none (legacy
        ``hint: [...]`` suffixes are left in the text).
    """
    match = _RID_RE.search(errmsg)
    if match is None:
        return errmsg.strip(), None
    return errmsg[: match.start()].strip(), match.group(1)


def snippet(body: bytes) -> str:
    """A short, redacted, printable preview of a response body (at most 120 characters).

    The whole body is redacted before it is cut, so a secret that starts before the cut is
    recognised by its key.
    """
    text = redact(body.decode("utf-8", errors="replace"))
    text = " ".join(text[: SNIPPET_CHARS * 8].split())
    if len(text) > SNIPPET_CHARS:
        text = text[:SNIPPET_CHARS] + "…"
    return text


def _shown_body(body: bytes, *, endpoint: str) -> str:
    """What an error message says of ``body``: a quoted :func:`snippet`, or only its length
    when answers from ``endpoint`` carry credentials."""
    if carries_credentials(endpoint):
        return f"{len(body)} bytes, not quoted{_NOT_QUOTED}"
    return repr(snippet(body))


def loads(body: bytes, *, endpoint: str = "", status_code: int | None = None) -> Any:
    """Parse a JSON body with :func:`wxprivacy._serde.loads`, adding the endpoint and status.

    Raises:
        ResponseFormatError: the body is empty, not UTF-8, or not JSON. The message quotes
            the redacted body, or, for an endpoint whose answers carry credentials, only its
            length.
    """
    quote = not carries_credentials(endpoint)
    try:
        return _serde.loads(body, quote=quote)
    except ResponseFormatError as exc:
        text = str(exc)
    # Raised here, outside the except block, so nothing hangs on it as __context__.
    where = f" from {endpoint}" if endpoint else ""
    status = f" (HTTP {status_code})" if status_code is not None else ""
    raise ResponseFormatError(
        text.replace("response body", "response" + where + status, 1)
        + ("" if quote else _NOT_QUOTED),
        endpoint=endpoint,
        status_code=status_code,
    )


def decode_response(
    status_code: int, body: bytes, *, endpoint: str, now: float | None = None
) -> dict[str, Any]:
    """Turn one HTTP answer from WeChat into its JSON object, or raise the matching error.

    Args:
        status_code: the HTTP status.
        body: the raw response body.
        endpoint: the WeChat path that answered (for messages), e.g.
            ``/cgi-bin/component/getprivacysetting``.
        now: Unix seconds, for :class:`MinuteQuotaExceededError.retry_after`.

    Returns:
        The decoded JSON object (``errcode`` is 0 or absent).

    Raises:
        TransportError: HTTP 429 or 5xx (the caller retries these).
        ResponseFormatError: any other non-200 status, an empty/HTML/non-JSON body, a JSON value
            that is not an object, or a non-integer ``errcode``.
        WeChatAPIError: ``errcode`` is non-zero (the subclass from the errcode table).
    """
    if status_code == 429 or status_code >= 500:
        raise TransportError(
            f"HTTP {status_code} from {endpoint}: {_shown_body(body, endpoint=endpoint)}",
            endpoint=endpoint,
            status_code=status_code,
        )
    if status_code != 200:
        hint = " (is the endpoint path right?)" if status_code == 404 else ""
        raise ResponseFormatError(
            f"unexpected HTTP {status_code} from {endpoint}{hint}: "
            f"{_shown_body(body, endpoint=endpoint)}",
            endpoint=endpoint,
            status_code=status_code,
        )
    try:  # the usual body, without the two calls around orjson (loads() is the same, then)
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = _UNREAD
    if data is _UNREAD:  # outside the except block: no parser error (with the body) as context
        data = loads(body, endpoint=endpoint, status_code=status_code)
    if type(data) is not dict:
        raise ResponseFormatError(
            f"response from {endpoint} is a JSON {type(data).__name__}, not an object: "
            f"{_shown_body(body, endpoint=endpoint)}",
            endpoint=endpoint,
            status_code=status_code,
        )
    raw_code = data.get("errcode", 0)
    errcode = 0 if raw_code == 0 and type(raw_code) is int else _as_errcode(raw_code)
    if errcode is None:
        raise ResponseFormatError(
            f"errcode from {endpoint} is not an integer: {describe(raw_code)}",
            endpoint=endpoint,
            status_code=status_code,
            field_path="errcode",
        )
    if errcode != 0:
        raw_msg = data.get("errmsg", "")
        if not isinstance(raw_msg, str):  # JSON, not a Python repr, so keys are recognised
            try:
                raw_msg = json.dumps(raw_msg, ensure_ascii=False, default=str)
            except (RecursionError, ValueError):
                raw_msg = f"(errmsg is a JSON {type(raw_msg).__name__} nested too deeply to show)"
        text, rid = split_rid(raw_msg)
        text = redact(text)  # before the cut, so a secret cut in two is still recognised
        if len(text) > ERRMSG_CHARS:
            text = text[:ERRMSG_CHARS] + "…"
        raise error_for(errcode, text, rid=rid, endpoint=endpoint, now=now)
    return data


_UNREAD: Final = object()
"""What :func:`decode_response` holds while orjson has not read the body."""


def _as_errcode(value: Any) -> int | None:
    """``errcode`` read by the rule of every integer field (:func:`whole_number`: ASCII digits,
    an integral float JSON carries exactly); ``null`` is 0."""
    if value is None:
        return 0
    return whole_number(value)


def require_str(data: Mapping[str, Any], key: str, *, endpoint: str) -> str:
    """Return ``data[key]`` as a non-blank string, or raise ResponseFormatError naming the key
    (the one "field missing in the answer" path: tokens, ids)."""
    value = data.get(key)
    if isinstance(value, str) and value.strip():
        return value
    if value is None:
        problem = "is missing"
    elif isinstance(value, str):
        problem = "is blank"
    else:
        problem = f"is a {type(value).__name__}, not a string"
    raise ResponseFormatError(
        f"{key} in the response from {endpoint} {problem}", endpoint=endpoint, field_path=key
    )


MAX_LIFETIME: Final = MAX_SECONDS
"""The longest lifetime (``expires_in``, seconds) an answer may give; WeChat's are 7,200 or less."""


def require_seconds(data: Mapping[str, Any], key: str, *, endpoint: str, default: float) -> float:
    """Return ``data[key]`` as seconds from 1 to :data:`MAX_LIFETIME` (an integer, an integral
    float or ASCII digits, by the rule of every integer field); ``default`` when absent."""
    value = data.get(key)
    if value is None:
        return default
    number = whole_number(value)
    if number is not None and 0 < number <= MAX_LIFETIME:
        return float(number)
    raise ResponseFormatError(
        f"{key} in the response from {endpoint} is not a number of seconds from 1 to "
        f"{MAX_LIFETIME:,}: "
        f"{describe(data.get(key))}",
        endpoint=endpoint,
        field_path=key,
    )
