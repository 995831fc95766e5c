"""AccessToken values and the refresh logic: single flight, early refresh, compare-and-invalidate.

The chain is ``component_verify_ticket`` → ``component_access_token`` → ``authorizer_access_token``
(refreshed with the ``authorizer_refresh_token``). For each token:

1. read the store; a token that is not within ``refresh_margin`` seconds of expiry is used as is;
2. otherwise join the one refresh in flight in this process for that token (single flight: the
   refresh runs in its own task, so a cancelled caller neither cancels nor strands the others);
3. the refresh takes the store's lock for that token, reads the store again (another process may
   have refreshed meanwhile), and only then calls WeChat;
4. if an early refresh fails while the old token is still valid, the old token keeps serving.

A token WeChat rejects (40001/40014/42001) is deleted only if the store still holds that very
value, then fetched again once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

import attrs

from ._errors import (
    MissingRefreshTokenError,
    MissingVerifyTicketError,
    TokenInvalidError,
    TokenStoreError,
    WxPrivacyError,
)

if TYPE_CHECKING:
    from ._stores import TokenStore

__all__ = ["AccessToken", "TokenFetcher", "TokenManager"]

logger = logging.getLogger("wxprivacy")
T = TypeVar("T")

DEFAULT_REFRESH_MARGIN: Final = 300.0
"""Seconds before ``expires_at`` at which a token is refreshed."""
_USABLE_SKEW: Final = 30.0
"""Seconds before ``expires_at`` after which a token is no longer served at all."""


@attrs.frozen(repr=False)
class AccessToken:
    """An access token and when it expires.

    Attributes:
        value: the token string (never shown by ``repr``).
        expires_at: Unix time in seconds at which WeChat stops accepting it.
        refresh_at: Unix time in seconds from which it should be refreshed; ``None`` means
            ``expires_at`` minus the manager's refresh margin. Set for short-lived tokens so a
            lifetime at or below the margin does not cause a refresh on every call.
    """

    value: str
    expires_at: float
    refresh_at: float | None = attrs.field(default=None, kw_only=True)

    def __repr__(self) -> str:
        return f"AccessToken(value='***', expires_at={self.expires_at:.0f})"

    def is_fresh(self, now: float, margin: float) -> bool:
        """True until ``refresh_at`` (or while more than ``margin`` seconds remain)."""
        if self.refresh_at is not None:
            return now < self.refresh_at
        return now < self.expires_at - margin

    def with_refresh_time(self, fetched_at: float, margin: float) -> AccessToken:
        """This token with ``refresh_at`` set: ``margin`` before expiry, or half-way through
        its lifetime when that is shorter (fetched_at: Unix seconds when it was requested)."""
        lifetime = max(0.0, self.expires_at - fetched_at)
        return attrs.evolve(self, refresh_at=self.expires_at - min(margin, lifetime / 2))

    def is_usable(self, now: float) -> bool:
        """True while the token may still be sent (30 s of clock skew allowed)."""
        return now < self.expires_at - _USABLE_SKEW


class TokenFetcher(Protocol):
    """The two token endpoints, as the TokenManager needs them (implemented by the client)."""

    async def fetch_component_token(self, ticket: str) -> AccessToken:
        """Call ``/cgi-bin/component/api_component_token`` with the verify ticket."""
        ...

    async def fetch_authorizer_token(
        self, component_access_token: str, authorizer_appid: str, refresh_token: str
    ) -> tuple[AccessToken, str | None]:
        """Call ``/cgi-bin/component/api_authorizer_token``; return the token and the
        (possibly rotated) refresh token, ``None`` when the answer carried none."""
        ...


class TokenManager:
    """Hands out valid tokens for one component, refreshing each at most once at a time.

    Args:
        component_appid: the third-party platform's appid.
        store: where tickets and tokens live.
        fetcher: calls the token endpoints.
        clock: returns the current Unix time in seconds.
        refresh_margin: seconds before expiry at which a token is refreshed.
    """

    def __init__(
        self,
        component_appid: str,
        store: TokenStore,
        fetcher: TokenFetcher,
        *,
        clock: Callable[[], float],
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        self.component_appid = component_appid
        self.store = store
        self._fetcher = fetcher
        self._clock = clock
        self._margin = refresh_margin
        self._flights: dict[str, asyncio.Future[AccessToken]] = {}

    # -- component token -------------------------------------------------------------------------

    async def component_token(self) -> AccessToken:
        """Return a valid ``component_access_token``, refreshing it if needed.

        Raises:
            MissingVerifyTicketError: no ticket is stored (nothing is sent).
            WeChatAPIError: ``api_component_token`` refused (e.g. ComponentCredentialError).
        """
        token = await self.store.get_component_token(self.component_appid)
        if token is not None and token.is_fresh(self._clock(), self._margin):
            return token
        return await self._single_flight("component", self._refresh_component)

    async def _refresh_component(self) -> AccessToken:
        async with self.store.lock(self.component_appid, "component"):
            current = await self.store.get_component_token(self.component_appid)
            if current is not None and current.is_fresh(self._clock(), self._margin):
                return current
            try:
                ticket = await self.store.get_verify_ticket(self.component_appid)
                if not ticket:
                    raise MissingVerifyTicketError(
                        f"no component_verify_ticket stored for component {self.component_appid}; "
                        "feed it from the authorization-event callback "
                        "(set_component_verify_ticket) before calling the API"
                    )
                fetched_at = self._clock()
                token = await self._fetcher.fetch_component_token(ticket)
                token = token.with_refresh_time(fetched_at, self._margin)
            except WxPrivacyError as exc:
                return self._keep_serving(current, exc, "component_access_token")
            await self.store.set_component_token(self.component_appid, token)
            logger.info("refreshed component_access_token for %s", self.component_appid)
            return token

    async def invalidate_component_token(self, value: str) -> None:
        """Forget the component token if it is still ``value`` (after WeChat rejected it)."""
        await self.store.invalidate_component_token(self.component_appid, value)

    async def with_component_token(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run ``call(component_access_token)``; on a rejected token refresh once and retry once.

        Raises:
            TokenInvalidError: the freshly fetched token was rejected too.
        """
        token = await self.component_token()
        try:
            return await call(token.value)
        except TokenInvalidError:
            logger.warning(
                "component_access_token for %s was rejected; refreshing once", self.component_appid
            )
            await self.invalidate_component_token(token.value)
        token = await self.component_token()
        try:
            return await call(token.value)
        except TokenInvalidError:
            await self.invalidate_component_token(token.value)  # never reuse a rejected token
            raise

    # -- authorizer tokens -----------------------------------------------------------------------

    async def authorizer_token(self, authorizer_appid: str) -> AccessToken:
        """Return a valid ``authorizer_access_token`` for ``authorizer_appid``.

        Raises:
            MissingRefreshTokenError: no refresh token is stored for it (nothing is sent).
            WeChatAPIError: ``api_authorizer_token`` refused (e.g. 61023).
        """
        token = await self.store.get_authorizer_token(self.component_appid, authorizer_appid)
        if token is not None and token.is_fresh(self._clock(), self._margin):
            return token
        return await self._single_flight(
            f"authorizer:{authorizer_appid}", lambda: self._refresh_authorizer(authorizer_appid)
        )

    async def _refresh_authorizer(self, authorizer_appid: str) -> AccessToken:
        comp = self.component_appid
        async with self.store.lock(comp, f"authorizer:{authorizer_appid}"):
            current = await self.store.get_authorizer_token(comp, authorizer_appid)
            if current is not None and current.is_fresh(self._clock(), self._margin):
                return current
            try:
                refresh_token = await self.store.get_refresh_token(comp, authorizer_appid)
                if not refresh_token:
                    raise MissingRefreshTokenError(authorizer_appid)
                used = refresh_token

                async def fetch(component_access_token: str) -> tuple[AccessToken, str | None]:
                    return await self._fetcher.fetch_authorizer_token(
                        component_access_token, authorizer_appid, used
                    )

                fetched_at = self._clock()
                token, rotated = await self.with_component_token(fetch)
                token = token.with_refresh_time(fetched_at, self._margin)
            except WxPrivacyError as exc:
                return self._keep_serving(
                    current, exc, f"authorizer_access_token of {authorizer_appid}"
                )
            # The rotated refresh token is stored together with (and before use of) the new token.
            try:
                await self.store.set_authorizer_tokens(
                    comp, authorizer_appid, token, rotated or refresh_token
                )
            except TokenStoreError:
                if rotated and rotated != refresh_token:
                    logger.error(
                        "the rotated authorizer_refresh_token of %s could not be stored; the old "
                        "one stays valid for about 5 minutes: when the store is back, run "
                        "reload_refresh_tokens() to fetch the current one",
                        authorizer_appid,
                    )
                raise
            if rotated and rotated != refresh_token:
                logger.info(
                    "authorizer_refresh_token of %s was rotated and stored", authorizer_appid
                )
            return token

    async def invalidate_authorizer_token(self, authorizer_appid: str, value: str) -> None:
        """Forget the authorizer's token if it is still ``value`` (after WeChat rejected it)."""
        await self.store.invalidate_authorizer_token(self.component_appid, authorizer_appid, value)

    async def with_authorizer_token(
        self, authorizer_appid: str, call: Callable[[str], Awaitable[T]]
    ) -> T:
        """Run ``call(authorizer_access_token)``; on a rejected token refresh once and retry once.

        Raises:
            TokenInvalidError: the freshly fetched token was rejected too.
        """
        token = await self.authorizer_token(authorizer_appid)
        try:
            return await call(token.value)
        except TokenInvalidError:
            logger.warning(
                "authorizer_access_token of %s was rejected; refreshing once", authorizer_appid
            )
            await self.invalidate_authorizer_token(authorizer_appid, token.value)
        token = await self.authorizer_token(authorizer_appid)
        try:
            return await call(token.value)
        except TokenInvalidError:
            await self.invalidate_authorizer_token(authorizer_appid, token.value)
            raise

    # -- plumbing --------------------------------------------------------------------------------

    def _keep_serving(
        self, current: AccessToken | None, exc: WxPrivacyError, what: str
    ) -> AccessToken:
        if current is not None and current.is_usable(self._clock()):
            logger.warning(
                "early refresh of %s failed (%s); the current token stays in use", what, exc
            )
            return current
        raise exc

    async def _single_flight(
        self, key: str, refresh: Callable[[], Awaitable[AccessToken]]
    ) -> AccessToken:
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(refresh())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        # shield: a cancelled waiter (even the one that started it) leaves the refresh running.
        return await asyncio.shield(flight)

    async def drain(self, *, wait: float) -> None:
        """Wait up to ``wait`` seconds for refreshes in flight, then cancel the rest."""
        flights = list(self._flights.values())
        if not flights:
            return
        _, pending = await asyncio.wait(flights, timeout=wait)
        for flight in pending:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)

    def _landed(self, key: str, flight: asyncio.Future[AccessToken]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # mark retrieved: every waiter got it already
