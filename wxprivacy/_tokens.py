"""The token chain's refresh logic: one path for both token kinds.

The chain is ``component_verify_ticket`` → ``component_access_token`` → ``authorizer_access_token``
(refreshed with the ``authorizer_refresh_token``). For each token:

1. read the store; a token that is not within ``refresh_margin`` seconds of expiry is used as is;
2. otherwise join the one refresh in flight in this process for that token (single flight: the
   refresh runs in its own task, so a cancelled caller neither cancels nor strands the others);
3. the refresh takes the store's lock for that token (which yields a :class:`Fence`), reads the
   store again (another process may have refreshed meanwhile), and only then calls WeChat;
4. it writes what WeChat answered *with the fence*: the store refuses the write when someone took
   the lock since, or a new authorization or revocation happened since, so a refresher that
   outlived its lease never replaces newer tokens (the newer ones are then read back and used);
5. if an early refresh fails while the old token is still valid, the old token keeps serving,
   and no early refresh of that token is tried again for :data:`EARLY_RETRY_DELAY` seconds (so
   every call inside the margin does not hit WeChat again while it refuses).

A token WeChat rejects (40001/40014/42001) is deleted only if the store still holds that very
value, then fetched again once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, Protocol, TypeVar

from ._checks import check_seconds
from ._errors import (
    MissingRefreshTokenError,
    MissingVerifyTicketError,
    TokenInvalidError,
    TokenStoreError,
    WxPrivacyError,
)
from ._memory_store import MemoryTokenStore
from ._stores import AccessToken, Fence, TokenStore
from ._token_endpoints import request_authorizer_token, request_component_token

if TYPE_CHECKING:
    from ._http import WireClient

__all__ = ["DEFAULT_REFRESH_MARGIN", "TokenManager"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_REFRESH_MARGIN: Final = 300.0
"""Seconds before ``expires_at`` at which a token is refreshed."""
EARLY_RETRY_DELAY: Final = 30.0
"""Seconds after a failed early refresh before the next early attempt (the still-valid token
serves meanwhile); a token past its usable life is refreshed at once regardless."""

_Fetched = tuple[AccessToken, str | None, str | None]
"""What a refresh got: the access token, the refresh token it used, the rotated one."""


class _Kind(Protocol):
    """One kind of token, as the refresh path needs it."""

    @property
    def lock_name(self) -> str: ...

    @property
    def label(self) -> str: ...

    async def read(self) -> AccessToken | None: ...

    def peek(self, store: MemoryTokenStore) -> AccessToken | None: ...

    async def invalidate(self, value: str) -> None: ...

    async def fetch(self) -> _Fetched: ...

    async def write(self, fetched: _Fetched, fence: Fence) -> bool: ...


class _ComponentKind:
    """The ``component_access_token``, fetched with the verify ticket."""

    lock_name = "component"
    label = "component_access_token"

    def __init__(self, manager: TokenManager) -> None:
        self._m = manager

    async def read(self) -> AccessToken | None:
        return await self._m.store.get_component_token(self._m.component_appid)

    def peek(self, store: MemoryTokenStore) -> AccessToken | None:
        return store._peek_component_token(self._m.component_appid)

    async def invalidate(self, value: str) -> None:
        await self._m.store.invalidate_component_token(self._m.component_appid, value)

    async def fetch(self) -> _Fetched:
        m = self._m
        ticket = await m.store.get_verify_ticket(m.component_appid)
        if not ticket:
            raise MissingVerifyTicketError(
                f"no component_verify_ticket stored for component {m.component_appid}; "
                "feed it from the authorization-event callback "
                "(set_component_verify_ticket) before calling the API"
            )
        token = await request_component_token(
            m.wire,
            component_appid=m.component_appid,
            component_appsecret=m._appsecret,
            ticket=ticket,
            clock=m.clock,
        )
        return token, None, None

    async def write(self, fetched: _Fetched, fence: Fence) -> bool:
        return await self._m.store.set_component_token(
            self._m.component_appid, fetched[0], fence=fence
        )


class _AuthorizerKind:
    """One authorizer's ``authorizer_access_token``, fetched with its refresh token."""

    __slots__ = ("_appid", "_m")

    def __init__(self, manager: TokenManager, authorizer_appid: str) -> None:
        self._m = manager
        self._appid = authorizer_appid

    # built when needed: most calls find a fresh token and never use them
    @property
    def lock_name(self) -> str:
        return f"authorizer:{self._appid}"

    @property
    def label(self) -> str:
        return f"authorizer_access_token of {self._appid}"

    async def read(self) -> AccessToken | None:
        return await self._m.store.get_authorizer_token(self._m.component_appid, self._appid)

    def peek(self, store: MemoryTokenStore) -> AccessToken | None:
        return store._peek_authorizer_token(self._m.component_appid, self._appid)

    async def invalidate(self, value: str) -> None:
        await self._m.store.invalidate_authorizer_token(self._m.component_appid, self._appid, value)

    async def fetch(self) -> _Fetched:
        m, appid = self._m, self._appid
        refresh_token = await m.store.get_refresh_token(m.component_appid, appid)
        if not refresh_token:
            raise MissingRefreshTokenError(appid)

        async def call(component_access_token: str) -> tuple[AccessToken, str | None]:
            return await request_authorizer_token(
                m.wire,
                component_appid=m.component_appid,
                component_access_token=component_access_token,
                authorizer_appid=appid,
                refresh_token=refresh_token,
                clock=m.clock,
            )

        token, rotated = await m.with_component_token(call)
        return token, refresh_token, rotated

    async def write(self, fetched: _Fetched, fence: Fence) -> bool:
        token, used, rotated = fetched
        assert used is not None
        rotated_now = rotated is not None and rotated != used
        try:
            written = await self._m.store.set_authorizer_tokens(
                self._m.component_appid, self._appid, token, rotated or used, fence=fence
            )
        except TokenStoreError:
            if rotated_now:
                logger.error(
                    "the rotated authorizer_refresh_token of %s could not be stored; the old "
                    "one stays valid for about 5 minutes: when the store is back, run "
                    "reload_refresh_tokens() to fetch the current one",
                    self._appid,
                )
            raise
        if written and rotated_now:
            logger.info("authorizer_refresh_token of %s was rotated and stored", self._appid)
        return written


class TokenManager:
    """Hands out valid tokens for one component, refreshing each at most once at a time.

    Args:
        component_appid: the third-party platform's appid.
        component_appsecret: its appsecret (sent only to ``api_component_token``).
        store: where tickets and tokens live.
        wire: sends the token requests.
        clock: returns the current Unix time in seconds.
        refresh_margin: seconds before expiry at which a token is refreshed (0 to 86,400).

    Raises:
        InvalidArgumentError: ``refresh_margin`` is not such a number.
    """

    def __init__(
        self,
        component_appid: str,
        component_appsecret: str,
        store: TokenStore,
        wire: WireClient,
        *,
        clock: Callable[[], float],
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        self.component_appid = component_appid
        self._appsecret = component_appsecret
        self.store = store
        self.wire = wire
        self.clock = clock
        self._margin = check_seconds("refresh_margin", refresh_margin, high=86_400.0)
        self._flights: dict[str, asyncio.Future[AccessToken]] = {}
        self._early_failed: dict[str, float] = {}
        """Lock name -> Unix seconds until which no early refresh is tried (after a failure)."""
        self._component = _ComponentKind(self)
        # A plain memory store (not a subclass, which may read differently) is read without an
        # await: a warm token then costs no coroutine.
        self._memory = store if type(store) is MemoryTokenStore else None

    def __repr__(self) -> str:
        return f"TokenManager(component_appid={self.component_appid!r})"

    async def component_token(self) -> AccessToken:
        """Return a valid ``component_access_token``, refreshing it if needed.

        Raises:
            MissingVerifyTicketError: no ticket is stored (nothing is sent).
            WeChatAPIError: ``api_component_token`` refused (e.g. ComponentCredentialError).
        """
        return await self._token(self._component)

    async def authorizer_token(self, authorizer_appid: str) -> AccessToken:
        """Return a valid ``authorizer_access_token`` for ``authorizer_appid``.

        Raises:
            MissingRefreshTokenError: no refresh token is stored for it (nothing is sent).
            WeChatAPIError: ``api_authorizer_token`` refused (e.g. 61023).
        """
        return await self._token(_AuthorizerKind(self, authorizer_appid))

    def with_component_token(
        self,
        call: Callable[Concatenate[str, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Coroutine[Any, Any, T]:
        """Run ``call(component_access_token, *args, **kwargs)``; on a rejected token refresh
        once and retry once.

        Raises:
            TokenInvalidError: the freshly fetched token was rejected too.
        """
        return self._with_token(self._component, call, *args, **kwargs)

    def with_authorizer_token(
        self,
        authorizer_appid: str,
        call: Callable[Concatenate[str, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Coroutine[Any, Any, T]:
        """Run ``call(authorizer_access_token, *args, **kwargs)``; on a rejected token refresh
        once and retry once.

        Raises:
            TokenInvalidError: the freshly fetched token was rejected too.
        """
        return self._with_token(_AuthorizerKind(self, authorizer_appid), call, *args, **kwargs)

    async def drain(self, *, wait: float) -> None:
        """Wait up to ``wait`` seconds for refreshes in flight, then cancel the rest."""
        flights = list(self._flights.values())
        if not flights:
            return
        _, pending = await asyncio.wait(flights, timeout=wait)
        for flight in pending:
            flight.cancel()
        if pending:
            # bounded: a refresh that absorbs its cancellation must not hang aclose()
            await asyncio.wait(pending, timeout=1.0)

    # -- the one refresh path --------------------------------------------------------------------

    async def _token(self, kind: _Kind) -> AccessToken:
        return await self._refresh_if_due(kind, await kind.read())

    async def _refresh_if_due(self, kind: _Kind, token: AccessToken | None) -> AccessToken:
        """``token`` (just read) if it is fresh or may still serve, else a refreshed one."""
        if token is not None:
            now = self.clock()
            if token.is_fresh(now, self._margin):
                return token
            if self._early_failed and self._backing_off(kind.lock_name, token, now):
                return token
        return await self._single_flight(kind.lock_name, lambda: self._refresh(kind))

    def _backing_off(self, key: str, token: AccessToken, now: float) -> bool:
        """Whether an early refresh of ``key`` failed less than EARLY_RETRY_DELAY ago."""
        until = self._early_failed.get(key)
        if until is None:
            return False
        if now < until and token.is_usable(now):
            return True
        del self._early_failed[key]
        return False

    async def _refresh(self, kind: _Kind, *, force: bool = False) -> AccessToken:
        token, refused_rotation = await self._refresh_once(kind, force=force)
        if refused_rotation and not force:
            # Our request may have reached WeChat after the newer holder's, so the token it
            # rotated to may be WeChat's current one and the stored one superseded (valid only
            # for the grace period). One more refresh from the stored token, under the lock,
            # leaves a current token in the store whichever order WeChat saw.
            logger.warning(
                "refreshing %s once more so the store holds WeChat's current refresh token",
                kind.label,
            )
            token, _ = await self._refresh_once(kind, force=True)
        return token

    async def _refresh_once(self, kind: _Kind, *, force: bool) -> tuple[AccessToken, bool]:
        """One refresh under the lock; returns the token and whether a rotated refresh token
        was refused by the store (fenced off)."""
        async with self.store.lock(self.component_appid, kind.lock_name) as fence:
            current = await kind.read()
            if not force and current is not None and current.is_fresh(self.clock(), self._margin):
                return current, False
            try:
                fetched_at = self.clock()
                fetched = await kind.fetch()
            except WxPrivacyError as exc:
                return self._keep_serving(current, exc, kind), False
            self._early_failed.pop(kind.lock_name, None)
            token = fetched[0].with_refresh_margin(fetched_at, self._margin)
            fetched = (token, fetched[1], fetched[2])
            if await kind.write(fetched, fence):
                logger.info("refreshed %s for %s", kind.label, self.component_appid)
                return token, False
            # Fenced off: another worker took the lock after ours lapsed, or the authorizer was
            # authorized or revoked meanwhile. What the store holds now is newer than ours.
            logger.warning(
                "refreshed %s, but the store refused the write (a newer refresh, authorization "
                "or revocation happened meanwhile); the stored tokens are kept",
                kind.label,
            )
            rotated = fetched[2] is not None and fetched[2] != fetched[1]
            newer = await kind.read()
            if newer is not None and newer.is_usable(self.clock()):
                return newer, rotated
            return token, rotated  # WeChat just issued it: good for this call, not stored

    async def _with_token(
        self,
        kind: _Kind,
        call: Callable[Concatenate[str, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        memory = self._memory
        if memory is not None and _unpatched(memory):
            token = kind.peek(memory)
        else:
            token = await kind.read()
        if token is None or not token.is_fresh(self.clock(), self._margin):
            token = await self._refresh_if_due(kind, token)
        try:
            return await call(token.value, *args, **kwargs)
        except TokenInvalidError:
            logger.warning("%s was rejected; refreshing once", kind.label)
            await kind.invalidate(token.value)
        token = await self._token(kind)
        try:
            return await call(token.value, *args, **kwargs)
        except TokenInvalidError:
            await kind.invalidate(token.value)  # never reuse a rejected token
            raise

    def _keep_serving(
        self, current: AccessToken | None, exc: WxPrivacyError, kind: _Kind
    ) -> AccessToken:
        now = self.clock()
        if current is not None and current.is_usable(now):
            self._early_failed[kind.lock_name] = now + EARLY_RETRY_DELAY
            logger.warning(
                "early refresh of %s failed (%s); the current token stays in use, next early "
                "attempt in %g s",
                kind.label,
                exc,
                EARLY_RETRY_DELAY,
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

    def _landed(self, key: str, flight: asyncio.Future[AccessToken]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # mark retrieved: every waiter got it already


def _unpatched(store: MemoryTokenStore) -> bool:
    """Whether the reads of a plain :class:`MemoryTokenStore` may be taken without an await: no
    read replaced on the instance or the class (as ``unittest.mock.patch.object`` does in a
    user's tests, at any time), which must then be called."""
    own = vars(store)  # written out, not a loop: this runs on every call
    return (
        "get_authorizer_token" not in own
        and "get_component_token" not in own
        and MemoryTokenStore.get_authorizer_token is _GET_AUTHORIZER_TOKEN
        and MemoryTokenStore.get_component_token is _GET_COMPONENT_TOKEN
    )


_GET_AUTHORIZER_TOKEN: Final = MemoryTokenStore.get_authorizer_token
_GET_COMPONENT_TOKEN: Final = MemoryTokenStore.get_component_token
