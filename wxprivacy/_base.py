"""BaseClient: construction, credentials and the two authenticated calls.

Endpoint groups live in their own modules (``_authorization.py``, ``_privacy.py``) as subclasses
of :class:`BaseClient`; :class:`ComponentClient` combines them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Final, TypeVar

import httpx

from . import _serde, paths
from ._appid import check_appid
from ._checks import check_int, shown
from ._closing import AsyncClosing
from ._errors import (
    ClientClosedError,
    InvalidArgumentError,
    TransportError,
    WrongEventLoopError,
    WxPrivacyError,
)
from ._http import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_TIMEOUT,
    DEFAULT_TRANSPORT,
    MAX_CONNECTIONS,
    Transport,
    WireClient,
    create_backend,
    late_error,
)
from ._httpx_backend import HttpxBackend
from ._loops import running_loop
from ._memory_store import MemoryTokenStore
from ._quotas import QuotaStore
from ._ratelimit import RateLimiter
from ._retry import RetryPolicy
from ._slots import Slots
from ._stores import TICKET_TTL, EventStamp, TokenStore
from ._tokens import DEFAULT_REFRESH_MARGIN, TokenManager

__all__ = ["DEFAULT_BASE_URL", "BaseClient", "check_appid", "endpoints"]

T = TypeVar("T")
DEFAULT_BASE_URL: Final = "https://api.weixin.qq.com"
ADMITTED_PER_CONNECTION: Final = 4
"""Calls inside a client at once, per connection of ``max_connections``; more wait in line."""


class endpoints:  # noqa: N801 - a namespace of constants
    """The WeChat paths this client calls (the public constants are :mod:`wxprivacy.paths`)."""

    COMPONENT_TOKEN: Final = paths.COMPONENT_TOKEN
    AUTHORIZER_TOKEN: Final = paths.AUTHORIZER_TOKEN
    AUTHORIZER_LIST: Final = paths.AUTHORIZER_LIST
    GET_PRIVACY_SETTING: Final = paths.GET_PRIVACY_SETTING


def _check_base_url(base_url: str) -> None:
    from yarl import URL

    try:
        url = httpx.URL(base_url)
        URL(base_url)  # the default aiohttp backend's parser must take it too
        usable = (
            url.scheme in ("http", "https")
            and bool(url.host)  # decodes an IDNA host: idna may refuse it here
            and not url.query
            and not url.fragment
            and (url.port is None or 0 < url.port < 65536)
        )
    except (httpx.InvalidURL, TypeError, ValueError):  # idna's errors are ValueErrors too
        usable = False
    if not usable:
        raise InvalidArgumentError(
            "base_url must be an http(s) URL such as https://api.weixin.qq.com (a port from 1 "
            f"to 65535, no query or fragment), got {shown(base_url)}"
        )


async def _finish_even_if_cancelled(closing: Awaitable[None]) -> None:
    """Await ``closing`` to its end even when the caller is cancelled meanwhile (then re-raise)."""
    task = asyncio.ensure_future(closing)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task}, timeout=10.0)
        raise


class BaseClient(AsyncClosing):
    """The shared core of :class:`ComponentClient`: construction, credentials and the two
    authenticated calls every endpoint group goes through (tokens come from its TokenManager).

    Endpoint groups subclass it; users create :class:`ComponentClient`, whose docstring lists
    the constructor arguments.
    """

    def __init__(
        self,
        component_appid: str,
        component_appsecret: str,
        *,
        token_store: TokenStore | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: Transport | None = None,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rate_limits: Mapping[str, int] | None = None,
        max_connections: int = MAX_CONNECTIONS,
        quota_store: QuotaStore | None = None,
    ) -> None:
        self.component_appid = check_appid("component_appid", component_appid)
        if not isinstance(component_appsecret, str) or not component_appsecret:
            raise InvalidArgumentError("component_appsecret must be a non-empty string")
        self.token_store: TokenStore = (
            token_store if token_store is not None else MemoryTokenStore()
        )
        _check_base_url(base_url)
        if http_client is not None and transport is not None:
            raise InvalidArgumentError(
                "pass either http_client or transport: a caller's client brings its own transport"
            )
        check_int("max_connections", max_connections, low=1, high=65_535)
        self._owns_http = http_client is None
        backend = (
            create_backend(
                transport or DEFAULT_TRANSPORT, timeout=timeout, max_connections=max_connections
            )
            if http_client is None
            else HttpxBackend(http_client, owned=False)
        )
        self.retry = retry if retry is not None else RetryPolicy()
        self._clock = clock
        self.rate_limiter = RateLimiter(
            rate_limits,
            component_appid=self.component_appid,
            store=quota_store,
            clock=clock,
            sleep=sleep,
        )
        self._wire = WireClient(
            backend,
            base_url=base_url,
            retry=self.retry,
            clock=clock,
            sleep=sleep,
            limiter=self.rate_limiter,
            timeout=timeout,
            call_timeout=call_timeout,
            max_connections=max_connections if self._owns_http else None,
        )
        self._admission = Slots(ADMITTED_PER_CONNECTION * max_connections)
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tokens = TokenManager(
            self.component_appid,
            component_appsecret,
            self.token_store,
            self._wire,
            clock=clock,
            refresh_margin=refresh_margin,
        )

    def __repr__(self) -> str:
        return (
            f"ComponentClient(component_appid={self.component_appid!r}, "
            f"base_url={self._wire.base_url!r}, token_store={self.token_store!r})"
        )

    @property
    def base_url(self) -> str:
        """Scheme and host the client sends to."""
        return self._wire.base_url

    async def aclose(self) -> None:
        """Let token refreshes in flight finish, then close the HTTP client if this client
        created it (a caller's client is left open).

        A refresh outlives the callers that started it (so that a cancelled caller strands no
        one); closing waits up to 10 seconds for such refreshes, so that a rotated refresh token
        WeChat has already issued is stored rather than lost, then cancels what is left.

        A cancellation that lands inside ``aclose()`` (a server shutting down, a job cancelled)
        still closes what this client owns, then propagates.
        """
        if self._loop is not None and self._loop is not running_loop():
            raise WrongEventLoopError(
                "aclose() was called on another event loop than the one this ComponentClient "
                "was used on: close it on its own loop"
            )
        self._closed = True
        try:
            await self._tokens.drain(wait=10.0)
        finally:
            if self._owns_http:
                await _finish_even_if_cancelled(self._wire.aclose())

    # -- feeding credentials ---------------------------------------------------------------------

    async def set_component_verify_ticket(self, ticket: str) -> None:
        """Store the ``component_verify_ticket`` pushed to the authorization-event URL (12 h).

        Raises:
            InvalidArgumentError: the ticket is empty.
        """
        await self.token_store.set_verify_ticket(self.component_appid, ticket, TICKET_TTL)

    async def set_authorizer_refresh_token(self, authorizer_appid: str, refresh_token: str) -> None:
        """Store an authorizer's ``authorizer_refresh_token`` (e.g. from ``api_query_auth``).

        Raises:
            InvalidArgumentError: an empty appid or refresh token.
        """
        check_appid("authorizer_appid", authorizer_appid)
        await self.token_store.set_refresh_token(
            self.component_appid, authorizer_appid, refresh_token
        )

    async def remove_authorizer(
        self, authorizer_appid: str, *, event: EventStamp | None = None
    ) -> bool:
        """Forget an authorizer's tokens (after it revoked the authorization).

        Args:
            authorizer_appid: the Mini Program's appid.
            event: the ``unauthorized`` push this comes from (the callback handler passes it):
                nothing is deleted when a later authorization event of this authorizer, or
                this very push, was applied already.

        Returns:
            Whether the tokens were deleted (``False``: a stale or repeated event).

        Raises:
            InvalidArgumentError: an empty appid. TokenStoreError: the store failed.
        """
        check_appid("authorizer_appid", authorizer_appid)
        return await self.token_store.delete_authorizer(
            self.component_appid, authorizer_appid, event=event
        )

    async def component_access_token(self) -> str:
        """Return a valid ``component_access_token`` (for endpoints this SDK does not wrap).

        Raises:
            MissingVerifyTicketError: no ticket stored. WeChatAPIError: the token endpoint refused.
            ClientClosedError, WrongEventLoopError: the client cannot be used here.
        """
        self._check_usable()
        return (await self._closed_means_closed(self._tokens.component_token())).value

    async def authorizer_access_token(self, authorizer_appid: str) -> str:
        """Return a valid ``authorizer_access_token`` (for endpoints this SDK does not wrap).

        Raises:
            MissingRefreshTokenError: no refresh token stored. WeChatAPIError: WeChat refused.
            InvalidArgumentError: a malformed appid.
            ClientClosedError, WrongEventLoopError: the client cannot be used here.
        """
        check_appid("authorizer_appid", authorizer_appid)
        self._check_usable()
        token = await self._closed_means_closed(self._tokens.authorizer_token(authorizer_appid))
        return token.value

    def _check_usable(self) -> None:
        """Refuse a call on a closed client, or from another event loop than its own."""
        if self._closed:
            raise ClientClosedError(
                "this ComponentClient was closed (aclose()); create a new client"
            )
        loop = running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise WrongEventLoopError(
                "this ComponentClient was first used on another event loop; a client belongs to "
                "one loop: create one per loop (per worker process, or per asyncio.run)"
            )

    def _closed_instead(self, exc: Exception) -> None:
        """Raise a typed "client is closed" error for what the HTTP library raised (its own
        RuntimeError, a connection it closed under the call) when aclose() closed the client
        while the call was running; else return (re-raise ``exc``).
        """
        if self._closed and (
            isinstance(exc, TransportError) or not isinstance(exc, WxPrivacyError)
        ):
            raise ClientClosedError(
                "this ComponentClient was closed (aclose()) while the call was running"
            ) from None

    async def _closed_means_closed(self, work: Awaitable[T]) -> T:
        """Await ``work``, turning a closed client's RuntimeError into ClientClosedError."""
        try:
            return await work
        except RuntimeError as exc:
            self._closed_instead(exc)
            raise

    # -- generic calls ---------------------------------------------------------------------------

    def _component_call(
        self, endpoint: str, body: dict[str, Any], *, idempotent: bool = True
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        """POST ``body`` to a component-level ``endpoint`` with the ``component_access_token``
        (a plain function returning the call: no frame of its own while the call waits)."""
        return self._call(None, "POST", endpoint, body, None, idempotent, None)

    def _authorizer_call(
        self,
        authorizer_appid: str,
        method: str,
        endpoint: str,
        body: Any = None,
        *,
        files: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        """Call an authorizer-level ``endpoint`` with the authorizer's access token.

        Raises:
            InvalidArgumentError: a malformed appid (at once, before anything is awaited).
        """
        check_appid("authorizer_appid", authorizer_appid)
        return self._call(authorizer_appid, method, endpoint, body, files, idempotent, None)

    async def _call(
        self,
        authorizer_appid: str | None,
        method: str,
        endpoint: str,
        body: Any,
        files: Mapping[str, Any] | None,
        idempotent: bool,
        token_param: str | None,
    ) -> dict[str, Any]:
        """The one authenticated call: admission, the token, the wire call. ``token_param`` is
        the query parameter carrying the token (default ``access_token`` for an authorizer,
        ``component_access_token`` for the component).

        At most ``ADMITTED_PER_CONNECTION * max_connections`` calls are inside the client at
        once (token lookups and refreshes, the connection queue, exchanges); the rest wait in
        line here, first come first served, within their ``call_timeout``, holding little: a
        burst of 100,000 calls costs under 3 KB each (``benchmarks/bench_burst.py``).

        Raises:
            InvalidArgumentError: ``body`` is not JSON (before anything waits or is sent).
            TransportError: ``call_timeout`` passed in line (``maybe_sent=False``), or as for
                any call. ClientClosedError, WrongEventLoopError, and the call's own errors.
        """
        self._check_usable()
        try:  # before the line: a body that cannot be sent fails at once (bytes are exact-size)
            content: bytes | None
            if body is None or type(body) is _serde.JSONBytes:
                content = body
            else:
                content = _serde.dumps(body)
        except TypeError as exc:
            raise InvalidArgumentError(f"the body of {endpoint} is not JSON: {exc}") from None
        admission, wire = self._admission, self._wire
        waited = 0.0
        if not admission.try_take():
            started = wire.timer()
            waiter = admission.waiter(asyncio.get_running_loop().time() + wire.call_timeout)
            try:
                await waiter
            except BaseException as exc:
                admission.abandon(waiter)
                if not isinstance(exc, TimeoutError):
                    raise
                what = f"call_timeout={wire.call_timeout:g} s passed waiting for a free connection"
                raise late_error(endpoint, what, maybe_sent=False) from None
            waited = wire.timer() - started
        try:
            token_name = token_param or (
                "access_token" if authorizer_appid else "component_access_token"
            )
            # the wire call's arguments are passed along, not captured: no closure (and no
            # cell per captured variable) in a call waiting in line or in flight
            if authorizer_appid is None:
                return await self._tokens.with_component_token(
                    wire.call_with, token_name, method, endpoint, content, files, idempotent,
                    waited, None,
                )  # fmt: skip
            return await self._tokens.with_authorizer_token(
                authorizer_appid, wire.call_with, token_name, method, endpoint, content, files,
                idempotent, waited, authorizer_appid,
            )  # fmt: skip
        except (RuntimeError, TransportError) as exc:
            self._closed_instead(exc)
            raise
        finally:
            admission.release()
