"""The native aiohttp backend: exchanges over aiohttp's ``ClientSession``, no httpx per call.

The backend of the client a :class:`~wxprivacy.ComponentClient` creates for itself (the default,
``transport="aiohttp"``). aiohttp hands a free connection to a waiting request in constant time,
so many requests in flight cost no more per request than a few; and using its session directly
skips the httpx ``Request``/``Response`` layer that an httpx transport over aiohttp pays on every
call (``benchmarks/bench_throughput.py`` has the figures). The session is created on first use, in
the running event loop, and closed by :meth:`AiohttpBackend.aclose`.
"""

from __future__ import annotations

import functools
import re
import ssl
from typing import Any, Final

import httpx

from ._deadline import Progress
from ._exchange import (
    MAX_ANSWER_BYTES,
    Answer,
    ExchangeError,
    Request,
    answer_too_large,
    connect_detail,
    plain_and_small,
)
from ._httpx_backend import KEEPALIVE_EXPIRY, MAX_CONNECTIONS
from ._loops import current_task
from ._redact import redact

__all__ = ["AiohttpBackend"]

_NO_REDIRECTS: Final = False
_PLAIN_QUERY: Final = re.compile(r"[A-Za-z0-9_.~=&-]*")
"""A query string every URL parser keeps as it is (unreserved characters, ``=`` and ``&``):
the token query :func:`~wxprivacy._exchange.build_request` writes for WeChat's tokens."""
_MAX_BASES: Final = 64
"""URLs before the query remembered at most per backend (a client has one base URL)."""


class _Urls:
    """The ``yarl.URL`` of each request, built from its parts.

    aiohttp parses a URL given as a string on every request (about 4 µs for a URL with a
    token: yarl's parse cache never sees one twice). The part before the query (base URL and
    endpoint) is parsed once and remembered; a plain query (:data:`_PLAIN_QUERY`) is joined to
    it as given (``encoded=True``: nothing to encode or normalise), which gives the URL the
    parse gives. Anything else is parsed as before.
    """

    __slots__ = ("_bases",)

    def __init__(self) -> None:
        self._bases: dict[str, tuple[str, str, str] | None] = {}

    def __call__(self, url: str) -> Any:
        """The ``yarl.URL`` of ``url``; ``url`` itself when yarl refuses it, for aiohttp to
        refuse as it always does (``InvalidUrlClientError``: the call's TransportError)."""
        try:
            return self._build(url)
        except ValueError:
            return url

    def _build(self, url: str) -> Any:
        from yarl import URL

        head, _, query = url.partition("?")
        bases = self._bases
        parts = bases[head] if head in bases else self._remember(head)
        if parts is None or _PLAIN_QUERY.fullmatch(query) is None:
            return URL(url)
        scheme, authority, path = parts
        return URL.build(
            scheme=scheme, authority=authority, path=path, query_string=query, encoded=True
        )

    def _remember(self, head: str) -> tuple[str, str, str] | None:
        from yarl import URL

        parsed = URL(head)
        parts = None
        if parsed.absolute and not parsed.raw_query_string and not parsed.raw_fragment:
            parts = (parsed.scheme, parsed.raw_authority, parsed.raw_path)
            rebuilt = URL.build(scheme=parts[0], authority=parts[1], path=parts[2], encoded=True)
            if rebuilt != parsed or str(rebuilt) != str(parsed):
                parts = None  # e.g. an empty path, which the parse keeps and a build does not
        if len(self._bases) >= _MAX_BASES:
            self._bases.clear()
        self._bases[head] = parts
        return parts


def _reporting_connector(
    ssl_context: ssl.SSLContext, limit: int, exchanges: dict[Any, Progress]
) -> Any:
    """A ``TCPConnector`` that reports to the running exchange's :class:`Progress` (see
    ``_deadline.py``) once it holds a connection: from then on the request may leave.

    ``exchanges`` maps the task running each exchange to its progress (aiohttp connects in the
    task that sends): a dict entry per exchange, where a context variable would cost a new
    context mapping and a token, objects the garbage collector then walks."""
    import aiohttp

    class ReportingConnector(aiohttp.TCPConnector):
        async def connect(self, *args: Any, **kwargs: Any) -> Any:
            connection = await super().connect(*args, **kwargs)
            progress = exchanges.get(current_task())
            if progress is not None:
                progress.held = progress.sent = True
                on_held, progress.on_held = progress.on_held, None
                if on_held is not None:
                    on_held()
            return connection

    return ReportingConnector(limit=limit, keepalive_timeout=KEEPALIVE_EXPIRY, ssl=ssl_context)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying SSL context per process (certifi's CAs, as httpx clients use): loading
    the CA file takes ~20 ms, too much to pay per client."""
    return httpx.create_ssl_context()


def _undecodable(exc: BaseException) -> bool:
    """Whether aiohttp failed to decode a body it received whole (a body that contradicts its
    ``Content-Encoding``, or an encoding aiohttp cannot decode, such as ``br`` without Brotli):
    a format problem, not a network one. A body cut short (``TransferEncodingError``,
    ``ContentLengthError``) is a network one."""
    if type(exc.__cause__).__name__ == "ContentEncodingError":
        return True
    message = str(getattr(exc, "message", ""))
    return "Can not decode content-encoding" in message


class AiohttpBackend:
    """Exchanges over an aiohttp ``ClientSession`` this backend creates and owns.

    Args:
        timeout: an ``httpx.Timeout`` whose ``connect`` and ``read`` parts bound each connect
            and each socket read in seconds (the attempt and call deadlines are the wire
            client's), or a number of seconds (then only those deadlines apply).
        max_connections: connections the session keeps open at most.
    """

    __slots__ = (
        "_closed",
        "_exchanges",
        "_limit",
        "_session",
        "_ssl",
        "_timeout",
        "_urls",
        "isolate",
        "owned",
        "reports",
    )

    def __init__(
        self, timeout: float | httpx.Timeout | None = None, max_connections: int = MAX_CONNECTIONS
    ) -> None:
        self._limit = max_connections
        self._session: Any = None
        self._ssl: ssl.SSLContext | None = None
        self._timeout = timeout
        self._closed = False
        self._exchanges: dict[Any, Progress] = {}  # running task -> its exchange's progress
        self._urls = _Urls()
        self.isolate = False
        self.reports = True
        self.owned = True

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def _open(self) -> Any:
        import aiohttp

        if self._ssl is None:
            self._ssl = _ssl_context()
        parts = self._timeout if isinstance(self._timeout, httpx.Timeout) else None
        self._session = aiohttp.ClientSession(
            connector=_reporting_connector(self._ssl, self._limit, self._exchanges),
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=parts.connect if parts else None,
                sock_read=parts.read if parts else None,
            ),
            auto_decompress=True,
            # WeChat's APIs take no cookies: none is kept, so none set in one authorizer's
            # answer is ever sent with another's request (and no jar is searched per request)
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self._session

    async def aclose(self) -> None:
        """Close the session and its connections (idempotent)."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def send(self, request: Request, progress: Progress) -> Answer:
        """Send ``request`` with aiohttp and read the whole answer.

        Raises:
            RuntimeError: the backend was closed (the client maps it to ClientClosedError).
            ExchangeError: aiohttp's connection, protocol and payload errors, with whether the
                request may have been sent.
        """
        session = self._session
        if session is None:
            if self._closed:
                raise RuntimeError("the HTTP session is closed")
            session = self._open()
        import aiohttp

        exchanges, task = self._exchanges, current_task()
        exchanges[task] = progress
        try:
            # awaited, not entered with ``async with``: the context managers' coroutines would
            # sit in every resumption of the exchange (release() is what their exit does)
            response = await session.request(
                request.method,
                self._urls(request.url),
                data=request.body,
                headers=request.headers,
                allow_redirects=_NO_REDIRECTS,
            )
            try:
                if plain_and_small(response.headers, response.content_length):
                    return Answer(response.status, await response.read(), response.headers)
                body = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise answer_too_large()
                return Answer(response.status, bytes(body), response.headers)
            finally:
                response.release()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise ExchangeError(connect_detail(exc, request.url), maybe_sent=False) from None
        except aiohttp.ClientError as exc:
            detail = f"{type(exc).__name__}: {redact(str(exc))}"
            unreadable = _undecodable(exc)
            sent = progress.sent or unreadable
            raise ExchangeError(detail, maybe_sent=sent, unreadable=unreadable) from None
        finally:
            del exchanges[task]
