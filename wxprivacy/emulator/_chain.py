"""The token chain's endpoints: component token, authorizer token, the authorizer list.

Each handler starts after its route's prologue (:data:`._routes.ROUTES`): the token, the JSON
body (47001) and its ``component_appid`` (41018/61011) are already checked.
"""

from __future__ import annotations

from typing import Final

from ._call import Call, is_int
from ._payloads import EmulatorResponse, dumps, json_response
from ._state import TICKET_TTL

__all__ = ["api_authorizer_token", "api_component_token", "api_get_authorizer_list"]

MAX_LIST_COUNT: Final = 500


def api_component_token(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_component_token``: verify ticket -> component token.

    Errors (besides the prologue's 47001 and 41018/61011): 41004 no appsecret, 40001 wrong
    appsecret, 61006 unknown ticket, 61005 ticket older than 12 hours.
    """
    state, data = call.state, call.data
    secret = data.get("component_appsecret")
    if not secret:
        return call.error(41004)
    if secret != state.component_appsecret:
        return call.error(40001)
    issued = state.tickets.get(str(data.get("component_verify_ticket") or ""))
    if issued is None:
        return call.error(61006)
    if state.clock() - issued > TICKET_TTL:
        return call.error(61005)
    token = state.tokens.issue("component", state.component_appid, state.token_ttl, state.grace)
    ttl = int(state.token_ttl)
    return json_response(dumps({"component_access_token": token, "expires_in": ttl}))


def api_authorizer_token(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_authorizer_token``: refresh token -> authorizer token.

    Errors (besides the component-token prologue): 61003 not (or no longer) authorized,
    61023 wrong or empty refresh token.
    """
    state, data = call.state, call.data
    authorizer = state.authorizers.get(str(data.get("authorizer_appid") or ""))
    if authorizer is None or not authorizer.authorized:
        return call.error(61003)
    refresh = data.get("authorizer_refresh_token")
    if not isinstance(refresh, str) or not authorizer.refresh_token_ok(refresh, state.clock()):
        return call.error(61023)
    token = state.tokens.issue("authorizer", authorizer.appid, state.token_ttl, state.grace)
    if state.rotate_refresh_tokens:
        state.rotate_refresh_token(authorizer)
    payload = {
        "authorizer_access_token": token,
        "expires_in": int(state.token_ttl),
        "authorizer_refresh_token": authorizer.refresh_token,
    }
    return json_response(dumps(payload))


def api_get_authorizer_list(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_get_authorizer_list``: page through the authorizers.

    Body ``{component_appid, offset, count}`` (offset defaults to 0, count to 500); answers
    ``{"total_count", "list": [{"authorizer_appid", "refresh_token", "auth_time"}]}`` in
    authorization order, revoked authorizers left out. Errors (besides the component-token
    prologue): 47001 a negative or non-integer offset/count, 40170 count > 500.
    """
    offset, count = call.data.get("offset", 0), call.data.get("count", MAX_LIST_COUNT)
    if not is_int(offset) or not is_int(count) or offset < 0 or count < 0:
        return call.error(47001)
    if count > MAX_LIST_COUNT:
        return call.error(40170)
    live = [a for a in call.state.authorizers.values() if a.authorized]
    page = [
        {"authorizer_appid": a.appid, "refresh_token": a.refresh_token, "auth_time": a.auth_time}
        for a in live[offset : offset + count]
    ]
    return json_response(dumps({"total_count": len(live), "list": page}))
