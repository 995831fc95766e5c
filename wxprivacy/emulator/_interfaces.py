"""The privacy-interface endpoints: list the gated APIs, apply to use one.

Each handler starts after its route's prologue (:data:`._routes.ROUTES`): the authorizer token,
permission set 18 (61007) and, for applications, the JSON body (47001) are already checked.
"""

from __future__ import annotations

from typing import Any, Final

from ._call import Call, ok
from ._payloads import EmulatorResponse
from ._state import Authorizer

__all__ = [
    "PRIVACY_INTERFACES",
    "apply_privacy_interface",
    "get_privacy_interface",
    "interface_entry",
]

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

_NAMES: Final = frozenset(name for name, _, _ in PRIVACY_INTERFACES)


def interface_entry(authorizer: Authorizer, api_name: str) -> dict[str, Any]:
    """The authorizer's mutable ``interface_list`` entry for ``api_name`` (created on demand).

    Raises:
        KeyError: ``api_name`` is not in :data:`PRIVACY_INTERFACES`.
    """
    entry = authorizer.interfaces.get(api_name)
    if entry is None:
        if api_name not in _NAMES:
            raise KeyError(api_name)
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


def get_privacy_interface(call: Call) -> EmulatorResponse:
    """``GET /wxa/security/get_privacy_interface?access_token=<authorizer token>``.

    Lists every API of :data:`PRIVACY_INTERFACES`; ``apply_time``/``audit_id`` appear after an
    application, ``fail_reason`` after a rejection. No errors besides the prologue's.
    """
    entries = [interface_entry(call.authorizer, name) for name, _, _ in PRIVACY_INTERFACES]
    return ok({"interface_list": entries})


def apply_privacy_interface(call: Call) -> EmulatorResponse:
    """``POST /wxa/security/apply_privacy_interface?access_token=<authorizer token>``.

    Puts the API under review (status 3) with a new ``audit_id``; review it with
    ``Emulator.review_interface``. Errors (besides the prologue): 47001 wrong types (assumed also
    for content over 300 characters, more than 10 pictures or 1 video), 61034 missing
    api_name/content, or a location API without url/pic/video, 61035 an API that needs no
    application (or wrong case), 61032 a video not ending in ``.mp4``, 61031 an application
    already under review.
    """
    data = call.data
    api_name, content = data.get("api_name"), data.get("content")
    if not api_name or not content:
        return call.error(61034)
    lists = [data.get(key, []) for key in ("url_list", "pic_list", "video_list")]
    if (
        not isinstance(api_name, str)
        or not isinstance(content, str)
        or not all(isinstance(v, list) and all(isinstance(u, str) for u in v) for v in lists)
    ):
        return call.error(47001)
    urls, pics, videos = lists
    if len(content) > 300 or len(pics) > 10 or len(videos) > 1:
        return call.error(47001)
    if api_name not in _NAMES:
        return call.error(61035)
    if any(not v.lower().split("?", 1)[0].endswith(".mp4") for v in videos):
        return call.error(61032)
    entry = interface_entry(call.authorizer, api_name)
    if entry["group_name"] == "地理位置" and not (urls or pics or videos):
        return call.error(61034)
    if entry["status"] == 3:
        return call.error(61031)
    audit_id = call.state.new_audit_id()
    entry.update(status=3, audit_id=audit_id, apply_time=int(call.state.clock()))
    entry.pop("fail_reason", None)
    return ok({"audit_id": audit_id})
