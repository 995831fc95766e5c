"""The privacy-guideline endpoints: getprivacysetting, setprivacysetting, uploadprivacyextfile.

Each handler starts after its route's prologue (:data:`._routes.ROUTES`): the authorizer token
(41001/40001/48001/42001), permission set 18 (61007), the body (47001, or 41005 for uploads) and
``privacy_ver`` (47001/86071) are already checked. Where WeChat's errcode for a mistake is not
documented, the emulator answers 47001 (data format error); the docstrings say "assumed".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ._call import Call, is_int, ok
from ._payloads import PRIVACY_DESC_LIST, EmulatorResponse, json_response

__all__ = ["EXT_FILE_MAX_BYTES", "getprivacysetting", "setprivacysetting", "uploadprivacyextfile"]

EXT_FILE_MAX_BYTES: Final = 100 * 1024
"""Largest accepted privacy ext file, in bytes (else 40126)."""

_LABELS: Final = dict(PRIVACY_DESC_LIST)
_STORE_EXPIRE: Final = re.compile(r"[0-9]+天")
_CONTACTS: Final = ("contact_phone", "contact_email", "contact_qq", "contact_weixin")
_OWNER_STRINGS: Final = (*_CONTACTS, "notice_method", "store_expire_timestamp", "ext_file_media_id")


def getprivacysetting(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/getprivacysetting?access_token=<authorizer token>``.

    Body ``{"privacy_ver": 1|2}`` (absent: 2). Answers the cached full guideline body.
    Errors (besides the prologue): 86074 privacy_ver 1 without a live version.
    """
    version = call.authorizer.version(call.privacy_ver)
    if version is None:
        return call.error(86074)
    return json_response(version.body())


def _owner_errcode(owner: Any) -> int:
    if owner is None:
        return 86069
    if not isinstance(owner, dict):
        return 47001
    for name in _OWNER_STRINGS:
        if name in owner and not isinstance(owner[name], str):
            return 47001
    if "store_region" in owner and not is_int(owner["store_region"]):
        return 47001
    if not any(str(owner.get(name, "")).strip() for name in _CONTACTS):
        return 86069
    if not str(owner.get("notice_method", "")).strip():
        return 86070
    expire = owner.get("store_expire_timestamp", "")
    if expire and not _STORE_EXPIRE.fullmatch(expire):
        return 86072
    return 0


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


def setprivacysetting(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/setprivacysetting?access_token=<authorizer token>``.

    ``privacy_ver=2`` (default) replaces the development version's ``owner_setting``,
    ``setting_list`` and ``sdk_privacy_info_list`` (labels of official keys filled in,
    ``update_time`` set to now; ``privacy_list``/``code_exist`` untouched). ``privacy_ver=1``
    replaces only the live version's ``owner_setting`` (its ``ext_file_media_id`` is kept).
    ``\\uXXXX`` escapes are kept as literal text, as WeChat does.

    Errors (besides the prologue): 47001 wrong types (also, assumed,
    ``setting_list``/``sdk_privacy_info_list`` with ``privacy_ver=1`` or no ``setting_list``
    with 2), 86069 no owner_setting or no contact, 86070 no notice_method, 86072 bad
    store_expire_timestamp, 86073 ext_file_media_id neither uploaded by this authorizer nor
    already in one of its versions, 86074 no live version, 86075 live ext_file_media_id changed.
    """
    authorizer, data, now = call.authorizer, call.data, int(call.state.clock())
    owner = data.get("owner_setting")
    errcode = _owner_errcode(owner)
    if errcode:
        return call.error(errcode)
    assert isinstance(owner, dict)
    media = owner.get("ext_file_media_id", "")
    if call.privacy_ver == 1:
        live = authorizer.live
        if live is None:
            return call.error(86074)
        if "setting_list" in data or "sdk_privacy_info_list" in data:
            return call.error(47001)
        current = live.setting["owner_setting"].get("ext_file_media_id", "")
        if "ext_file_media_id" in owner and media != current:
            return call.error(86075)
        live.setting["owner_setting"] = _merged_owner(owner, keep_media=current)
        live.setting["update_time"] = now
        live.changed()
        return ok()
    known = authorizer.media_ids | {
        version.setting["owner_setting"].get("ext_file_media_id", "")
        for version in (authorizer.dev, authorizer.live)
        if version is not None
    }
    if media and media not in known:
        return call.error(86073)
    items = _items(data.get("setting_list"))
    sdks = _sdks(data["sdk_privacy_info_list"]) if "sdk_privacy_info_list" in data else []
    if items is None or sdks is None:
        return call.error(47001)
    dev = authorizer.dev
    dev.setting["owner_setting"] = _merged_owner(owner, keep_media=None)
    dev.setting["setting_list"] = items
    if sdks:
        dev.setting["sdk_privacy_info_list"] = sdks
    else:
        dev.setting.pop("sdk_privacy_info_list", None)
    dev.setting["update_time"] = now
    dev.changed()
    return ok()


def _merged_owner(owner: Mapping[str, Any], *, keep_media: str | None) -> dict[str, Any]:
    merged: dict[str, Any] = {name: str(owner.get(name, "")) for name in _OWNER_STRINGS}
    merged["store_region"] = owner.get("store_region", 0)
    if keep_media is not None:
        merged["ext_file_media_id"] = keep_media
    return merged


def uploadprivacyextfile(call: Call) -> EmulatorResponse:
    """``POST /cgi-bin/component/uploadprivacyextfile?access_token=<authorizer token>``.

    Multipart field ``file``; answers ``{"ext_file_media_id": "<19 digits>"}`` and remembers the
    id for the authorizer (setprivacysetting accepts only ids it uploaded).

    Errors (besides the prologue, whose 41005 covers a body that is not
    ``multipart/form-data``, e.g. JSON; assumed): 41005 no ``file`` part with a file name,
    40006 not a ``.txt`` file name, 40126 empty or over 100 KB.
    """
    upload = call.form.get("file")
    if upload is None or upload.filename is None:
        return call.error(41005)
    if not upload.filename.lower().endswith(".txt"):
        return call.error(40006)
    if not upload.content or len(upload.content) > EXT_FILE_MAX_BYTES:
        return call.error(40126)
    media_id = call.state.new_media_id()
    call.authorizer.media_ids.add(media_id)
    return ok({"ext_file_media_id": media_id})
