# ruff: noqa: E501  (one route a line, however long)
"""The table of WeChat endpoints the emulator answers: path -> prologue and handler.

Each row declares its endpoint's prologue (see :mod:`._prologue` for the checks and their order);
the handler starts at its own logic. Unknown paths answer HTTP 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._authorization import api_create_preauthcode, api_get_authorizer_info, api_query_auth
from ._chain import api_authorizer_token, api_component_token, api_get_authorizer_list
from ._code_privacy import get_code_privacy_info
from ._interfaces import apply_privacy_interface, get_privacy_interface
from ._privacy import getprivacysetting, setprivacysetting, uploadprivacyextfile
from ._prologue import Route

__all__ = ["ROUTES"]

_C: Final = "/cgi-bin/component/"

# fmt: off
ROUTES: Final[Mapping[str, Route]] = {
    _C + "api_component_token":     Route(api_component_token, body="json", component_appid=True),
    _C + "api_authorizer_token":    Route(api_authorizer_token, token="component", body="json", component_appid=True),
    _C + "api_get_authorizer_list": Route(api_get_authorizer_list, token="component", body="json", component_appid=True),
    _C + "api_create_preauthcode":  Route(api_create_preauthcode, token="component", body="json", component_appid=True),
    _C + "api_query_auth":          Route(api_query_auth, token="component", body="json", component_appid=True),
    _C + "api_get_authorizer_info": Route(api_get_authorizer_info, token="component", body="json", component_appid=True),
    _C + "getprivacysetting":       Route(getprivacysetting, token="authorizer", permission_18=True, body="json", privacy_ver=True),
    _C + "setprivacysetting":       Route(setprivacysetting, token="authorizer", permission_18=True, body="wechat_json", privacy_ver=True),
    _C + "uploadprivacyextfile":    Route(uploadprivacyextfile, token="authorizer", permission_18=True, body="multipart"),
    "/wxa/security/get_privacy_interface":   Route(get_privacy_interface, token="authorizer", permission_18=True),
    "/wxa/security/apply_privacy_interface": Route(apply_privacy_interface, token="authorizer", permission_18=True, body="json"),
    "/wxa/security/get_code_privacy_info":   Route(get_code_privacy_info, token="authorizer", permission_18=True),
}
# fmt: on
"""WeChat path -> :class:`~._prologue.Route`."""
