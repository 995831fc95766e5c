"""The two token endpoints, as functions over the wire client, and the one rule for tokens
arriving from WeChat: a blank value means absent.

- ``POST /cgi-bin/component/api_component_token``: verify ticket -> ``component_access_token``
- ``POST /cgi-bin/component/api_authorizer_token``: ``authorizer_refresh_token`` ->
  ``authorizer_access_token`` and, when WeChat rotates it, a new refresh token

Only :class:`~wxprivacy._tokens.TokenManager` calls them, under the token's refresh lock, so no
public method can fetch a token past the store, the single flight or the lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from . import _serde
from ._errors import ComponentCredentialError, TokenInvalidError
from ._stores import AccessToken
from ._wire import require_seconds, require_str
from .paths import AUTHORIZER_TOKEN, COMPONENT_TOKEN

if TYPE_CHECKING:
    from ._http import WireClient

__all__ = [
    "AUTHORIZER_TOKEN",
    "COMPONENT_TOKEN",
    "present",
    "request_authorizer_token",
    "request_component_token",
]

DEFAULT_EXPIRES_IN: Final = 7200
"""Seconds an access token lives when WeChat's answer omits ``expires_in`` (WeChat: 2 h)."""


def present(value: Any) -> str | None:
    """Return a token, ticket or code from WeChat's answer, or ``None`` when absent or blank.

    Every place where a credential arrives from WeChat reads it through this one rule, so a
    value of only spaces is treated as missing (never stored, never raised as local input).
    """
    if isinstance(value, str) and value.strip():
        return value
    return None


async def request_component_token(
    wire: WireClient,
    *,
    component_appid: str,
    component_appsecret: str,
    ticket: str,
    clock: Callable[[], float],
) -> AccessToken:
    """POST ``/cgi-bin/component/api_component_token``; return the new component token.

    Raises:
        ComponentCredentialError: WeChat refused the appid, appsecret or ticket (40001 at this
            endpoint means a wrong appsecret: it is never "refreshed").
        ResponseFormatError: no ``component_access_token`` in the answer.
        WeChatAPIError, TransportError: as for any call.
    """
    body = {
        "component_appid": component_appid,
        "component_appsecret": component_appsecret,
        "component_verify_ticket": ticket,
    }
    sent_at = clock()
    try:
        data = await wire.call("POST", COMPONENT_TOKEN, content=_serde.dumps(body))
    except TokenInvalidError as exc:
        raise ComponentCredentialError(
            exc.errcode,
            exc.errmsg + " (check component_appsecret)",
            rid=exc.rid,
            endpoint=COMPONENT_TOKEN,
        ) from None
    value = require_str(data, "component_access_token", endpoint=COMPONENT_TOKEN)
    expires_in = require_seconds(
        data, "expires_in", endpoint=COMPONENT_TOKEN, default=DEFAULT_EXPIRES_IN
    )
    return AccessToken(value, sent_at + expires_in)


async def request_authorizer_token(
    wire: WireClient,
    *,
    component_appid: str,
    component_access_token: str,
    authorizer_appid: str,
    refresh_token: str,
    clock: Callable[[], float],
) -> tuple[AccessToken, str | None]:
    """POST ``/cgi-bin/component/api_authorizer_token``.

    Returns:
        The new access token, and the rotated ``authorizer_refresh_token`` (``None`` when the
        answer carried none, or a blank one: the stored refresh token stays in use).

    Raises:
        ResponseFormatError: no ``authorizer_access_token`` in the answer.
        WeChatAPIError (e.g. ReauthorizationRequiredError for 61023), TransportError.
    """
    body = {
        "component_appid": component_appid,
        "authorizer_appid": authorizer_appid,
        "authorizer_refresh_token": refresh_token,
    }
    sent_at = clock()
    data = await wire.call(
        "POST",
        AUTHORIZER_TOKEN,
        token=("component_access_token", component_access_token),
        content=_serde.dumps(body),
    )
    value = require_str(data, "authorizer_access_token", endpoint=AUTHORIZER_TOKEN)
    expires_in = require_seconds(
        data, "expires_in", endpoint=AUTHORIZER_TOKEN, default=DEFAULT_EXPIRES_IN
    )
    return AccessToken(value, sent_at + expires_in), present(data.get("authorizer_refresh_token"))
