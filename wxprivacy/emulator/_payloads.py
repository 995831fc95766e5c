"""Wire details shared by the handlers: errmsg texts, ``rid`` suffixes, JSON encoding.

Everything here is pure. Bodies are UTF-8 JSON with raw (unescaped) Chinese, as WeChat sends them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final, Protocol

import orjson

__all__ = [
    "CONTENT_TYPE",
    "ERRMSGS",
    "Core",
    "EmulatorResponse",
    "OFFICIAL_PRIVACY_KEYS",
    "PRIVACY_DESC_LIST",
    "dumps",
    "error_body",
    "json_response",
    "make_rid",
]

CONTENT_TYPE: Final = "application/json; encoding=utf-8"
"""The Content-Type WeChat was recorded sending (non-standard ``encoding=`` parameter)."""

ERRMSGS: Final[Mapping[int, str]] = {
    -1: "system error",
    40001: (
        "invalid credential, access_token is invalid or not latest, could get access_token by "
        "getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r"
    ),
    41001: "access_token missing",
    41004: "appsecret missing",
    41018: "missing component_appid",
    42001: "access_token expired",
    45011: "api minute-quota reach limit, must slower, retry next minute",
    47001: "data format error",
    48001: "api unauthorized",
    40170: "args count exceed count limit",
    61003: "component is not authorized by this account",
    61005: "component ticket is expired",
    61006: "component ticket is invalid",
    61007: "api is unauthorized to component",
    61011: "invalid component",
    61014: "must use component_access_token for this api",
    61023: "refresh_token is invalid",
    86069: "owner_setting必填字段字段缺失",
    86070: "notice_method必填字段字段缺失",
    86071: "privacy_ver参数无效",
    86072: "store_expire_timestamp参数无效。如果是编码格式不对，也会报这个错",
    86073: "ext_file_media_id参数无效",
    86074: "现网隐私协议不存在",
    86075: "现网隐私协议的ext_file_media_id禁止修改",
    40006: "invalid file type",
    40126: "invalid text size",
    41005: "media data missing",
    61010: "code is expired or invalid",
    61031: "the previous application is still under review",
    61032: "video_list must be mp4",
    61034: "required parameters are missing",
    61035: "this api does not need to apply",
    61039: "privacy check task is not finished, please try again later",
}
"""errcode -> the literal errmsg text (before the `` rid: ...`` suffix)."""

PRIVACY_DESC_LIST: Final[tuple[tuple[str, str], ...]] = (
    ("UserInfo", "用户信息（微信昵称、头像）"),
    ("Location", "位置信息"),
    ("Address", "地址"),
    ("Invoice", "发票信息"),
    ("RunData", "微信运动数据"),
    ("Record", "麦克风"),
    ("Album", "选中的照片或视频信息"),
    ("Camera", "摄像头"),
    ("PhoneNumber", "手机号"),
    ("Contact", "通讯录（仅写入）权限"),
    ("DeviceInfo", "设备信息"),
    ("EXIDNumber", "身份证号码"),
    ("EXOrderInfo", "订单信息"),
    ("EXUserPublishContent", "发布内容"),
    ("EXUserFollowAcct", "所关注账号"),
    ("EXUserOpLog", "操作日志"),
    ("AlbumWriteOnly", "相册（仅写入）权限"),
    ("LicensePlate", "车牌号"),
    ("BlueTooth", "蓝牙"),
    ("CalendarWriteOnly", "日历（仅写入）权限"),
    ("Email", "邮箱"),
    ("MessageFile", "选中的文件"),
)
"""The 22 official ``privacy_key`` values and their labels, in the live API's order."""

OFFICIAL_PRIVACY_KEYS: Final[tuple[str, ...]] = tuple(key for key, _ in PRIVACY_DESC_LIST)


def dumps(value: Any) -> bytes:
    """Encode ``value`` as compact UTF-8 JSON with raw Chinese (orjson)."""
    return orjson.dumps(value)


def make_rid(now: float, rng: random.Random) -> str:
    """Return a rid ``xxxxxxxx-xxxxxxxx-xxxxxxxx`` whose first group is ``now`` in hex seconds."""
    return f"{int(now) & 0xFFFFFFFF:08x}-{rng.getrandbits(32):08x}-{rng.getrandbits(32):08x}"


def error_body(errcode: int, now: float, rng: random.Random, errmsg: str | None = None) -> bytes:
    """Return the JSON body ``{"errcode": N, "errmsg": "<text> rid: <rid>"}``.

    Args:
        errcode: the WeChat error code.
        now: Unix seconds, encoded into the rid's first group.
        rng: where the rid's two random groups come from.
        errmsg: the text; defaults to :data:`ERRMSGS` ``[errcode]``.
    """
    text = ERRMSGS.get(errcode, "unknown error") if errmsg is None else errmsg
    return dumps({"errcode": errcode, "errmsg": f"{text} rid: {make_rid(now, rng)}"})


class EmulatorResponse:
    """An HTTP answer from the emulator core.

    Attributes:
        status: the HTTP status code.
        headers: response headers (lower-case names).
        body: the raw body bytes.
        fault: the injected fault kind that the I/O adapter must act out (``"timeout"`` or
            ``"reset"``), or ``None``. Other fault kinds are already in ``status``/``body``.
        delay: seconds a ``"timeout"`` fault holds the answer back over HTTP.
    """

    __slots__ = ("body", "delay", "fault", "headers", "status")

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        fault: str | None = None,
        delay: float = 0.0,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.fault = fault
        self.delay = delay

    def __repr__(self) -> str:
        return (
            f"EmulatorResponse(status={self.status}, body={self.body[:60]!r}, fault={self.fault})"
        )

    def json(self) -> Any:
        """Parse ``body`` as JSON."""
        return orjson.loads(self.body)


class Core(Protocol):
    """What the I/O adapters (httpx transport, ASGI app) need from an emulator: ``handle``."""

    async def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: bytes,
        headers: Mapping[str, str],
    ) -> EmulatorResponse:
        """Answer one request; the response says which fault, if any, to act out."""
        ...


def json_response(body: bytes, status: int = 200) -> EmulatorResponse:
    """Wrap an encoded JSON body with WeChat's Content-Type."""
    return EmulatorResponse(status, {"content-type": CONTENT_TYPE}, body)
