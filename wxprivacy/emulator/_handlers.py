"""Endpoint logic, sans-I/O: ``(state, query, body) -> EmulatorResponse``.

:data:`HANDLERS` maps each WeChat path to its handler. The token chain, the authorizer list and
getprivacysetting live here; setprivacysetting, uploadprivacyextfile, the privacy-interface APIs,
the pre-auth code, api_query_auth and api_get_authorizer_info live in :mod:`._surface` and are
merged in at the end of this module.
Handlers are synchronous and do no I/O; latency and faults are applied by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson

from ._payloads import EmulatorResponse, dumps, error_body, json_response
from ._state import TICKET_TTL, Authorizer, EmulatorState

__all__ = ["HANDLERS", "Handler", "error"]

Handler = Callable[[EmulatorState, Mapping[str, str], bytes], EmulatorResponse]
"""An endpoint: ``(state, query parameters, raw request body) -> response``."""

MAX_LIST_COUNT: Final = 500


def error(state: EmulatorState, errcode: int) -> EmulatorResponse:
    """Return the HTTP 200 JSON error ``errcode`` with a fresh rid."""
    return json_response(error_body(errcode, state.clock(), state.rng))


def _json_object(body: bytes) -> dict[str, Any] | None:
    """Parse ``body`` as a JSON object; ``None`` when it is empty, invalid or not an object."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def _check_component_token(
    state: EmulatorState, query: Mapping[str, str]
) -> EmulatorResponse | None:
    """Validate ``?component_access_token=`` (or ``?access_token=``); an error or ``None``."""
    token = query.get("component_access_token") or query.get("access_token")
    if not token:
        return error(state, 41001)
    verdict, record = state.tokens.lookup(token)
    if verdict == "invalid" or record is None:
        return error(state, 40001)
    if record.kind != "component":
        return error(state, 61014)
    if verdict == "expired":
        return error(state, 42001)
    return None


def _component_body(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> dict[str, Any] | EmulatorResponse:
    """The prologue of every component-token endpoint: check the token (query), parse the JSON
    body (47001) and check its ``component_appid``; the body, or the error to answer with."""
    problem = _check_component_token(state, query)
    if problem is not None:
        return problem
    data = _json_object(body)
    if data is None:
        return error(state, 47001)
    problem = _check_component_appid(state, data)
    return data if problem is None else problem


def _check_component_appid(
    state: EmulatorState, data: Mapping[str, Any]
) -> EmulatorResponse | None:
    appid = data.get("component_appid")
    if not appid:
        return error(state, 41018)
    if appid != state.component_appid:
        return error(state, 61011)
    return None


def api_component_token(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_component_token``: verify ticket -> component token.

    Errors: 47001 bad JSON, 41018 no component_appid, 61011 unknown appid, 41004 no appsecret,
    40001 wrong appsecret, 61006 unknown ticket, 61005 ticket older than 12 hours.
    """
    data = _json_object(body)
    if data is None:
        return error(state, 47001)
    problem = _check_component_appid(state, data)
    if problem is not None:
        return problem
    secret = data.get("component_appsecret")
    if not secret:
        return error(state, 41004)
    if secret != state.component_appsecret:
        return error(state, 40001)
    issued = state.tickets.get(str(data.get("component_verify_ticket") or ""))
    if issued is None:
        return error(state, 61006)
    if state.clock() - issued > TICKET_TTL:
        return error(state, 61005)
    token = state.tokens.issue("component", state.component_appid, state.token_ttl, state.grace)
    ttl = int(state.token_ttl)
    return json_response(dumps({"component_access_token": token, "expires_in": ttl}))


def api_authorizer_token(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_authorizer_token``: refresh token -> authorizer token.

    Errors: 41001/40001/42001/61014 component token missing/invalid/expired/wrong kind,
    47001 bad JSON, 41018/61011 component appid, 61003 not (or no longer) authorized,
    61023 wrong or empty refresh token.
    """
    data = _component_body(state, query, body)
    if isinstance(data, EmulatorResponse):
        return data
    authorizer = state.authorizers.get(str(data.get("authorizer_appid") or ""))
    if authorizer is None or not authorizer.authorized:
        return error(state, 61003)
    refresh = data.get("authorizer_refresh_token")
    if not isinstance(refresh, str) or not authorizer.refresh_token_ok(refresh, state.clock()):
        return error(state, 61023)
    token = state.tokens.issue("authorizer", authorizer.appid, state.token_ttl, state.grace)
    if state.rotate_refresh_tokens:
        state.rotate_refresh_token(authorizer)
    payload = {
        "authorizer_access_token": token,
        "expires_in": int(state.token_ttl),
        "authorizer_refresh_token": authorizer.refresh_token,
    }
    return json_response(dumps(payload))


def api_get_authorizer_list(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_get_authorizer_list``: page through the authorizers.

    Body ``{component_appid, offset, count}`` (offset defaults to 0, count to 500); answers
    ``{"total_count", "list": [{"authorizer_appid", "refresh_token", "auth_time"}]}`` in
    authorization order, revoked authorizers left out. Errors: component-token errors, 47001,
    41018/61011, 40170 when count > 500.
    """
    data = _component_body(state, query, body)
    if isinstance(data, EmulatorResponse):
        return data
    offset, count = data.get("offset", 0), data.get("count", MAX_LIST_COUNT)
    if not _is_int(offset) or not _is_int(count) or offset < 0 or count < 0:
        return error(state, 47001)
    if count > MAX_LIST_COUNT:
        return error(state, 40170)
    live = [a for a in state.authorizers.values() if a.authorized]
    page = [
        {"authorizer_appid": a.appid, "refresh_token": a.refresh_token, "auth_time": a.auth_time}
        for a in live[offset : offset + count]
    ]
    return json_response(dumps({"total_count": len(live), "list": page}))


def getprivacysetting(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /cgi-bin/component/getprivacysetting?access_token=<authorizer token>``.

    Body ``{"privacy_ver": 1|2}`` (absent: 2). Answers the cached full guideline body.
    Errors: 41001 no token, 40001 invalid/superseded, 48001 a component token, 42001 expired,
    61007 permission set 18 not granted, 47001 body not a JSON object (or privacy_ver a string),
    86071 privacy_ver not 1/2, 86074 privacy_ver 1 without a live version.
    """
    authorizer, problem = _check_authorizer_token(state, query)
    if problem is not None:
        return problem
    assert authorizer is not None
    if not authorizer.permission_18:
        return error(state, 61007)
    data = _json_object(body)
    if data is None:
        return error(state, 47001)
    ver = data.get("privacy_ver", 2)
    if isinstance(ver, str):
        return error(state, 47001)
    if not _is_int(ver) or ver not in (1, 2):
        return error(state, 86071)
    version = authorizer.version(ver)
    if version is None:
        return error(state, 86074)
    return json_response(version.body())


def _check_authorizer_token(
    state: EmulatorState, query: Mapping[str, str]
) -> tuple[Authorizer | None, EmulatorResponse | None]:
    token = query.get("access_token")
    if not token:
        return None, error(state, 41001)
    verdict, record = state.tokens.lookup(token)
    if verdict == "invalid" or record is None:
        return None, error(state, 40001)
    if record.kind != "authorizer":
        return None, error(state, 48001)
    if verdict == "expired":
        return None, error(state, 42001)
    authorizer = state.authorizers.get(record.owner)
    if authorizer is None or not authorizer.authorized:
        return None, error(state, 40001)
    return authorizer, None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


HANDLERS: Final[dict[str, Handler]] = {
    "/cgi-bin/component/api_component_token": api_component_token,
    "/cgi-bin/component/api_authorizer_token": api_authorizer_token,
    "/cgi-bin/component/api_get_authorizer_list": api_get_authorizer_list,
    "/cgi-bin/component/getprivacysetting": getprivacysetting,
}
"""WeChat path -> handler. Unknown paths answer HTTP 404."""

# The surface handlers import the helpers above, so they are merged in last.
from ._surface import SURFACE_HANDLERS  # noqa: E402

HANDLERS.update(SURFACE_HANDLERS)
