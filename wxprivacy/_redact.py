"""Scrub secrets from text before it reaches a log line, an exception message or a file.

Every rule runs on the whole text before anything is cut from it, and what the rules find is
replaced by ``***``. A secret is recognised two ways:

- **By its key.** The value after a key that names a credential: in JSON
  (``"Authorizer_Refresh_Token": "..."``, keys compared after decoding ``\\uXXXX`` escapes, folding
  case and dropping everything but letters and digits), in query strings, prose and Python reprs
  (``access_token=...``, ``refresh_token: ...``, ``'ticket': '...'``) and in XML
  (``<ComponentVerifyTicket>``). A value cut short by a truncated body runs to the end of the
  text, so no part of it is shown.
- **By what it is.** Any run of :data:`TOKEN_RUN` or more characters from ``[A-Za-z0-9_\\-*@]``
  that holds a digit or a capital letter, wherever it is. WeChat's credentials are drawn from
  that alphabet (base64url plus the ``@@@`` of ``ticket@@@``, ``refreshtoken@@@``,
  ``preauthcode@@@``) and the shortest is 32 characters (the appsecret; the EncodingAESKey has
  43, access tokens 99 or more). 24 leaves room below that while an appid (18) or a
  ``hint: [...]`` (14) stays readable. The digit-or-capital condition keeps snake_case names
  such as ``authorizer_refresh_token`` (24): a random 24-character credential has neither with a
  probability of 2e-9. (An odd-case key such as ``Authorizer_Refresh_Token`` is masked too.)
  A run that reaches the end of the text, where a truncated body stops, counts from
  :data:`TAIL_RUN` (8) characters: a token cut short there shows at most 7 (an appid such as
  ``wx0123456789abcdef`` ending an errmsg is not a token and stays).

A name is a credential's when, folded, it ends with one of :data:`SECRET_SUFFIXES` (``token``,
``ticket``, ``secret``, ``aeskey``, ``authcode``, ...).

Answers of the endpoints for which :func:`carries_credentials` is true are never quoted at all:
errors about them state the body's length and the parse error position only.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterator
from typing import Final

__all__ = [
    "SECRET_SUFFIXES",
    "TAIL_RUN",
    "TOKEN_RUN",
    "carries_credentials",
    "is_secret_name",
    "redact",
    "redact_at",
]

MASK: Final = "***"
TOKEN_RUN: Final = 24
"""A run of this many characters from ``[A-Za-z0-9_\\-*@]``, with a digit or capital, is a token."""
TAIL_RUN: Final = 8
"""The same at the very end of the text, where a truncated token stops."""

SECRET_SUFFIXES: Final = (
    "token",
    "ticket",
    "secret",
    "aeskey",
    "authcode",
    "authorizationcode",
    "sessionkey",
    "password",
)
"""A key or tag names a credential when its folded form (lower case, letters and digits only)
ends with one of these: ``component_access_token``, ``refresh_token``, ``component_appsecret``,
``EncodingAESKey``, ``pre_auth_code``, ``AuthorizationCode``..."""

_CREDENTIAL_PATHS: Final = frozenset(
    {
        "api_component_token",
        "api_authorizer_token",
        "api_query_auth",
        "api_get_authorizer_list",
        "api_get_authorizer_info",
        "api_create_preauthcode",
    }
)
_CREDENTIAL_WORDS: Final = re.compile(r"token|ticket|auth|secret|session", re.IGNORECASE)

# A name as a regex: a word ending with a credential suffix, underscores allowed anywhere in it
# (``aes_key``, ``auth_code``); the prefix is bounded so that long words cost little.
_NAME: Final = rf"[A-Za-z_]{{0,40}}?(?:{'|'.join('_?'.join(s) for s in SECRET_SUFFIXES)})"
# Every JSON string, in order, so string contents are never read as keys. A pair is a string
# followed by ``:``; its value is a string (perhaps cut short: it then runs to the end) or a bare
# scalar. Strings that are not keys are matched by the second branch only to keep the alignment.
_JSON_TOKENS: Final = re.compile(
    r'"(?P<key>(?:[^"\\]|\\.)*)"\s*:\s*'
    r'(?:"(?P<text>(?:[^"\\]|\\.)*\\?)(?:"|\Z)|(?P<bare>[^\s,{}\[\]"]+))?'
    r'|"(?:[^"\\]|\\.)*\\?(?:"|\Z)',
    re.S,
)
# The same for a plain-spelled credential key anywhere, aligned or not (a body that starts in the
# middle of a string, or holds a stray quote, must not hide a pair from the rule above).
_JSON_PLAIN: Final = re.compile(
    rf'"{_NAME}"\s*:\s*(?:"(?P<text>(?:[^"\\]|\\.)*\\?)(?:"|\Z)|(?P<bare>[^\s,{{}}\[\]"]+))',
    re.S | re.IGNORECASE,
)
_QUERY: Final = re.compile(
    rf"(?<![A-Za-z0-9_]){_NAME}[\"']?\s*[=:]\s*[\"']?(?P<value>[^\s&\"'<>,;{{}}\[\]()]+)",
    re.IGNORECASE,
)
_XML: Final = re.compile(
    rf"<(?P<tag>{_NAME})\s*>(?P<value>.*?)(?:</(?P=tag)\s*>|\Z)",
    re.S | re.IGNORECASE,
)
_RUN: Final = re.compile(rf"[A-Za-z0-9_\-*@]{{{TOKEN_RUN},}}")
_APPID: Final = re.compile(r"wx[0-9a-f]{16}\Z")
_RUN_CHARS: Final = frozenset(string.ascii_letters + string.digits + "_-*@")
_HAS_DIGIT_OR_CAPITAL: Final = re.compile(r"[0-9A-Z]")
_UNICODE_ESCAPE: Final = re.compile(r"\\u([0-9a-fA-F]{4})")
_ESCAPE: Final = re.compile(r"\\(.)", re.S)
_NOT_ALNUM: Final = re.compile(r"[^a-z0-9]")


def is_secret_name(name: str) -> bool:
    """Whether a key or tag names a credential (``"Authorizer_Refresh_Token"``, ``ticket``...).

    The name is folded first: ``\\uXXXX`` and backslash escapes decoded, lower-cased, everything
    but letters and digits dropped.
    """
    name = _ESCAPE.sub(r"\1", _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name))
    return _NOT_ALNUM.sub("", name.lower()).endswith(SECRET_SUFFIXES)


@functools.lru_cache(maxsize=1024)  # a client calls a few dozen paths, on every call
def carries_credentials(endpoint: str) -> bool:
    """Whether answers from ``endpoint`` may carry a token, ticket, code or secret.

    True for ``api_component_token``, ``api_authorizer_token``, ``api_query_auth``,
    ``api_get_authorizer_list``, ``api_get_authorizer_info`` and ``api_create_preauthcode``, and
    for any path whose last segment mentions a token, ticket, auth, secret or session.
    """
    last = endpoint.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return last in _CREDENTIAL_PATHS or _CREDENTIAL_WORDS.search(last) is not None


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield the ``(start, end)`` of every secret in ``text`` (they may overlap)."""
    for match in _JSON_TOKENS.finditer(text):
        key = match.group("key")
        if key is not None and is_secret_name(key):
            for group in ("text", "bare"):
                if match.group(group):
                    yield match.span(group)
    for match in _JSON_PLAIN.finditer(text):
        for group in ("text", "bare"):
            if match.group(group):
                yield match.span(group)
    for pattern in (_QUERY, _XML):
        for match in pattern.finditer(text):
            if match.group("value"):
                yield match.span("value")
    for match in _RUN.finditer(text):
        if _HAS_DIGIT_OR_CAPITAL.search(match.group()):
            yield match.span()
    start = len(text)  # the run at the very end (walked back: a regex with \Z is quadratic)
    while start and text[start - 1] in _RUN_CHARS:
        start -= 1
    tail = text[start:]
    if len(tail) >= TAIL_RUN and _HAS_DIGIT_OR_CAPITAL.search(tail) and not _APPID.match(tail):
        yield start, len(text)


def redact_at(text: str, pos: int) -> tuple[str, int]:
    """:func:`redact` ``text``, and say where position ``pos`` of the input lands in the result.

    A position inside a removed secret lands on its ``***``.
    """
    merged: list[list[int]] = []
    for start, end in sorted(_spans(text)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if not merged:
        return text, pos
    pieces: list[str] = []
    done = length = 0  # input consumed, output written
    new_pos = None
    for start, end in merged:
        if new_pos is None and pos < end:
            new_pos = length + (pos - done if pos < start else start - done)
        pieces += (text[done:start], MASK)
        length += start - done + len(MASK)
        done = end
    if new_pos is None:
        new_pos = length + pos - done
    pieces.append(text[done:])
    return "".join(pieces), new_pos


def redact(text: str) -> str:
    """Return ``text`` with every credential-like value replaced by ``***`` (see the module)."""
    return redact_at(text, 0)[0]
