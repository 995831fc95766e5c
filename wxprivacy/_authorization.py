"""Authorization endpoints: pre-auth codes, the authorization page, query_auth, authorizers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Final
from urllib.parse import urlencode, urlsplit

import attrs

from . import _serde
from ._base import BaseClient, check_appid, endpoints
from ._checks import check_int
from ._coerce import ResponseBody
from ._errors import InvalidArgumentError, ResponseFormatError, WeChatAPIError
from ._stores import AccessToken, EventStamp
from ._token_endpoints import DEFAULT_EXPIRES_IN, present
from ._wire import MAX_LIFETIME
from .models import (
    AuthorizationInfo,
    AuthorizerDetails,
    AuthorizerListItem,
    AuthorizerPage,
    PreAuthCode,
)
from .paths import CREATE_PREAUTH_CODE, GET_AUTHORIZER_INFO, QUERY_AUTH

__all__ = [
    "AUTHORIZATION_PAGE",
    "AUTHORIZATION_PAGE_MOBILE",
    "CREATE_PREAUTH_CODE",
    "GET_AUTHORIZER_INFO",
    "QUERY_AUTH",
    "AuthorizationAPI",
]

logger = logging.getLogger(__name__)

AUTHORIZATION_PAGE: Final = "https://mp.weixin.qq.com/cgi-bin/componentloginpage"
"""The authorization page for a desktop browser (the owner scans a QR code)."""
AUTHORIZATION_PAGE_MOBILE: Final = "https://open.weixin.qq.com/wxaopen/safe/bindcomponent"
"""The authorization page opened inside WeChat on a phone."""
_AUTH_TYPES: Final = (1, 2, 3)


@attrs.frozen(kw_only=True)
class _QueryAuthAnswer(ResponseBody):
    """The answer of ``api_query_auth``: only its ``authorization_info`` is read."""

    authorization_info: AuthorizationInfo | None = None


class AuthorizationAPI(BaseClient):
    """Endpoints about which accounts authorized the platform, and how they authorize it."""

    async def create_preauth_code(self) -> PreAuthCode:
        """Create a pre-authorization code for the authorization page.

        Wraps ``POST /cgi-bin/component/api_create_preauthcode?component_access_token=...`` with
        body ``{"component_appid"}``. Each code is for one authorization; it expires after
        ``expires_in`` seconds.

        Raises:
            MissingVerifyTicketError: no verify ticket stored.
            WeChatAPIError, TransportError: as for any call.
            ResponseFormatError: the answer has no ``pre_auth_code``, or an empty one.
        """
        endpoint = CREATE_PREAUTH_CODE
        data = await self._component_call(endpoint, {"component_appid": self.component_appid})
        code = _serde.structure_response(data, PreAuthCode, endpoint=endpoint)
        if present(code.pre_auth_code) is None:  # blank means absent, as for every credential
            raise ResponseFormatError(
                f"pre_auth_code in the response from {endpoint} is missing or blank",
                endpoint=endpoint,
                field_path="pre_auth_code",
            )
        return code

    async def authorization_url(
        self,
        redirect_uri: str,
        *,
        mobile: bool = False,
        auth_type: int = 3,
        biz_appid: str | None = None,
    ) -> str:
        """Create a pre-auth code and return the authorization page URL to send the owner to.

        Calls :meth:`create_preauth_code` (``/cgi-bin/component/api_create_preauthcode``) and
        builds ``https://mp.weixin.qq.com/cgi-bin/componentloginpage?...`` (desktop) or
        ``https://open.weixin.qq.com/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1
        &...#wechat_redirect`` (``mobile=True``, inside WeChat). After authorizing, the browser
        goes to ``redirect_uri?auth_code=...&expires_in=...``; pass ``auth_code`` to
        :meth:`query_auth` (the callback's ``authorized`` event carries the same code). The URL
        contains the pre-auth code: hand it to the browser, do not log it.

        Args:
            redirect_uri: absolute http(s) URL on the platform's registered domain.
            mobile: the in-WeChat (phone) page instead of the desktop QR-code page.
            auth_type: which accounts may authorize: 1 official accounts, 2 Mini Programs,
                3 both (default).
            biz_appid: restrict the page to this one account.

        Raises:
            InvalidArgumentError: a relative or non-http(s) redirect_uri, an auth_type other
                than 1-3, or an empty biz_appid (nothing is sent).
            MissingVerifyTicketError, WeChatAPIError, TransportError: from the pre-auth code.
        """
        if not isinstance(redirect_uri, str) or urlsplit(redirect_uri).scheme not in (
            "http",
            "https",
        ):
            raise InvalidArgumentError(
                f"redirect_uri must be an absolute http(s) URL, got {redirect_uri!r}"
            )
        if not urlsplit(redirect_uri).netloc:
            raise InvalidArgumentError(f"redirect_uri has no host: {redirect_uri!r}")
        if type(auth_type) is not int or auth_type not in _AUTH_TYPES:
            raise InvalidArgumentError(f"auth_type must be 1, 2 or 3, got {auth_type!r}")
        if biz_appid is not None:
            check_appid("biz_appid", biz_appid)
        code = await self.create_preauth_code()
        params: list[tuple[str, str]] = [
            ("component_appid", self.component_appid),
            ("pre_auth_code", code.pre_auth_code),
            ("redirect_uri", redirect_uri),
            ("auth_type", str(auth_type)),
        ]
        if biz_appid is not None:
            params.append(("biz_appid", biz_appid))
        if mobile:
            query = urlencode([("action", "bindcomponent"), ("no_scan", "1"), *params])
            return f"{AUTHORIZATION_PAGE_MOBILE}?{query}#wechat_redirect"
        return f"{AUTHORIZATION_PAGE}?{urlencode(params)}"

    async def query_auth(
        self, authorization_code: str, *, event: EventStamp | None = None
    ) -> AuthorizationInfo:
        """Exchange an authorization code and store the authorizer's tokens.

        Wraps ``POST /cgi-bin/component/api_query_auth?component_access_token=...`` with body
        ``{"component_appid", "authorization_code"}``. The refresh token and access token are
        stored together with ``token_store.set_authorizer_tokens`` (one atomic step); when
        WeChat sends only a refresh token, that is stored. A blank token in the answer counts
        as absent (never stored, never an error). Logs a WARNING when permission set 18
        (needed by every privacy endpoint) was not granted. Used by the callback handler for
        ``authorized``/``updateauthorized`` events.

        Args:
            authorization_code: ``auth_code`` from the redirect, or ``AuthorizationCode`` from
                the callback (valid about an hour; never logged).
            event: the callback push this code came from (the callback handler passes it): the
                tokens are then stored only if no later authorization event of this authorizer,
                and not this very push, was applied already.

        Returns:
            The authorization: ``authorizer_appid``, ``func_info`` (``func_ids``,
            ``has_privacy_permission``), and the tokens (hidden from ``repr``).

        Raises:
            InvalidArgumentError: an empty code (nothing is sent).
            WeChatAPIError: WeChat refused the code (e.g. expired or used).
            ResponseFormatError: no ``authorization_info.authorizer_appid`` in the answer.
            MissingVerifyTicketError, TransportError, TokenStoreError: as for any call.
        """
        if not isinstance(authorization_code, str) or not authorization_code.strip():
            raise InvalidArgumentError("authorization_code must be a non-empty string")
        endpoint = QUERY_AUTH
        body = {"component_appid": self.component_appid, "authorization_code": authorization_code}
        sent_at = self._clock()
        try:
            data = await self._component_call(endpoint, body)
        except WeChatAPIError as exc:
            recovered = await self._recover_used_code(exc, event)
            if recovered is None:
                raise
            return recovered
        answer = _serde.structure_response(data, _QueryAuthAnswer, endpoint=endpoint)
        info = answer.authorization_info or AuthorizationInfo()
        if not info.authorizer_appid:
            raise ResponseFormatError(
                f"authorization_info.authorizer_appid is missing in the response from {endpoint}",
                endpoint=endpoint,
                field_path="authorization_info.authorizer_appid",
            )
        appid = info.authorizer_appid
        stored = await self._store_authorization(
            appid,
            refresh_token=present(info.authorizer_refresh_token),
            access_token=present(info.authorizer_access_token),
            expires_in=info.expires_in,
            sent_at=sent_at,
            event=event,
        )
        if not stored and event is not None:
            logger.info(
                "authorization of %s not stored: event %s was applied already or is older than "
                "the last one applied",
                appid,
                event.event_id,
            )
        if not info.has_privacy_permission:
            logger.warning(
                "authorizer %s did not grant permission set 18 (development management): the "
                "privacy endpoints will answer 61007; ask the owner to authorize it again",
                appid,
            )
        logger.info("authorizer %s authorized permission sets %s", appid, sorted(info.func_ids))
        return info

    async def _recover_used_code(
        self, exc: WeChatAPIError, event: EventStamp | None
    ) -> AuthorizationInfo | None:
        """A push re-delivered after its code was exchanged but its tokens were not stored (the
        store failed, the process died): the code answers 61010 now, so read the authorizer's
        current refresh token from ``api_get_authorizer_info`` and store it under the event."""
        if exc.errcode != 61010 or event is None or not event.authorizer_appid:
            return None
        appid = event.authorizer_appid
        details = await self.get_authorizer_info(appid)
        info = details.authorization_info
        refresh_token = None if info is None else present(info.authorizer_refresh_token)
        if info is None or refresh_token is None:
            return None
        stored = await self.token_store.set_refresh_token(
            self.component_appid, appid, refresh_token, event=event
        )
        logger.warning(
            "the authorization code of event %s was used already (61010); %s the current refresh "
            "token of %s from api_get_authorizer_info",
            event.event_id,
            "stored" if stored else "a newer event is applied, so not storing",
            appid,
        )
        return info

    async def _store_authorization(
        self,
        appid: str,
        *,
        refresh_token: str | None,
        access_token: str | None,
        expires_in: int,
        sent_at: float,
        event: EventStamp | None,
    ) -> bool:
        """Store what ``api_query_auth`` answered (blank values count as absent).

        Without an event (a redirect's ``auth_code``), the answer may arrive after a refresh
        rotated the token it carries: when the store holds a different refresh token, the
        current one is read again under the authorizer's lock (``api_get_authorizer_info``)
        and that one is stored, so a late answer never replaces a newer token."""
        comp = self.component_appid
        if event is None and refresh_token is not None:
            stored = await self.token_store.get_refresh_token(comp, appid)
            if stored is not None and stored != refresh_token:
                await self._store_current_refresh_token(appid)
                return True
        if refresh_token is not None and access_token is not None:
            token = AccessToken(access_token, sent_at + _lifetime(expires_in))
            return await self.token_store.set_authorizer_tokens(
                comp, appid, token, refresh_token, event=event
            )
        if refresh_token is not None:
            return await self.token_store.set_refresh_token(comp, appid, refresh_token, event=event)
        logger.warning(
            "api_query_auth for %s returned no refresh token (the account has no API permission, "
            "or the answer was cut); a refresh token stored earlier stays in use",
            appid,
        )
        if access_token is None:
            return False
        # Keep the new access token beside the refresh token already stored: under the
        # authorizer's lock and with its fence, so a refresher's rotated token is never replaced.
        token = AccessToken(access_token, sent_at + _lifetime(expires_in))
        async with self.token_store.lock(comp, f"authorizer:{appid}") as fence:
            stored = await self.token_store.get_refresh_token(comp, appid)
            if stored is None:
                return False
            return await self.token_store.set_authorizer_tokens(
                comp, appid, token, stored, fence=fence, event=event
            )

    async def get_authorizer_info(self, authorizer_appid: str) -> AuthorizerDetails:
        """Read an authorizer's profile and granted permission sets.

        Wraps ``POST /cgi-bin/component/api_get_authorizer_info?component_access_token=...``
        with body ``{"component_appid", "authorizer_appid"}``. Nothing is stored; the
        ``authorization_info.authorizer_refresh_token`` in the answer is hidden from ``repr``.

        Raises:
            InvalidArgumentError: an empty appid (nothing is sent).
            ReauthorizationRequiredError: 61003, the account has not authorized the platform.
            WeChatAPIError, TransportError, ResponseFormatError: as for any call.
        """
        check_appid("authorizer_appid", authorizer_appid)
        endpoint = GET_AUTHORIZER_INFO
        body = {"component_appid": self.component_appid, "authorizer_appid": authorizer_appid}
        data = await self._component_call(endpoint, body)
        return _serde.structure_response(data, AuthorizerDetails, endpoint=endpoint)

    async def list_authorizers(self, offset: int = 0, count: int = 500) -> AuthorizerPage:
        """Read one page of the platform's authorizers.

        Wraps ``POST /cgi-bin/component/api_get_authorizer_list`` with body
        ``{"component_appid", "offset", "count"}``.

        Args:
            offset: how many authorizers to skip (0 to 2**31 - 1).
            count: page size, 1 to 500 (WeChat answers 40170 above 500).

        Raises:
            InvalidArgumentError: offset or count out of range (nothing is sent).
            WeChatAPIError, TransportError, ResponseFormatError: as for any call.
        """
        check_int("count", count, low=1, high=500)
        check_int("offset", offset, low=0, high=2**31 - 1)
        endpoint = endpoints.AUTHORIZER_LIST
        body = {"component_appid": self.component_appid, "offset": offset, "count": count}
        data = await self._component_call(endpoint, body)
        return _serde.structure_response(data, AuthorizerPage, endpoint=endpoint)

    async def iter_authorizer_pages(
        self, *, page_size: int = 500, store_refresh_tokens: bool = False
    ) -> AsyncIterator[AuthorizerPage]:
        """Yield every page of the platform's authorizers (500 per request by default).

        Wraps ``POST /cgi-bin/component/api_get_authorizer_list``; each page's ``total_count``
        is WeChat's count at the time of that request.

        Args:
            page_size: authorizers per request, 1 to 500.
            store_refresh_tokens: before yielding a page, store its listed refresh tokens by
                the one rule for them (:meth:`store_listed_refresh_tokens`).

        Raises:
            InvalidArgumentError: page_size out of range. TokenStoreError: the store failed.
            WeChatAPIError, TransportError, ResponseFormatError: as for any call.
        """
        check_int("page_size", page_size, low=1, high=500)
        offset = 0
        while True:
            page = await self.list_authorizers(offset, page_size)
            if store_refresh_tokens:
                await self.store_listed_refresh_tokens(page.list)
            yield page
            offset += len(page.list)
            if not page.list or offset >= page.total_count:
                return

    async def iter_authorizers(
        self, *, page_size: int = 500, store_refresh_tokens: bool = False
    ) -> AsyncIterator[AuthorizerListItem]:
        """Yield every authorizer of the platform, page by page (500 per request by default).

        Wraps ``POST /cgi-bin/component/api_get_authorizer_list``.

        Args:
            page_size: authorizers per request, 1 to 500.
            store_refresh_tokens: also store the listed refresh tokens, a page at a time, by
                the one rule for them (:meth:`store_listed_refresh_tokens`): the recovery after
                a lost store or a 61023.

        Raises:
            InvalidArgumentError: page_size out of range. TokenStoreError: the store failed.
            WeChatAPIError, TransportError, ResponseFormatError: as for any call.
        """
        pages = self.iter_authorizer_pages(
            page_size=page_size, store_refresh_tokens=store_refresh_tokens
        )
        async for page in pages:
            for item in page.list:
                yield item

    async def store_listed_refresh_tokens(self, items: Iterable[AuthorizerListItem]) -> int:
        """Store the refresh tokens ``api_get_authorizer_list`` listed, where the store differs.

        The one rule for listed refresh tokens (every path that stores them comes here:
        ``iter_authorizers(store_refresh_tokens=True)``, :meth:`reload_refresh_tokens`): the list
        holds WeChat's current token, so a listed token is written when the store holds none for
        that authorizer. A token the store already holds is not written again, so listing never
        bumps the authorizer's fencing generation for nothing (which would refuse the write of a
        refresh in flight). When the store holds a *different* one, the listing may be the stale
        side (a refresh rotated the token after the list was read), so the current token is read
        again with ``api_get_authorizer_info`` under the authorizer's refresh lock, where no
        refresh can rotate it meanwhile, and that one is stored. A blank or missing listed token
        leaves the stored one as it is.

        Returns:
            How many listed refresh tokens the store holds now (written or already there).

        Raises:
            TokenStoreError: the store failed.
        """
        store, comp = self.token_store, self.component_appid
        held = 0
        for item in items:
            listed = present(item.refresh_token)
            if listed is None:
                continue
            appid = item.authorizer_appid
            try:
                check_appid("authorizer_appid", appid)
            except InvalidArgumentError:
                # one malformed entry must not stop the rest (its calls fail on their own)
                logger.warning("api_get_authorizer_list listed %r, not an appid: skipped", appid)
                continue
            stored = await store.get_refresh_token(comp, appid)
            if stored is None:
                await store.set_refresh_token(comp, appid, listed)
            elif stored != listed:
                await self._store_current_refresh_token(appid)
            held += 1
        return held

    async def _store_current_refresh_token(self, appid: str) -> None:
        """Under the authorizer's refresh lock, read its current refresh token from
        ``api_get_authorizer_info`` and store it (no refresh can rotate it meanwhile)."""
        store, comp = self.token_store, self.component_appid
        async with store.lock(comp, f"authorizer:{appid}"):
            details = await self.get_authorizer_info(appid)
            info = details.authorization_info
            current = None if info is None else present(info.authorizer_refresh_token)
            if current is not None and current != await store.get_refresh_token(comp, appid):
                await store.set_refresh_token(comp, appid, current)


def _lifetime(expires_in: int) -> float:
    """Seconds an access token from ``api_query_auth`` lives: its ``expires_in`` when from 1 to
    :data:`~wxprivacy._wire.MAX_LIFETIME`, else WeChat's usual 7,200 (the answer's refresh token
    is kept either way: a credential is never dropped for an odd lifetime)."""
    return float(expires_in) if 0 < expires_in <= MAX_LIFETIME else float(DEFAULT_EXPIRES_IN)
