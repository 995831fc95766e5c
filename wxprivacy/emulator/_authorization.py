"""The authorization flow's endpoints: pre-auth code, api_query_auth, api_get_authorizer_info.

Each handler starts after its route's prologue (:data:`._routes.ROUTES`): the component token,
the JSON body (47001) and its ``component_appid`` (41018/61011) are already checked. Where
WeChat's errcode is not documented, the docstring says "assumed".
"""

from __future__ import annotations

from typing import Final

from ._call import Call
from ._payloads import EmulatorResponse, dumps, json_response
from ._state import new_secret

__all__ = [
    "AUTH_CODE_TTL",
    "PREAUTH_CODE_TTL",
    "api_create_preauthcode",
    "api_get_authorizer_info",
    "api_query_auth",
]

PREAUTH_CODE_TTL: Final = 1800
"""Seconds a pre-auth code is valid (``expires_in``)."""
AUTH_CODE_TTL: Final = 3600.0
"""Seconds an authorization code works with ``api_query_auth``."""


def api_create_preauthcode(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_create_preauthcode?component_access_token=...``.

    Answers ``{"pre_auth_code": "preauthcode@@@...", "expires_in": 1800}``; no errors of its own.
    """
    state = call.state
    code = f"preauthcode@@@{new_secret(state.rng, 32)}"
    state.preauth_codes[code] = state.clock() + PREAUTH_CODE_TTL
    return json_response(dumps({"pre_auth_code": code, "expires_in": PREAUTH_CODE_TTL}))


def api_query_auth(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_query_auth?component_access_token=...``.

    Exchanges a code from ``Emulator.authorize`` (single use, one hour) for
    ``authorization_info`` with a fresh authorizer access token, the current refresh token and
    ``func_info``. Errors: 61010 unknown, used or expired code (code assumed), 61003
    authorization since revoked.
    """
    state = call.state
    grant = state.auth_codes.pop(str(call.data.get("authorization_code") or ""), None)
    if grant is None or state.clock() > grant[1]:
        return call.error(61010)
    authorizer = state.authorizers.get(grant[0])
    if authorizer is None or not authorizer.authorized:
        return call.error(61003)
    token = state.tokens.issue("authorizer", authorizer.appid, state.token_ttl, state.grace)
    info = {
        "authorizer_appid": authorizer.appid,
        "authorizer_access_token": token,
        "expires_in": int(state.token_ttl),
        "authorizer_refresh_token": authorizer.refresh_token,
        "func_info": authorizer.func_info(),
    }
    return json_response(dumps({"authorization_info": info}))


def api_get_authorizer_info(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_get_authorizer_info?component_access_token=...``.

    Answers ``authorizer_info`` (a Mini Program: ``MiniProgramInfo`` present) and
    ``authorization_info`` (appid, refresh token, func_info). Errors: 61003 unknown or revoked
    authorizer.
    """
    authorizer = call.state.authorizers.get(str(call.data.get("authorizer_appid") or ""))
    if authorizer is None or not authorizer.authorized:
        return call.error(61003)
    suffix = authorizer.appid[-6:]
    payload = {
        "authorizer_info": {
            "nick_name": f"小程序{suffix}",
            "head_img": "",
            "service_type_info": {"id": 0},
            "verify_type_info": {"id": -1},
            "user_name": f"gh_{suffix}000000",
            "principal_name": "个人",
            "alias": "",
            "qrcode_url": "",
            "signature": "",
            "MiniProgramInfo": {"network": {}, "categories": [], "visit_status": 0},
        },
        "authorization_info": {
            "authorizer_appid": authorizer.appid,
            "authorizer_refresh_token": authorizer.refresh_token,
            "func_info": authorizer.func_info(),
        },
    }
    return json_response(dumps(payload))
