"""Handlers of the privacy write endpoints, the privacy interfaces and the authorization flow.

Registered into :data:`wxprivacy.emulator._handlers.HANDLERS` by that module (import it, not
this one). Each handler is sans-I/O like the others: ``(state, query, body) -> response``.

Where WeChat's errcode for a mistake is not documented, the emulator answers 47001 (data format
error); those places are marked "assumed" in the docstrings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import orjson

from ._handlers import (
    _check_authorizer_token,
    _component_body,
    _is_int,
    _json_object,
    error,
)
from ._payloads import PRIVACY_DESC_LIST, EmulatorResponse, dumps, json_response
from ._state import Authorizer, EmulatorState, new_secret

__all__ = [
    "EXT_FILE_MAX_BYTES",
    "PRIVACY_INTERFACES",
    "SURFACE_HANDLERS",
    "interface_entry",
]

EXT_FILE_MAX_BYTES: Final = 100 * 1024
"""Largest accepted privacy ext file, in bytes (else 40126)."""
PREAUTH_CODE_TTL: Final = 1800
AUTH_CODE_TTL: Final = 3600.0

PRIVACY_INTERFACES: Final[tuple[tuple[str, str, str], ...]] = (
    ("wx.chooseAddress", "获取用户收货地址", "收货地址"),
    ("wx.choosePoi", "选择位置，支持模糊定位和精确定位", "地理位置"),
    ("wx.getLocation", "获取当前的地理位置、速度", "地理位置"),
    ("wx.onLocationChange", "监听实时地理位置变化事件", "地理位置"),
    ("wx.startLocationUpdate", "开启小程序进入前台时接收位置消息", "地理位置"),
    ("wx.startLocationUpdateBackground", "开启小程序前后台时均接收位置消息", "地理位置"),
    ("wx.chooseLocation", "打开地图选择位置", "地理位置"),
    ("wx.getFuzzyLocation", "获取当前的模糊地理位置", "地理位置"),
)
"""The gated APIs the emulator lists: ``(api_name, api_ch_name, group_name)``."""

_LABELS: Final = dict(PRIVACY_DESC_LIST)
_STORE_EXPIRE: Final = re.compile(r"[0-9]+天")
_CONTACTS: Final = ("contact_phone", "contact_email", "contact_qq", "contact_weixin")
_OWNER_STRINGS: Final = (*_CONTACTS, "notice_method", "store_expire_timestamp", "ext_file_media_id")
# A \\u escape that is not itself escaped: WeChat keeps such text literally (see wechat_json).
_UNICODE_ESCAPE: Final = re.compile(rb"(?<!\\)((?:\\\\)*)\\u")


def _ok(extra: Mapping[str, Any] | None = None) -> EmulatorResponse:
    payload: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
    if extra:
        payload.update(extra)
    return json_response(dumps(payload))


def wechat_json(body: bytes) -> dict[str, Any] | None:
    """Parse a body the way setprivacysetting reads it: ``\\uXXXX`` escapes stay literal text.

    WeChat shows ``\\u5929`` to users verbatim and rejects ``"30\\u5929"`` as a storage period
    (86072), so the emulator keeps the six characters instead of decoding them.
    """
    return _json_object(_UNICODE_ESCAPE.sub(rb"\1\\\\u", body))


def _authorizer_with_18(
    state: EmulatorState, query: Mapping[str, str]
) -> tuple[Authorizer | None, EmulatorResponse | None]:
    authorizer, problem = _check_authorizer_token(state, query)
    if problem is not None:
        return None, problem
    assert authorizer is not None
    if not authorizer.permission_18:
        return None, error(state, 61007)
    return authorizer, None


# ----------------------------------------------------------------------------- setprivacysetting


def _owner_problem(state: EmulatorState, owner: Any) -> EmulatorResponse | None:
    if owner is None:
        return error(state, 86069)
    if not isinstance(owner, dict):
        return error(state, 47001)
    for name in _OWNER_STRINGS:
        if name in owner and not isinstance(owner[name], str):
            return error(state, 47001)
    if "store_region" in owner and not _is_int(owner["store_region"]):
        return error(state, 47001)
    if not any(str(owner.get(name, "")).strip() for name in _CONTACTS):
        return error(state, 86069)
    if not str(owner.get("notice_method", "")).strip():
        return error(state, 86070)
    expire = owner.get("store_expire_timestamp", "")
    if expire and not _STORE_EXPIRE.fullmatch(expire):
        return error(state, 86072)
    return None


def _items(value: Any) -> list[dict[str, str]] | None:
    """``[{privacy_key, privacy_text}]`` with labels filled in; ``None`` when malformed."""
    if not isinstance(value, list):
        return None
    items = []
    for item in value:
        if not isinstance(item, dict):
            return None
        key, text = item.get("privacy_key"), item.get("privacy_text", "")
        if not isinstance(key, str) or not key or not isinstance(text, str):
            return None
        items.append(
            {"privacy_key": key, "privacy_text": text, "privacy_label": _LABELS.get(key, "")}
        )
    return items


def _sdks(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return None
    result = []
    for info in value:
        if not isinstance(info, dict):
            return None
        sdk_list = _items(info.get("sdk_list", []))
        name, biz = info.get("sdk_name", ""), info.get("sdk_biz_name", "")
        if sdk_list is None or not isinstance(name, str) or not isinstance(biz, str):
            return None
        result.append({"sdk_name": name, "sdk_biz_name": biz, "sdk_list": sdk_list})
    return result


def setprivacysetting(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /cgi-bin/component/setprivacysetting?access_token=<authorizer token>``.

    ``privacy_ver=2`` (default) replaces the development version's ``owner_setting``,
    ``setting_list`` and ``sdk_privacy_info_list`` (labels of official keys filled in,
    ``update_time`` set to now; ``privacy_list``/``code_exist`` untouched). ``privacy_ver=1``
    replaces only the live version's ``owner_setting`` (its ``ext_file_media_id`` is kept).
    ``\\uXXXX`` escapes are kept as literal text, as WeChat does.

    Errors: authorizer-token errors, 61007 no permission set 18, 47001 bad JSON or wrong types
    (also, assumed, ``setting_list``/``sdk_privacy_info_list`` with ``privacy_ver=1`` or no
    ``setting_list`` with 2), 86071 privacy_ver not 1/2, 86069 no owner_setting or no contact,
    86070 no notice_method, 86072 bad store_expire_timestamp, 86073 ext_file_media_id neither
    uploaded by this authorizer nor already in one of its versions, 86074 no live version,
    86075 live ext_file_media_id changed.
    """
    authorizer, problem = _authorizer_with_18(state, query)
    if problem is not None:
        return problem
    assert authorizer is not None
    data = wechat_json(body)
    if data is None:
        return error(state, 47001)
    ver = data.get("privacy_ver", 2)
    if isinstance(ver, str):
        return error(state, 47001)
    if not _is_int(ver) or ver not in (1, 2):
        return error(state, 86071)
    owner = data.get("owner_setting")
    problem = _owner_problem(state, owner)
    if problem is not None:
        return problem
    assert isinstance(owner, dict)
    media = owner.get("ext_file_media_id", "")
    if ver == 1:
        live = authorizer.live
        if live is None:
            return error(state, 86074)
        if "setting_list" in data or "sdk_privacy_info_list" in data:
            return error(state, 47001)
        current = live.setting["owner_setting"].get("ext_file_media_id", "")
        if "ext_file_media_id" in owner and media != current:
            return error(state, 86075)
        live.setting["owner_setting"] = _merged_owner(owner, keep_media=current)
        live.setting["update_time"] = int(state.clock())
        live.changed()
        return _ok()
    known = authorizer.media_ids | {
        version.setting["owner_setting"].get("ext_file_media_id", "")
        for version in (authorizer.dev, authorizer.live)
        if version is not None
    }
    if media and media not in known:
        return error(state, 86073)
    items = _items(data.get("setting_list"))
    sdks = _sdks(data["sdk_privacy_info_list"]) if "sdk_privacy_info_list" in data else []
    if items is None or sdks is None:
        return error(state, 47001)
    dev = authorizer.dev
    dev.setting["owner_setting"] = _merged_owner(owner, keep_media=None)
    dev.setting["setting_list"] = items
    if sdks:
        dev.setting["sdk_privacy_info_list"] = sdks
    else:
        dev.setting.pop("sdk_privacy_info_list", None)
    dev.setting["update_time"] = int(state.clock())
    dev.changed()
    return _ok()


def _merged_owner(owner: Mapping[str, Any], *, keep_media: str | None) -> dict[str, Any]:
    merged: dict[str, Any] = {name: str(owner.get(name, "")) for name in _OWNER_STRINGS}
    merged["store_region"] = owner.get("store_region", 0)
    if keep_media is not None:
        merged["ext_file_media_id"] = keep_media
    return merged


# ----------------------------------------------------------------------------- upload


def parse_multipart(body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Split a ``multipart/form-data`` body into ``{field: (filename, content)}``.

    The boundary is read from the body's first line, so the Content-Type header is not needed.
    Returns ``{}`` when the body is not multipart.
    """
    if not body.startswith(b"--"):
        return {}
    boundary = body.split(b"\r\n", 1)[0]
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if name is not None:
            fields[name.group(1)] = (
                filename.group(1) if filename else None,
                content[:-2] if content.endswith(b"\r\n") else content,
            )
    return fields


def uploadprivacyextfile(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /cgi-bin/component/uploadprivacyextfile?access_token=<authorizer token>``.

    Multipart field ``file``; answers ``{"ext_file_media_id": "<19 digits>"}`` and remembers the
    id for the authorizer (setprivacysetting accepts only ids it uploaded).

    Errors: authorizer-token errors, 61007, 41005 no ``file`` field (e.g. a JSON body; assumed),
    40006 not a ``.txt`` file name, 40126 empty or over 100 KB.
    """
    authorizer, problem = _authorizer_with_18(state, query)
    if problem is not None:
        return problem
    assert authorizer is not None
    upload = parse_multipart(body).get("file")
    if upload is None or upload[0] is None:
        return error(state, 41005)
    filename, content = upload[0], upload[1]
    if not filename.lower().endswith(".txt"):
        return error(state, 40006)
    if not content or len(content) > EXT_FILE_MAX_BYTES:
        return error(state, 40126)
    media_id = state.new_media_id()
    authorizer.media_ids.add(media_id)
    return _ok({"ext_file_media_id": media_id})


# ----------------------------------------------------------------------------- interfaces


def interface_entry(authorizer: Authorizer, api_name: str) -> dict[str, Any]:
    """The authorizer's mutable ``interface_list`` entry for ``api_name`` (created on demand)."""
    entry = authorizer.interfaces.get(api_name)
    if entry is None:
        ch_name, group = next((c, g) for n, c, g in PRIVACY_INTERFACES if n == api_name)
        entry = {
            "api_name": api_name,
            "api_ch_name": ch_name,
            "api_desc": ch_name,
            "status": 1,
            "api_link": f"https://developers.weixin.qq.com/miniprogram/dev/api/{api_name}.html",
            "group_name": group,
        }
        authorizer.interfaces[api_name] = entry
    return entry


def get_privacy_interface(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``GET /wxa/security/get_privacy_interface?access_token=<authorizer token>``.

    Lists every API of :data:`PRIVACY_INTERFACES`; ``apply_time``/``audit_id`` appear after an
    application, ``fail_reason`` after a rejection. Errors: authorizer-token errors, 61007.
    """
    authorizer, problem = _authorizer_with_18(state, query)
    if problem is not None:
        return problem
    assert authorizer is not None
    entries = [interface_entry(authorizer, name) for name, _, _ in PRIVACY_INTERFACES]
    return _ok({"interface_list": entries})


def apply_privacy_interface(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /wxa/security/apply_privacy_interface?access_token=<authorizer token>``.

    Puts the API under review (status 3) with a new ``audit_id``; review it with
    ``Emulator.review_interface``. Errors: authorizer-token errors, 61007, 47001 bad JSON or
    types (assumed also for content over 300 characters, more than 10 pictures or 1 video),
    61034 missing api_name/content, or a location API without url/pic/video, 61035 an API
    that needs no application (or wrong case), 61032 a video not ending in ``.mp4``, 61031 an
    application already under review.
    """
    authorizer, problem = _authorizer_with_18(state, query)
    if problem is not None:
        return problem
    assert authorizer is not None
    data = _json_object(body)
    if data is None:
        return error(state, 47001)
    api_name, content = data.get("api_name"), data.get("content")
    if not api_name or not content:
        return error(state, 61034)
    lists = [data.get(key, []) for key in ("url_list", "pic_list", "video_list")]
    if (
        not isinstance(api_name, str)
        or not isinstance(content, str)
        or not all(isinstance(v, list) and all(isinstance(u, str) for u in v) for v in lists)
    ):
        return error(state, 47001)
    urls, pics, videos = lists
    if len(content) > 300 or len(pics) > 10 or len(videos) > 1:
        return error(state, 47001)
    if api_name not in {name for name, _, _ in PRIVACY_INTERFACES}:
        return error(state, 61035)
    if any(not v.lower().split("?", 1)[0].endswith(".mp4") for v in videos):
        return error(state, 61032)
    entry = interface_entry(authorizer, api_name)
    if entry["group_name"] == "地理位置" and not (urls or pics or videos):
        return error(state, 61034)
    if entry["status"] == 3:
        return error(state, 61031)
    audit_id = state.new_audit_id()
    entry.update(status=3, audit_id=audit_id, apply_time=int(state.clock()))
    entry.pop("fail_reason", None)
    return _ok({"audit_id": audit_id})


# ----------------------------------------------------------------------------- authorization


def api_create_preauthcode(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_create_preauthcode?component_access_token=...``.

    Answers ``{"pre_auth_code": "preauthcode@@@...", "expires_in": 1800}``. Errors:
    component-token errors, 47001, 41018/61011.
    """
    data = _component_body(state, query, body)
    if isinstance(data, EmulatorResponse):
        return data
    code = f"preauthcode@@@{new_secret(state.rng, 32)}"
    state.preauth_codes[code] = state.clock() + PREAUTH_CODE_TTL
    return json_response(dumps({"pre_auth_code": code, "expires_in": PREAUTH_CODE_TTL}))


def api_query_auth(state: EmulatorState, query: Mapping[str, str], body: bytes) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_query_auth?component_access_token=...``.

    Exchanges a code from ``Emulator.authorize`` (single use, one hour) for
    ``authorization_info`` with a fresh authorizer access token, the current refresh token and
    ``func_info``. Errors: component-token errors, 47001, 41018/61011, 61010 unknown, used or
    expired code (code assumed), 61003 authorization since revoked.
    """
    data = _component_body(state, query, body)
    if isinstance(data, EmulatorResponse):
        return data
    grant = state.auth_codes.pop(str(data.get("authorization_code") or ""), None)
    if grant is None or state.clock() > grant[1]:
        return error(state, 61010)
    authorizer = state.authorizers.get(grant[0])
    if authorizer is None or not authorizer.authorized:
        return error(state, 61003)
    token = state.tokens.issue("authorizer", authorizer.appid, state.token_ttl, state.grace)
    info = {
        "authorizer_appid": authorizer.appid,
        "authorizer_access_token": token,
        "expires_in": int(state.token_ttl),
        "authorizer_refresh_token": authorizer.refresh_token,
        "func_info": authorizer.func_info(),
    }
    return json_response(dumps({"authorization_info": info}))


def api_get_authorizer_info(
    state: EmulatorState, query: Mapping[str, str], body: bytes
) -> EmulatorResponse:
    """``POST /cgi-bin/component/api_get_authorizer_info?component_access_token=...``.

    Answers ``authorizer_info`` (a Mini Program: ``MiniProgramInfo`` present) and
    ``authorization_info`` (appid, refresh token, func_info). Errors: component-token errors,
    47001, 41018/61011, 61003 unknown or revoked authorizer.
    """
    data = _component_body(state, query, body)
    if isinstance(data, EmulatorResponse):
        return data
    authorizer = state.authorizers.get(str(data.get("authorizer_appid") or ""))
    if authorizer is None or not authorizer.authorized:
        return error(state, 61003)
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
    return json_response(orjson.dumps(payload))


SURFACE_HANDLERS: Final = {
    "/cgi-bin/component/setprivacysetting": setprivacysetting,
    "/cgi-bin/component/uploadprivacyextfile": uploadprivacyextfile,
    "/wxa/security/get_privacy_interface": get_privacy_interface,
    "/wxa/security/apply_privacy_interface": apply_privacy_interface,
    "/cgi-bin/component/api_create_preauthcode": api_create_preauthcode,
    "/cgi-bin/component/api_query_auth": api_query_auth,
    "/cgi-bin/component/api_get_authorizer_info": api_get_authorizer_info,
}
"""WeChat path -> handler, merged into ``HANDLERS``."""
