"""The WeChat endpoint paths the SDK calls, as public constants (one definition each).

Use them where a path is typed by hand, e.g. ``rate_limits={paths.GET_PRIVACY_SETTING: 1000}``
or ``client.rate_limiter.store.release(appid, f"daily:{paths.GET_PRIVACY_SETTING}")``. Every
path is relative to the base URL (``https://api.weixin.qq.com``).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "APPLY_PRIVACY_INTERFACE",
    "AUTHORIZER_LIST",
    "AUTHORIZER_TOKEN",
    "COMPONENT_TOKEN",
    "CREATE_PREAUTH_CODE",
    "GET_AUTHORIZER_INFO",
    "GET_CODE_PRIVACY_INFO",
    "GET_PRIVACY_INTERFACE",
    "GET_PRIVACY_SETTING",
    "QUERY_AUTH",
    "SET_PRIVACY_SETTING",
    "UPLOAD_PRIVACY_EXT_FILE",
]

COMPONENT_TOKEN: Final = "/cgi-bin/component/api_component_token"
"""``POST``: the ``component_access_token`` (component_appid, appsecret, verify ticket)."""
AUTHORIZER_TOKEN: Final = "/cgi-bin/component/api_authorizer_token"
"""``POST``: an ``authorizer_access_token`` from its ``authorizer_refresh_token``."""
AUTHORIZER_LIST: Final = "/cgi-bin/component/api_get_authorizer_list"
"""``POST``: a page of the platform's authorizers, with their refresh tokens."""
GET_AUTHORIZER_INFO: Final = "/cgi-bin/component/api_get_authorizer_info"
"""``POST``: an authorizer's profile and granted permission sets."""
CREATE_PREAUTH_CODE: Final = "/cgi-bin/component/api_create_preauthcode"
"""``POST``: a pre-authorization code for the authorization page."""
QUERY_AUTH: Final = "/cgi-bin/component/api_query_auth"
"""``POST``: exchange an authorization code for the authorizer's tokens."""
GET_PRIVACY_SETTING: Final = "/cgi-bin/component/getprivacysetting"
"""``POST``: a Mini Program's privacy guideline (authorizer token)."""
SET_PRIVACY_SETTING: Final = "/cgi-bin/component/setprivacysetting"
"""``POST``: write a Mini Program's privacy guideline (authorizer token)."""
UPLOAD_PRIVACY_EXT_FILE: Final = "/cgi-bin/component/uploadprivacyextfile"
"""``POST`` multipart: upload a custom privacy guideline file (authorizer token)."""
GET_PRIVACY_INTERFACE: Final = "/wxa/security/get_privacy_interface"
"""``GET``: the privacy interfaces and their application status (authorizer token)."""
APPLY_PRIVACY_INTERFACE: Final = "/wxa/security/apply_privacy_interface"
"""``POST``: apply for a privacy interface (authorizer token)."""
GET_CODE_PRIVACY_INFO: Final = "/wxa/security/get_code_privacy_info"
"""``GET``: the privacy interfaces the uploaded code uses without permission or configuration."""
