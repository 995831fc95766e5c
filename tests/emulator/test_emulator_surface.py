"""The emulator's write, upload, interface and authorization endpoints by hand, and its pushes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from wxprivacy import MemoryTokenStore
from wxprivacy.callback import CallbackHandler, MessageCrypto, parse_event
from wxprivacy.emulator import DEFAULT_ENCODING_AES_KEY, Emulator

from ._support import WeChat

SP = "/cgi-bin/component/setprivacysetting"
UP = "/cgi-bin/component/uploadprivacyextfile"
OWNER = {"contact_qq": "10001", "notice_method": "弹窗"}


def body(owner: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"privacy_ver": 2, "owner_setting": owner or OWNER, "setting_list": []}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (body(owner={"notice_method": "弹窗", "contact_qq": ""}), 86069),
        ({"privacy_ver": 2, "setting_list": []}, 86069),
        (body(owner={"contact_qq": "1"}), 86070),
        (body(owner={**OWNER, "store_expire_timestamp": "30"}), 86072),
        (body(owner={**OWNER, "ext_file_media_id": "999"}), 86073),
        (body(privacy_ver=3), 86071),
        (body(privacy_ver="2"), 47001),
        (body(owner="{}"), 47001),
        (body(setting_list=None), 47001),
        (body(setting_list=[{"privacy_text": "x"}]), 47001),
        (body(owner={**OWNER, "contact_qq": 10001}), 47001),
    ],
)
async def test_setprivacysetting_errcodes(
    wx: WeChat, pick: Callable[[str], str], data: dict[str, Any], code: int
) -> None:
    token = await wx.authorizer_token(pick("configured"))
    assert (await wx.post(SP, data, access_token=token))["errcode"] == code


async def test_escaped_chinese_is_kept_literally_like_wechat(
    wx: WeChat, pick: Callable[[str], str]
) -> None:
    appid = pick("configured")
    token = await wx.authorizer_token(appid)
    escaped = b'{"owner_setting":{"contact_qq":"1","notice_method":"x",'
    escaped += b'"store_expire_timestamp":"30\\u5929"},"setting_list":[]}'
    assert (await wx.post(SP, raw=escaped, access_token=token))["errcode"] == 86072
    raw = '{"owner_setting":{"contact_qq":"1","notice_method":"x","store_expire_timestamp":"30天"},'
    raw += '"setting_list":[{"privacy_key":"Album","privacy_text":"\\u4e0a\\u4f20"}]}'
    assert (await wx.post(SP, raw=raw.encode(), access_token=token))["errcode"] == 0
    got = await wx.privacy(token)
    assert got["setting_list"] == [
        {
            "privacy_key": "Album",
            "privacy_text": "\\u4e0a\\u4f20",
            "privacy_label": "选中的照片或视频信息",
        }
    ]
    assert got["owner_setting"]["store_expire_timestamp"] == "30天"


async def test_live_version_rules(wx: WeChat, emu: Emulator, pick: Callable[[str], str]) -> None:
    appid = pick("configured")
    token = await wx.authorizer_token(appid)
    emu.set_privacy_setting(appid, {"owner_setting": {"ext_file_media_id": "111"}}, privacy_ver=1)
    live = body(privacy_ver=1, setting_list=None)
    assert (await wx.post(SP, {**live, "setting_list": []}, access_token=token))["errcode"] == 47001
    changed = {**live, "owner_setting": {**OWNER, "ext_file_media_id": "222"}}
    assert (await wx.post(SP, changed, access_token=token))["errcode"] == 86075
    assert (await wx.post(SP, live, access_token=token))["errcode"] == 0
    got = await wx.privacy(token, 1)
    assert got["owner_setting"]["contact_qq"] == "10001"
    assert got["owner_setting"]["ext_file_media_id"] == "111"


async def test_no_permission_and_component_token(wx: WeChat, pick: Callable[[str], str]) -> None:
    token = await wx.authorizer_token(pick("no_permission"))
    assert (await wx.post(SP, body(), access_token=token))["errcode"] == 61007
    ctoken = await wx.component_token()
    assert (await wx.post(SP, body(), access_token=ctoken))["errcode"] == 48001


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"file": ("a.txt", b"x" * 102_401, "text/plain")}, 40126),
        ({"file": ("a.txt", b"", "text/plain")}, 40126),
        ({"file": ("a.pdf", b"x", "application/pdf")}, 40006),
        ({"other": ("a.txt", b"x", "text/plain")}, 41005),
        (None, 41005),
    ],
)
async def test_upload_errcodes(
    wx: WeChat, pick: Callable[[str], str], files: dict[str, Any] | None, code: int
) -> None:
    token = await wx.authorizer_token(pick("configured"))
    if files is None:  # silenceper's bug: the file as JSON
        response = await wx.http.post(UP, params={"access_token": token}, json={"file": "abc"})
    else:
        response = await wx.http.post(UP, params={"access_token": token}, files=files)
    assert orjson.loads(response.content)["errcode"] == code


async def test_preauth_and_query_auth_by_hand(wx: WeChat, emu: Emulator, clock: Any) -> None:
    ctoken = await wx.component_token()
    comp = {"component_appid": emu.component_appid}
    pre = await wx.post(
        "/cgi-bin/component/api_create_preauthcode", comp, component_access_token=ctoken
    )
    assert pre["pre_auth_code"].startswith("preauthcode@@@") and pre["expires_in"] == 1800
    code = emu.authorize("wx1234567890abcdef")
    clock.advance(3601)
    qa = "/cgi-bin/component/api_query_auth"
    late = await wx.post(qa, {**comp, "authorization_code": code}, component_access_token=ctoken)
    assert late["errcode"] == 61010
    code = emu.authorize("wx1234567890abcdef")
    ctoken = await wx.component_token()
    ok = await wx.post(qa, {**comp, "authorization_code": code}, component_access_token=ctoken)
    info = ok["authorization_info"]
    assert info["authorizer_appid"] == "wx1234567890abcdef"
    assert {f["funcscope_category"]["id"] for f in info["func_info"]} >= {18}
    old = info["authorizer_refresh_token"]
    emu.authorize("wx1234567890abcdef")  # re-authorization supersedes the refresh token
    refused = await wx.authorizer_token_response("wx1234567890abcdef", ctoken, refresh=old)
    assert refused["errcode"] == 61023


async def test_pushes_are_signed_and_encrypted(emu: Emulator) -> None:
    crypto = MessageCrypto(emu.callback_token, DEFAULT_ENCODING_AES_KEY, emu.component_appid)
    push = emu.ticket_push()
    assert push.info_type == "component_verify_ticket"
    assert push.query["encrypt_type"] == "aes" and push.query["timestamp"].isdigit()
    encrypt = push.body.split(b"<Encrypt><![CDATA[")[1].split(b"]]>")[0].decode()
    plain = crypto.decrypt(
        msg_signature=push.query["msg_signature"],
        timestamp=push.query["timestamp"],
        nonce=push.query["nonce"],
        encrypt=encrypt,
    )
    assert plain == push.xml
    event = parse_event(plain)
    assert event.component_verify_ticket == emu.component_verify_ticket
    other = emu.push_event("notify_third_fasteregister", status=0)
    assert other.fields["InfoType"] == "notify_third_fasteregister" and "status" in other.fields
    assert repr(push) == "CallbackPush(info_type='component_verify_ticket')"


class Target:
    def __init__(self) -> None:
        self.component_appid = "wx0000000000000000"
        self.token_store = MemoryTokenStore()
        self.calls: list[tuple[str, str]] = []

    async def set_component_verify_ticket(self, ticket: str) -> None:
        self.calls.append(("ticket", ticket))

    async def query_auth(self, authorization_code: str, *, event: object = None) -> object:
        self.calls.append(("query_auth", authorization_code))
        return None

    async def remove_authorizer(self, authorizer_appid: str, *, event: object = None) -> None:
        self.calls.append(("remove", authorizer_appid))


async def test_pushes_go_through_the_callback_handler(emu: Emulator) -> None:
    target = Target()
    handler = CallbackHandler(target, emu.callback_crypto, clock=emu._state.clock)
    appid = "wx1234567890abcdef"
    for push in (emu.ticket_push(), emu.authorized_push(appid), emu.unauthorized_push(appid)):
        assert await handler.handle(push.query, push.body) == "success"
    kinds = [kind for kind, _ in target.calls]
    assert kinds == ["ticket", "query_auth", "remove"]
    push = emu.authorized_push(appid, info_type="updateauthorized")
    assert push.fields["AuthorizationCodeExpiredTime"] == str(int(emu._state.clock()) + 3600)
    transport = httpx.MockTransport(lambda r: httpx.Response(200))
    async with httpx.AsyncClient(transport=transport) as http:
        delivered = await push.deliver(http, "https://callback.example/cb")
    assert delivered.request.url.params["msg_signature"] == push.query["msg_signature"]


@pytest.mark.parametrize("text", ["a]]>b", "]]>", "x]]]]>y<z>&", "说明 ]]><![CDATA[ x"])
async def test_push_fields_survive_any_text(emu: Emulator, text: str) -> None:
    push = emu.push_event("notify_third_fasteregister", Note=text)
    event = parse_event(push.xml)
    assert event.fields["Note"] == text.strip()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("old", "new", "args"),
    [
        ("push_ticket", "issue_ticket", ()),
        ("component_access_token", "current_component_access_token", ()),
        ("authorizer_access_token", "current_authorizer_access_token", (0,)),
        ("invalidate_component_token", "revoke_component_token", ()),
        ("invalidate_authorizer_token", "revoke_authorizer_token", (0,)),
    ],
)
def test_renamed_emulator_methods_still_answer_with_a_deprecation_warning(
    old: str, new: str, args: tuple[int, ...]
) -> None:
    """Issue 12 §5: one meaning per name. The emulator's peeks and revocations had the names a
    client uses for fetching and a store for forgetting; the old names still work, warning."""
    emu = Emulator(authorizers=1)
    given = [emu.authorizer_appids[0] for _ in args]
    with pytest.warns(DeprecationWarning, match=new):
        before = getattr(emu, old)(*given)
    after = getattr(emu, new)(*given)
    if old != "push_ticket":
        assert before == after
