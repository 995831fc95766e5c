"""ComponentClient: one small async method per WeChat endpoint, all through the token manager."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Final, Self

import attrs
import httpx

from . import _serde
from ._batch import as_completed_bounded, check_concurrency
from ._errors import (
    ComponentCredentialError,
    InvalidArgumentError,
    ResponseFormatError,
    TokenInvalidError,
    WxPrivacyError,
)
from ._http import DEFAULT_TIMEOUT, WireClient
from ._retry import RetryPolicy
from ._stores import TICKET_TTL, MemoryTokenStore, TokenStore
from ._tokens import DEFAULT_REFRESH_MARGIN, AccessToken, TokenManager
from ._wire import require_seconds, require_str
from .models import PrivacySetting

__all__ = ["AuthorizerListItem", "ComponentClient", "endpoints"]

DEFAULT_BASE_URL: Final = "https://api.weixin.qq.com"


class endpoints:  # noqa: N801 - a namespace of constants
    """The WeChat paths this client calls."""

    COMPONENT_TOKEN: Final = "/cgi-bin/component/api_component_token"
    AUTHORIZER_TOKEN: Final = "/cgi-bin/component/api_authorizer_token"
    AUTHORIZER_LIST: Final = "/cgi-bin/component/api_get_authorizer_list"
    GET_PRIVACY_SETTING: Final = "/cgi-bin/component/getprivacysetting"


@attrs.frozen(repr=False)
class AuthorizerListItem:
    """One entry of ``/cgi-bin/component/api_get_authorizer_list``.

    Attributes:
        authorizer_appid: the authorized account's appid.
        refresh_token: its current ``authorizer_refresh_token`` (hidden from ``repr``).
        auth_time: Unix seconds at which it authorized the platform (0 when absent).
    """

    authorizer_appid: str
    refresh_token: str
    auth_time: int = 0

    def __repr__(self) -> str:
        return (
            f"AuthorizerListItem(authorizer_appid={self.authorizer_appid!r}, "
            f"auth_time={self.auth_time})"
        )


def _check_privacy_ver(privacy_ver: int) -> int:
    if isinstance(privacy_ver, bool) or privacy_ver not in (1, 2):
        raise InvalidArgumentError(
            f"privacy_ver must be 1 (live version) or 2 (development version), got {privacy_ver!r}"
        )
    return privacy_ver


def _check_appid(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{name} must be a non-empty string, got {value!r}")
    return value


class ComponentClient:
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
            ``None`` the client creates its own and closes it in :meth:`aclose`.
        base_url: scheme and host of the API.
        retry: retry policy for transient failures; ``RetryPolicy()`` (4 attempts, 0.5 s
            initial backoff, 8 s cap) when ``None``.
        timeout: seconds (or an ``httpx.Timeout``) for the client it creates itself.
        refresh_margin: seconds before expiry at which tokens are refreshed.
        clock: returns the current Unix time in seconds (tests inject a fake).
        sleep: awaitable sleep in seconds used between retries (tests inject a fake).

    Raises:
        InvalidArgumentError: an empty appid or appsecret.
    """

    def __init__(
        self,
        component_appid: str,
        component_appsecret: str,
        *,
        token_store: TokenStore | None = None,
        http_client: httpx.AsyncClient | None = None,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.component_appid = _check_appid("component_appid", component_appid)
        if not isinstance(component_appsecret, str) or not component_appsecret:
            raise InvalidArgumentError("component_appsecret must be a non-empty string")
        self._appsecret = component_appsecret
        self.token_store: TokenStore = (
            token_store if token_store is not None else MemoryTokenStore()
        )
        self._owns_http = http_client is None
        if http_client is None:
            http_client = httpx.AsyncClient(timeout=timeout)
        self.retry = retry if retry is not None else RetryPolicy()
        self._clock = clock
        self._wire = WireClient(
            http_client, base_url=base_url, retry=self.retry, clock=clock, sleep=sleep
        )
        self._tokens = TokenManager(
            self.component_appid, self.token_store, self, clock=clock, refresh_margin=refresh_margin
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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it (a caller's client is left open)."""
        if self._owns_http:
            await self._wire.http.aclose()

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
        _check_appid("authorizer_appid", authorizer_appid)
        await self.token_store.set_refresh_token(
            self.component_appid, authorizer_appid, refresh_token
        )

    async def remove_authorizer(self, authorizer_appid: str) -> None:
        """Forget an authorizer's tokens (after it revoked the authorization)."""
        await self.token_store.delete_authorizer(self.component_appid, authorizer_appid)

    async def component_access_token(self) -> str:
        """Return a valid ``component_access_token`` (for endpoints this SDK does not wrap).

        Raises:
            MissingVerifyTicketError: no ticket stored. WeChatAPIError: the token endpoint refused.
        """
        return (await self._tokens.component_token()).value

    async def authorizer_access_token(self, authorizer_appid: str) -> str:
        """Return a valid ``authorizer_access_token`` (for endpoints this SDK does not wrap).

        Raises:
            MissingRefreshTokenError: no refresh token stored. WeChatAPIError: WeChat refused.
        """
        return (
            await self._tokens.authorizer_token(_check_appid("authorizer_appid", authorizer_appid))
        ).value

    # -- token endpoints (TokenFetcher) ----------------------------------------------------------

    async def fetch_component_token(self, ticket: str) -> AccessToken:
        """POST ``/cgi-bin/component/api_component_token``; return the new component token."""
        endpoint = endpoints.COMPONENT_TOKEN
        body = {
            "component_appid": self.component_appid,
            "component_appsecret": self._appsecret,
            "component_verify_ticket": ticket,
        }
        sent_at = self._clock()
        try:
            data = await self._wire.call("POST", endpoint, content=_serde.dumps(body))
        except TokenInvalidError as exc:
            # At the token endpoint itself, 40001 means a wrong appsecret: never "refresh" it.
            raise ComponentCredentialError(
                exc.errcode,
                exc.errmsg + " (check component_appsecret)",
                rid=exc.rid,
                endpoint=endpoint,
            ) from None
        value = require_str(data, "component_access_token", endpoint=endpoint)
        expires_in = require_seconds(data, "expires_in", endpoint=endpoint, default=7200)
        return AccessToken(value, sent_at + expires_in)

    async def fetch_authorizer_token(
        self, component_access_token: str, authorizer_appid: str, refresh_token: str
    ) -> tuple[AccessToken, str | None]:
        """POST ``/cgi-bin/component/api_authorizer_token``; return the token and refresh token."""
        endpoint = endpoints.AUTHORIZER_TOKEN
        body = {
            "component_appid": self.component_appid,
            "authorizer_appid": authorizer_appid,
            "authorizer_refresh_token": refresh_token,
        }
        sent_at = self._clock()
        data = await self._wire.call(
            "POST",
            endpoint,
            token=("component_access_token", component_access_token),
            content=_serde.dumps(body),
        )
        value = require_str(data, "authorizer_access_token", endpoint=endpoint)
        expires_in = require_seconds(data, "expires_in", endpoint=endpoint, default=7200)
        rotated = data.get("authorizer_refresh_token")
        return AccessToken(value, sent_at + expires_in), rotated if isinstance(
            rotated, str
        ) and rotated else None

    # -- generic calls ---------------------------------------------------------------------------

    async def _component_call(
        self, endpoint: str, body: dict[str, Any], *, idempotent: bool = True
    ) -> dict[str, Any]:
        content = _serde.dumps(body)

        async def call(token: str) -> dict[str, Any]:
            return await self._wire.call(
                "POST",
                endpoint,
                token=("component_access_token", token),
                content=content,
                idempotent=idempotent,
            )

        return await self._tokens.with_component_token(call)

    async def _authorizer_call(
        self,
        authorizer_appid: str,
        method: str,
        endpoint: str,
        body: Any = None,
        *,
        files: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        _check_appid("authorizer_appid", authorizer_appid)
        content = None if body is None else _serde.dumps(body)

        async def call(token: str) -> dict[str, Any]:
            return await self._wire.call(
                method,
                endpoint,
                token=("access_token", token),
                content=content,
                files=files,
                idempotent=idempotent,
            )

        return await self._tokens.with_authorizer_token(authorizer_appid, call)

    # -- authorizers -----------------------------------------------------------------------------

    async def iter_authorizers(
        self, *, page_size: int = 500, store_refresh_tokens: bool = False
    ) -> AsyncIterator[AuthorizerListItem]:
        """Yield every authorizer of the platform, page by page.

        Wraps ``POST /cgi-bin/component/api_get_authorizer_list`` (``count`` at most 500).

        Args:
            page_size: authorizers per request, 1 to 500.
            store_refresh_tokens: also store each listed ``refresh_token`` (recovery after a lost
                store or a 61023).

        Raises:
            InvalidArgumentError: page_size out of range. WeChatAPIError, TransportError,
            ResponseFormatError: as for any call.
        """
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= 500
        ):
            raise InvalidArgumentError(f"page_size must be an int from 1 to 500, got {page_size!r}")
        endpoint = endpoints.AUTHORIZER_LIST
        offset = 0
        while True:
            body = {"component_appid": self.component_appid, "offset": offset, "count": page_size}
            data = await self._component_call(endpoint, body)
            items = _parse_authorizer_list(data, endpoint=endpoint, offset=offset)
            for item in items:
                if store_refresh_tokens and item.refresh_token:
                    await self.token_store.set_refresh_token(
                        self.component_appid, item.authorizer_appid, item.refresh_token
                    )
                yield item
            offset += len(items)
            total = data.get("total_count")
            if not items or (isinstance(total, int) and offset >= total):
                return

    async def reload_refresh_tokens(self, *, page_size: int = 500) -> int:
        """Store every authorizer's current refresh token from ``api_get_authorizer_list``.

        The recovery after a ``61023`` (refresh token invalid) or a lost store: pages through
        ``POST /cgi-bin/component/api_get_authorizer_list`` and writes each non-empty
        ``refresh_token`` to the token store (entries without one are left as they are).

        Returns:
            How many refresh tokens were stored.

        Raises:
            As :meth:`iter_authorizers`; TokenStoreError when the store fails.
        """
        stored = 0
        async for item in self.iter_authorizers(page_size=page_size, store_refresh_tokens=True):
            if item.refresh_token:
                stored += 1
        return stored

    # -- privacy guidelines ----------------------------------------------------------------------

    async def get_privacy_setting(
        self, authorizer_appid: str, privacy_ver: int = 2
    ) -> PrivacySetting:
        """Read one Mini Program's user privacy protection guideline.

        Wraps ``POST /cgi-bin/component/getprivacysetting?access_token=<authorizer_access_token>``
        with body ``{"privacy_ver": privacy_ver}``.

        Args:
            authorizer_appid: the Mini Program.
            privacy_ver: ``2`` the development version (default), ``1`` the live version.

        Raises:
            InvalidArgumentError: privacy_ver is not 1 or 2 (nothing is sent).
            MissingRefreshTokenError / MissingVerifyTicketError: a credential is not stored.
            PrivacyConfigError: e.g. 86074 when ``privacy_ver=1`` and nothing is live.
            PermissionDeniedError: 48001/61007, permission set 18 not granted.
            TransportError, ResponseFormatError, WeChatAPIError: as for any call.
        """
        _check_privacy_ver(privacy_ver)
        endpoint = endpoints.GET_PRIVACY_SETTING
        data = await self._authorizer_call(
            authorizer_appid, "POST", endpoint, {"privacy_ver": privacy_ver}
        )
        return _serde.structure_response(data, PrivacySetting, endpoint=endpoint)

    async def iter_privacy_settings(
        self,
        authorizer_appids: Iterable[str] | AsyncIterable[str],
        privacy_ver: int = 2,
        *,
        concurrency: int = 16,
    ) -> AsyncIterator[tuple[str, PrivacySetting | WxPrivacyError]]:
        """Yield ``(authorizer_appid, PrivacySetting or the error)`` as each fetch completes.

        Appids are pulled lazily, so 100,000 authorizers never sit in memory at once; at most
        ``concurrency`` requests run at a time. Wraps ``/cgi-bin/component/getprivacysetting``.

        Raises:
            InvalidArgumentError: bad privacy_ver or concurrency (before anything is sent).
        """
        _check_privacy_ver(privacy_ver)
        check_concurrency(concurrency)

        async def fetch(appid: str) -> PrivacySetting:
            return await self.get_privacy_setting(appid, privacy_ver)

        async for item in as_completed_bounded(authorizer_appids, fetch, concurrency):
            yield item

    async def get_privacy_settings(
        self, authorizer_appids: Iterable[str], privacy_ver: int = 2, *, concurrency: int = 16
    ) -> dict[str, PrivacySetting | WxPrivacyError]:
        """Fetch many guidelines concurrently; one failure never loses the others' results.

        Wraps ``/cgi-bin/component/getprivacysetting`` once per authorizer.

        Returns:
            ``{authorizer_appid: PrivacySetting or WxPrivacyError}``, keys in input order
            (a repeated appid is fetched once).

        Raises:
            InvalidArgumentError: bad privacy_ver or concurrency (before anything is sent).
        """
        appids = list(dict.fromkeys(authorizer_appids))
        results: dict[str, PrivacySetting | WxPrivacyError] = {}
        async for appid, result in self.iter_privacy_settings(
            appids, privacy_ver, concurrency=concurrency
        ):
            results[appid] = result
        return {appid: results[appid] for appid in appids}


def _parse_authorizer_list(
    data: dict[str, Any], *, endpoint: str, offset: int
) -> list[AuthorizerListItem]:
    raw = data.get("list")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ResponseFormatError(
            f"list in the response from {endpoint} is not an array", field_path="list"
        )
    items = []
    for index, entry in enumerate(raw):
        path = f"list[{index}]"
        if not isinstance(entry, dict):
            raise ResponseFormatError(f"{path} from {endpoint} is not an object", field_path=path)
        appid = entry.get("authorizer_appid")
        if not isinstance(appid, str) or not appid:
            raise ResponseFormatError(
                f"{path}.authorizer_appid from {endpoint} is missing or not a string",
                field_path=f"{path}.authorizer_appid",
            )
        refresh = entry.get("refresh_token")
        auth_time = entry.get("auth_time", 0)
        items.append(
            AuthorizerListItem(
                authorizer_appid=appid,
                refresh_token=refresh if isinstance(refresh, str) else "",
                auth_time=int(auth_time)
                if isinstance(auth_time, int | str) and str(auth_time).isdigit()
                else 0,
            )
        )
    return items
