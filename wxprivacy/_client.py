"""ComponentClient: every endpoint group combined into the one client users create."""

from __future__ import annotations

from ._authorization import AuthorizationAPI
from ._generic import GenericAPI
from ._interface import PrivacyInterfaceAPI
from ._privacy import PrivacyAPI

__all__ = ["ComponentClient"]


class ComponentClient(PrivacyAPI, PrivacyInterfaceAPI, AuthorizationAPI, GenericAPI):
    """Async client for a WeChat third-party platform ("component").

    Tokens come from ``token_store`` and are refreshed on demand: the component token from the
    stored ``component_verify_ticket``, each authorizer token from its stored
    ``authorizer_refresh_token``. Use one client per application (``async with`` it, or call
    :meth:`aclose`); it is safe for any number of concurrent tasks.

    Args:
        component_appid: the platform's appid.
        component_appsecret: the platform's appsecret (never logged or shown in ``repr``).
        token_store: where tickets and tokens live; a :class:`MemoryTokenStore` when ``None``.
        http_client: an ``httpx.AsyncClient`` owned by the caller (never closed here); when
            ``None`` the client creates its own and closes it in :meth:`aclose`. Its own limits
            and timeouts apply, and ``timeout`` and ``call_timeout`` apply on top. Its pool may
            serve other code too, so calls are not queued here: each request is handed to it at
            once, and the attempt's clock starts when its transport reports a connection for
            the request (httpx's own transport does), or at once for transports that report
            nothing; either way the call's clock runs from the start.
        transport: the HTTP machinery of the client it creates itself: ``"aiohttp"`` (the
            default: aiohttp's ``ClientSession`` used directly, no httpx objects per call) or
            ``"httpx"`` (httpx's own pool, split into pools of 4 connections so it does not
            collapse with many requests in flight). ``docs/batch-audit.md`` has the figures
            (``benchmarks/bench_throughput.py``). Not allowed together with ``http_client``.
            Tests that mock httpcore (``respx``) need ``transport="httpx"`` or their own
            ``http_client``.
        base_url: scheme and host of the API.
        retry: retry policy for transient failures; ``RetryPolicy()`` (4 attempts, 0.5 s
            initial backoff, 8 s cap) when ``None``.
        timeout: seconds one attempt may take, whole exchange: connect, send the request,
            receive the headers and all of the body (default 10). A server trickling its answer
            cannot stretch it. The client this client creates queues calls for one of its
            connections, and an attempt's clock starts once it holds one. An ``httpx.Timeout``
            is accepted for compatibility: it bounds each connect, read, write and pool wait of
            the client created here as in httpx, and its largest part is the attempt's limit
            (none when it sets no part). A passed attempt deadline raises
            :class:`TransportError` (retried like a read timeout).
        call_timeout: seconds the whole call may take: waiting for a free connection, every
            attempt and the backoff between them (default 60; a backoff that would end past it
            is not started, and the last error is raised). Waits imposed by ``rate_limits`` and
            45011 pauses are not counted. A token refresh is a call of its own, with the same
            limits. Passing it raises :class:`TransportError`, with ``maybe_sent=False`` when no
            attempt's request can have left.
        refresh_margin: seconds before expiry at which tokens are refreshed (0 to 86,400).
        clock: returns the current Unix time in seconds (tests inject a fake).
        sleep: awaitable sleep in seconds used between retries and by the rate limiter (tests
            inject a fake).
        rate_limits: requests per minute per endpoint path for this component, e.g.
            ``{"/cgi-bin/component/getprivacysetting": 1000}`` (every attempt counts, retries
            included); ``None`` (the default) limits nothing. Whatever the limits, after WeChat
            answers 45011 for an endpoint, further calls to it wait until the next minute
            (WeChat would refuse them), and batches re-queue the authorizers it refused.
            Counted in ``quota_store``.
        max_connections: connections the client this client creates keeps open at most
            (default 100); calls beyond that many in flight wait for a free one, first come
            first served, within their ``call_timeout``. Ignored with ``http_client`` (its own
            limits apply).
        quota_store: where ``rate_limits`` are counted and 45011/45009 holds are kept: this
            process's memory by default; a ``wxprivacy.redis.RedisQuotaStore`` shares them with
            every worker (N workers with a limit of L send L per minute together, and a 45011 or
            45009 one of them sees holds the others within one request). After a 45009, calls
            that count against the same daily quota fail at once with
            :class:`QuotaExceededError` (unsent) until the assumed reset, midnight UTC+8.

    Raises:
        InvalidArgumentError: an empty appid or appsecret; a base_url that is not http(s); an
            unknown ``transport``, or one given with ``http_client``; ``max_connections`` not
            an int from 1 to 65,535; a rate limit that is not an int >= 1; a ``timeout`` or
            ``call_timeout`` that is not a number of seconds above zero and at most a year; a
            ``refresh_margin`` that is not 0 to 86,400 seconds.
    """

    async def reload_refresh_tokens(self, *, page_size: int = 500) -> int:
        """Store every authorizer's current refresh token from ``api_get_authorizer_list``.

        The recovery after a ``61023`` (refresh token invalid) or a lost store: pages through
        ``POST /cgi-bin/component/api_get_authorizer_list`` (``page_size`` per request, at most
        500) and stores the listed tokens by :meth:`store_listed_refresh_tokens` (written where
        the store holds none or a different one); entries without one leave the stored token
        as it is.

        Returns:
            How many listed refresh tokens the store holds now.

        Raises:
            InvalidArgumentError: page_size out of range. TokenStoreError: the store failed.
            WeChatAPIError, TransportError, ResponseFormatError: as for any call.
        """
        held = 0
        async for page in self.iter_authorizer_pages(page_size=page_size):
            held += await self.store_listed_refresh_tokens(page.list)
        return held
