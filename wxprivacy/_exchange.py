"""The sans-I/O exchange: what one HTTP request to WeChat is, what comes back, and how it fails.

A :class:`Request` is plain data (method, URL, headers, body bytes); a backend moves it over the
network and returns an :class:`Answer` (status, body bytes) or raises :class:`ExchangeError`.
Everything else — building the request, the deadlines, retries, decoding and the errcode mapping
(``_wire.py``) — is the same whatever the backend. Two backends exist:

- ``_aiohttp_backend.AiohttpBackend``: aiohttp's ``ClientSession`` used directly, for the client
  a :class:`~wxprivacy.ComponentClient` creates for itself (no httpx object per call);
- ``_httpx_backend.HttpxBackend``: a caller's ``httpx.AsyncClient`` (``MockTransport``, respx
  and any transport of the caller's keep working), or the sharded httpx pool of
  ``transport="httpx"``.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Mapping
from typing import Any, Final, Protocol
from urllib.parse import quote, urlsplit

from ._deadline import Progress
from ._redact import redact

__all__ = [
    "JSON_HEADERS",
    "MAX_ANSWER_BYTES",
    "answer_too_large",
    "plain_and_small",
    "Answer",
    "Backend",
    "ExchangeError",
    "Request",
    "build_request",
    "connect_detail",
]

JSON_HEADERS: Final = {"Content-Type": "application/json; charset=utf-8"}
MAX_ANSWER_BYTES: Final = 16 * 1024 * 1024
"""The largest answer read, after decompression (WeChat's are kilobytes; a page of 500
authorizers is ~100 KB): a larger one, or a compressed bomb, is refused as unreadable."""
_URL_SAFE: Final = re.compile(r"[A-Za-z0-9_.~-]*")
"""Characters ``quote(..., safe='')`` leaves alone (WeChat's tokens are made of them)."""


class Request:
    """One request, as bytes and strings only.

    Attributes:
        method: ``"GET"`` or ``"POST"``.
        url: the whole URL, query string (token) included.
        headers: request headers beyond the backend's defaults.
        body: the request body, or ``None``.
    """

    __slots__ = ("body", "headers", "method", "url")

    def __init__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:  # the URL carries a token: never shown
        return f"Request({self.method!r}, <url with token not shown>)"


class Answer:
    """One HTTP answer: the status code, the whole body (already de-compressed) and the headers
    as the backend received them (any mapping with a case-insensitive ``get``; read only when
    asked for, e.g. :attr:`date`)."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def date(self) -> str | None:
        """The ``Date`` header (``wxprivacy doctor`` reads the clock offset from it), or
        ``None``."""
        return None if self.headers is None else self.headers.get("Date")


class ExchangeError(Exception):
    """A backend could not complete an exchange.

    Attributes:
        detail: what failed, e.g. ``"ConnectionRefusedError: connection refused"`` (redacted).
        kind: the part of ``detail`` before its first colon (the exception's name).
        maybe_sent: whether the request may have reached the server (``False`` only when the
            failure proves it did not: the connection was never made).
        unreadable: the answer arrived but could not be read (a body that contradicts its
            ``Content-Encoding``, a redirect loop): a format problem, not a network one.
    """

    def __init__(self, detail: str, *, maybe_sent: bool, unreadable: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.kind = detail.split(":", 1)[0]
        self.maybe_sent = maybe_sent
        self.unreadable = unreadable


class Backend(Protocol):
    """Moves one :class:`Request` over the network and returns its :class:`Answer`.

    Attributes:
        reports: whether the backend reports each exchange's progress (held, sent) to the
            :class:`~wxprivacy._deadline.Progress` it is given.
        isolate: whether an exchange must run in a task of its own and be stopped with care
            rather than cancelled (httpx's own pool strands connections when cancelled at some
            points).
        owned: whether the backend was created by the client (then ``aclose`` closes it).
    """

    reports: bool
    isolate: bool
    owned: bool

    async def send(self, request: Request, progress: Progress) -> Answer:
        """Send ``request``; raise :class:`ExchangeError` when the exchange fails."""
        ...

    async def aclose(self) -> None:
        """Close what the backend owns (a caller's client is left open)."""
        ...

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` closed it."""
        ...


def answer_too_large() -> ExchangeError:
    """The error for an answer past :data:`MAX_ANSWER_BYTES` (a format problem: not retried)."""
    return ExchangeError(
        f"AnswerTooLarge: more than {MAX_ANSWER_BYTES} bytes (after decompression)",
        maybe_sent=True,
        unreadable=True,
    )


def plain_and_small(headers: Mapping[str, str], length: int | None) -> bool:
    """Whether an answer can be read whole at once: not compressed, and a ``Content-Length``
    within :data:`MAX_ANSWER_BYTES` (otherwise it is read in chunks, counting)."""
    encoding = headers.get("Content-Encoding", "")
    plain = not encoding or encoding.strip().lower() == "identity"
    return plain and length is not None and length <= MAX_ANSWER_BYTES


def build_request(
    method: str,
    url: str,
    *,
    token: tuple[str, str] | None = None,
    content: bytes | None = None,
    files: Mapping[str, Any] | None = None,
) -> Request:
    """Build the :class:`Request` for one call.

    Args:
        method: ``"GET"`` or ``"POST"``.
        url: base URL plus the endpoint path.
        token: ``(query_name, value)``, added as the query string (percent-encoded).
        content: a UTF-8 JSON body.
        files: multipart files ``{name: (filename, bytes, content_type)}``; encoded with
            httpx's multipart encoder (uploads are rare: the cost does not matter).
    """
    if token is not None:
        value = token[1]
        if _URL_SAFE.fullmatch(value) is None:
            value = quote(value, safe="")
        url = f"{url}?{token[0]}={value}"
    if files is not None:
        import httpx

        encoded = httpx.Request(method, url, files=files)
        body = encoded.read()
        return Request(method, url, {"Content-Type": encoded.headers["Content-Type"]}, body)
    if content is not None:
        return Request(method, url, JSON_HEADERS, content)
    return Request(method, url, {}, None)


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def _root_cause(exc: BaseException) -> BaseException | None:
    """The operating system's or the TLS layer's error under ``exc`` (aiohttp keeps it in
    ``os_error``; httpx chains it), else ``None``."""
    seen: BaseException | None = getattr(exc, "os_error", None) or exc.__cause__ or exc.__context__
    for _ in range(8):
        if seen is None or isinstance(
            seen, ConnectionRefusedError | socket.gaierror | ssl.SSLError
        ):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def connect_detail(exc: BaseException, url: str) -> str:
    """Say what a failed connect to ``url`` means (refused, unresolvable, TLS, timed out), for
    either backend.

    ``url`` is only used for its host and port (never its query string, which holds tokens).
    """
    where = _where(url)
    cause = _root_cause(exc)
    name = type(exc).__name__
    if isinstance(cause, ConnectionRefusedError):
        return f"{name}: connection refused by {where} (is anything listening there?)"
    if isinstance(cause, socket.gaierror) or name == "ClientConnectorDNSError":
        return f"{name}: cannot resolve the host of {where}: {redact(str(cause or exc))}"
    if "Certificate" in name:
        return f"{name}: the TLS certificate of {where} is not trusted: {redact(str(exc))}"
    if isinstance(cause, ssl.SSLError) or "SSL" in name:
        hint = ""
        if url.startswith("https://"):
            hint = " (is the server plain HTTP? then base_url must start with http://)"
        return f"{name}: TLS handshake with {where} failed{hint}: {redact(str(cause or exc))}"
    if "Timeout" in name:
        return f"{name}: timed out connecting to {where}"
    return f"{name}: could not connect to {where}: {redact(str(exc))}"
