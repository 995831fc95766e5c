"""Deterministic synthetic authorizers: varied, realistic privacy settings with known flaws.

The profile mix for ``n`` authorizers (counts are rounded, and every flawed profile appears at
least once when ``n >= 10``; the rest are ``"configured"``):

========================  =====  ==============================================================
profile                   share  what it looks like
========================  =====  ==============================================================
``undeclared``            15 %   ``privacy_list`` has 1-3 keys ``setting_list`` does not declare
``no_code``                8 %   ``code_exist`` 0 and empty ``privacy_list``
``no_permission``          5 %   permission set 18 not granted: getprivacysetting -> 61007
``no_contact``             5 %   configured, but every contact field of ``owner_setting`` empty
``configured``            rest   every detected key declared, a contact method present
========================  =====  ==============================================================

Independently, about 25 % carry ``sdk_privacy_info_list`` and about 60 % have a live version
(``privacy_ver=1``). SDK entries never declare a key that ``setting_list`` leaves undeclared, so
the undeclared keys are exactly ``privacy_list - setting_list``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Final

from ._payloads import PRIVACY_DESC_LIST

__all__ = ["MAX_EMULATED", "PROFILE_SHARES", "SeedSpec", "seed_specs"]

MAX_EMULATED: Final = 200_000
"""Authorizers an emulator may be seeded with (each costs about 6 KB; 200,000 about 1.2 GB)."""

PROFILE_SHARES: Final[tuple[tuple[str, float], ...]] = (
    ("undeclared", 0.15),
    ("no_code", 0.08),
    ("no_permission", 0.05),
    ("no_contact", 0.05),
)

_LABELS = dict(PRIVACY_DESC_LIST)
_PURPOSES: Final[dict[str, tuple[str, ...]]] = {
    "UserInfo": ("展示会员头像与昵称", "完善个人资料", "在评论区展示用户身份"),
    "Location": ("查找附近门店", "计算配送距离", "推荐周边活动"),
    "Address": ("填写收货地址", "快速完成配送信息填写"),
    "Invoice": ("开具电子发票",),
    "RunData": ("统计每日运动步数并兑换积分",),
    "Record": ("录制语音留言", "语音搜索商品"),
    "Album": ("上传商品评价图片", "更换个人头像"),
    "Camera": ("扫描商品条码", "拍摄并上传证件照片"),
    "PhoneNumber": ("登录并绑定会员账号", "接收订单状态通知", "核验预约人身份"),
    "Contact": ("保存客服电话到通讯录",),
    "DeviceInfo": ("保障账号安全与风险识别", "适配屏幕显示效果"),
    "EXIDNumber": ("完成实名认证",),
    "EXOrderInfo": ("查询与管理历史订单", "提供售后服务"),
    "EXUserPublishContent": ("展示用户发布的笔记与评论",),
    "EXUserFollowAcct": ("展示已关注的店铺",),
    "EXUserOpLog": ("排查故障与改进服务",),
    "AlbumWriteOnly": ("保存分享海报到相册", "保存电子凭证图片"),
    "LicensePlate": ("登记停车缴费车辆",),
    "BlueTooth": ("连接智能门锁设备", "连接打印机打印小票"),
    "CalendarWriteOnly": ("添加活动日程提醒",),
    "Email": ("发送电子账单",),
    "MessageFile": ("上传简历附件",),
}
# Weights: common keys show up far more often than exotic ones.
_KEY_WEIGHTS: Final[dict[str, int]] = {k: 1 for k in _PURPOSES} | {
    "UserInfo": 8,
    "Location": 6,
    "PhoneNumber": 7,
    "Album": 5,
    "Camera": 4,
    "AlbumWriteOnly": 4,
    "DeviceInfo": 3,
    "Address": 3,
    "EXOrderInfo": 3,
}
_NOTICE: Final = ("小程序内弹窗通知", "小程序首页公告", "站内信通知", "短信通知")
_EXPIRE: Final = ("", "30天", "90天", "180天", "365天", "10000天")
_SDKS: Final = (
    ("示例地图SDK", "示例科技有限公司", ("Location",)),
    ("示例统计SDK", "示例数据服务有限公司", ("DeviceInfo",)),
    ("示例支付SDK", "示例支付有限公司", ("PhoneNumber", "DeviceInfo")),
    ("示例客服SDK", "示例云通信有限公司", ("UserInfo", "Record")),
)


class SeedSpec:
    """What to create for one synthetic authorizer (consumed by :class:`Emulator`).

    Attributes:
        appid: ``wx`` + 16 hex digits.
        kind: the profile name (see the module docstring).
        permission_18: whether permission set 18 was granted.
        dev: the development-version setting (getprivacysetting fields).
        live: the live-version setting, or ``None`` (86074 on ``privacy_ver=1``).
        auth_time: Unix seconds of the authorization.
    """

    __slots__ = ("appid", "auth_time", "dev", "kind", "live", "permission_18")

    def __init__(
        self,
        appid: str,
        kind: str,
        permission_18: bool,
        dev: dict[str, Any],
        live: dict[str, Any] | None,
        auth_time: int,
    ) -> None:
        self.appid = appid
        self.kind = kind
        self.permission_18 = permission_18
        self.dev = dev
        self.live = live
        self.auth_time = auth_time


def _profiles(n: int, rng: random.Random) -> list[str]:
    kinds: list[str] = []
    for name, share in PROFILE_SHARES:
        count = round(n * share)
        if n >= 10:
            count = max(count, 1)
        kinds.extend([name] * count)
    kinds = kinds[:n]
    kinds.extend(["configured"] * (n - len(kinds)))
    rng.shuffle(kinds)
    return kinds


def _pick_keys(rng: random.Random, k: int, exclude: Sequence[str] = ()) -> list[str]:
    pool = [key for key in _PURPOSES if key not in exclude]
    chosen: list[str] = []
    while len(chosen) < k and pool:
        key = rng.choices(pool, weights=[_KEY_WEIGHTS[p] for p in pool])[0]
        pool.remove(key)
        chosen.append(key)
    return chosen


def _item(rng: random.Random, key: str) -> dict[str, str]:
    label = _LABELS[key] if rng.random() < 0.4 else ""
    return {"privacy_key": key, "privacy_text": rng.choice(_PURPOSES[key]), "privacy_label": label}


def _owner(rng: random.Random, index: int, with_contact: bool) -> dict[str, Any]:
    owner: dict[str, Any] = {
        "contact_phone": "",
        "contact_email": "",
        "contact_qq": "",
        "contact_weixin": "",
        "store_expire_timestamp": rng.choice(_EXPIRE),
        "ext_file_media_id": "" if rng.random() < 0.9 else str(rng.randrange(10**18, 10**19)),
        "notice_method": rng.choice(_NOTICE),
        "store_region": 0,
    }
    if with_contact:
        fields = ["contact_phone", "contact_email", "contact_qq", "contact_weixin"]
        for name in rng.sample(fields, rng.randint(1, 3)):
            owner[name] = {
                "contact_phone": f"400-000-{index % 10000:04d}",
                "contact_email": f"privacy{index}@example.com",
                "contact_qq": str(10000 + index),
                "contact_weixin": f"service_wx_{index}",
            }[name]
    return owner


def _setting(rng: random.Random, kind: str, index: int) -> dict[str, Any]:
    detected = _pick_keys(rng, rng.randint(2, 6))
    declared = list(detected)
    if rng.random() < 0.3:
        declared += _pick_keys(rng, 1, exclude=detected)
    if kind == "undeclared":
        missing = rng.randint(1, min(3, len(detected)))
        declared = [key for key in declared if key not in detected[-missing:]]
    setting: dict[str, Any] = {
        "code_exist": 1,
        "privacy_list": detected,
        "setting_list": [_item(rng, key) for key in declared],
        "update_time": rng.randrange(1_680_000_000, 1_720_000_000),
        "owner_setting": _owner(rng, index, with_contact=kind != "no_contact"),
    }
    if kind == "no_code":
        setting["code_exist"] = 0
        setting["privacy_list"] = []
        if rng.random() < 0.5:  # never configured: the observed all-empty shape
            setting["setting_list"] = []
            setting["update_time"] = 0
            setting["owner_setting"] = _owner(rng, index, with_contact=False)
            setting["owner_setting"].update(store_expire_timestamp="", notice_method="")
            setting["owner_setting"]["ext_file_media_id"] = ""
    if rng.random() < 0.25 and setting["setting_list"]:
        undeclared = set(detected) - set(declared)
        sdks = []
        for name, biz, keys in rng.sample(_SDKS, rng.randint(1, 2)):
            sdk_keys = [key for key in keys if key not in undeclared]
            if sdk_keys:
                items = [_item(rng, key) for key in sdk_keys]
                sdks.append({"sdk_name": name, "sdk_biz_name": biz, "sdk_list": items})
        if sdks:
            setting["sdk_privacy_info_list"] = sdks
    return setting


def seed_specs(n: int, seed: int) -> list[SeedSpec]:
    """Return ``n`` deterministic authorizer specs for ``seed`` (same seed, same specs)."""
    rng = random.Random(f"wxprivacy-emulator-seed-{seed}")
    specs: list[SeedSpec] = []
    seen: set[str] = set()
    for index, kind in enumerate(_profiles(n, rng)):
        appid = f"wx{rng.getrandbits(64):016x}"
        while appid in seen:
            appid = f"wx{rng.getrandbits(64):016x}"
        seen.add(appid)
        dev = _setting(rng, kind, index)
        live: dict[str, Any] | None = None
        if dev["update_time"] and rng.random() < 0.6:
            live = {**dev, "update_time": dev["update_time"] - rng.randrange(86_400, 90 * 86_400)}
            live["owner_setting"] = dict(dev["owner_setting"])
        specs.append(
            SeedSpec(
                appid=appid,
                kind=kind,
                permission_18=kind != "no_permission",
                dev=dev,
                live=live,
                auth_time=rng.randrange(1_600_000_000, 1_700_000_000),
            )
        )
    return specs
