"""get/apply_privacy_interface: GET with no body, coerced numbers, never re-sending an apply."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from client_factory import APPID, emulated, make
from fakes import FakeWeChat, errcode, raises

from wxprivacy import (
    InvalidArgumentError,
    PrivacyInterfaceError,
    PrivacyInterfaceList,
    ResponseFormatError,
    TransportError,
)
from wxprivacy._privacy_validate import apply_interface_body
from wxprivacy.emulator import Emulator

GI = "/wxa/security/get_privacy_interface"
AI = "/wxa/security/apply_privacy_interface"


def answer(data: dict[str, Any]) -> Any:
    body = json.dumps({"errcode": 0, "errmsg": "ok", **data}, ensure_ascii=False).encode()
    return lambda _req: httpx.Response(200, content=body)


async def test_get_is_a_get_without_body_and_numbers_are_coerced() -> None:
    fake = FakeWeChat()
    items = [
        {"api_name": "wx.getLocation", "api_ch_name": "获取位置", "status": 1},
        {
            "api_name": "wx.choosePoi",
            "status": "3",
            "audit_id": "420000001",
            "apply_time": "1700000000",
        },
        {"api_name": "wx.chooseAddress", "status": 4, "audit_id": 7, "fail_reason": "理由不足"},
    ]
    fake.script[GI] = [answer({"interface_list": items})]
    client = await make(fake)
    result = await client.get_privacy_interface(APPID)
    request = fake.requests[-1]
    assert request.method == "GET" and request.content == b""
    assert dict(request.url.params) == {"access_token": fake.authorizer_tokens[APPID][0]}
    assert isinstance(result, PrivacyInterfaceList)
    assert "errcode" not in result.extras
    poi = result.get("wx.choosePoi")
    assert poi is not None and poi.status == 3 and poi.audit_id == 420000001
    assert (
        poi.apply_time == dt.datetime.fromtimestamp(1700000000, dt.UTC)
        and poi.under_review
        and not poi.enabled
    )
    assert result.interface_list[0].audit_id is None and result.interface_list[0].status == 1
    assert result.interface_list[2].fail_reason == "理由不足"
    assert result.get("wx.nope") is None


async def test_get_rejects_a_non_numeric_status_with_its_path() -> None:
    fake = FakeWeChat()
    fake.script[GI] = [answer({"interface_list": [{"api_name": "wx.a", "status": "ok"}]})]
    client = await make(fake)
    with pytest.raises(ResponseFormatError) as info:
        await client.get_privacy_interface(APPID)
    assert info.value.field_path == "interface_list[0].status"


async def test_apply_body_and_audit_id() -> None:
    fake = FakeWeChat()
    fake.script[AI] = [answer({"audit_id": "420000009"})]
    client = await make(fake)
    audit_id = await client.apply_privacy_interface(
        APPID,
        api_name="wx.choosePoi",
        content="用户下单时选择收货位置",
        pic_list=["https://example.com/a.png"],
    )
    assert audit_id == 420000009
    request = fake.requests[-1]
    assert request.method == "POST"
    assert "用户下单".encode() in request.content
    assert json.loads(request.content) == {
        "api_name": "wx.choosePoi",
        "content": "用户下单时选择收货位置",
        "pic_list": ["https://example.com/a.png"],
    }


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), httpx.WriteError("w")]
)
async def test_apply_is_never_resent_after_a_timeout_or_drop(exc: Exception) -> None:
    fake = FakeWeChat()
    fake.script[AI] = [raises(exc), answer({"audit_id": 1})]
    client = await make(fake)
    with pytest.raises(TransportError) as info:
        await client.apply_privacy_interface(APPID, api_name="wx.choosePoi", content="理由")
    assert info.value.maybe_sent is True
    assert fake.calls[AI] == 1


async def test_apply_is_not_resent_after_http_5xx() -> None:
    fake = FakeWeChat()
    fake.script[AI] = [lambda _r: httpx.Response(502, content=b"<html>bad gateway</html>")]
    client = await make(fake)
    with pytest.raises(TransportError):
        await client.apply_privacy_interface(APPID, api_name="wx.choosePoi", content="理由")
    assert fake.calls[AI] == 1


async def test_apply_is_retried_when_it_provably_was_not_accepted() -> None:
    fake = FakeWeChat()
    fake.script[AI] = [
        raises(httpx.ConnectError("refused")),
        errcode(-1, "system error"),
        answer({"audit_id": 5}),
    ]
    client = await make(fake)
    assert await client.apply_privacy_interface(APPID, api_name="wx.a", content="理由") == 5
    assert fake.calls[AI] == 3


async def test_get_is_retried_after_a_timeout() -> None:
    fake = FakeWeChat()
    fake.script[GI] = [raises(httpx.ReadTimeout("slow")), answer({"interface_list": []})]
    client = await make(fake)
    assert (await client.get_privacy_interface(APPID)).interface_list == ()
    assert fake.calls[GI] == 2


@pytest.mark.parametrize("code", [61031, 61032, 61033, 61034, 61035, 61036, 61037])
async def test_apply_errcodes(code: int) -> None:
    fake = FakeWeChat()
    fake.script[AI] = [errcode(code)]
    client = await make(fake)
    with pytest.raises(PrivacyInterfaceError) as info:
        await client.apply_privacy_interface(APPID, api_name="wx.a", content="理由")
    assert info.value.errcode == code and fake.calls[AI] == 1


async def test_answer_without_audit_id_is_a_format_error() -> None:
    fake = FakeWeChat()
    fake.script[AI] = [answer({"audit_id": "x"})]
    client = await make(fake)
    with pytest.raises(ResponseFormatError) as info:
        await client.apply_privacy_interface(APPID, api_name="wx.a", content="理由")
    assert info.value.field_path == "audit_id"


BAD: list[tuple[str, dict[str, Any]]] = [
    ("api_name", {"api_name": ""}),
    ("api_name", {"api_name": "wx. getLocation"}),
    ("api_name", {"api_name": None}),
    ("content", {"content": "  "}),
    ("content", {"content": "长" * 301}),
    ("pic_list", {"pic_list": [f"https://e.com/{i}.png" for i in range(11)]}),
    ("video_list", {"video_list": ["https://e.com/1.mp4", "https://e.com/2.mp4"]}),
    ("url_list", {"url_list": "https://e.com"}),
    ("url_list[0]", {"url_list": ["ftp://e.com"]}),
    ("pic_list[0]", {"pic_list": [""]}),
]


@pytest.mark.parametrize(("path", "kwargs"), BAD)
async def test_bad_apply_input_is_rejected_before_any_request(
    path: str, kwargs: dict[str, Any]
) -> None:
    fake = FakeWeChat()
    client = await make(fake)
    args: dict[str, Any] = {"api_name": "wx.choosePoi", "content": "理由", **kwargs}
    with pytest.raises(InvalidArgumentError) as info:
        await client.apply_privacy_interface(APPID, **args)
    assert str(info.value).startswith(path)
    assert fake.calls == {}


async def test_300_characters_are_accepted() -> None:
    fake = FakeWeChat()
    fake.script[AI] = [answer({"audit_id": 1})]
    client = await make(fake)
    await client.apply_privacy_interface(APPID, api_name="wx.a", content="长" * 300)
    assert fake.calls[AI] == 1


async def test_apply_review_flow_on_the_emulator() -> None:
    emu = Emulator()
    emu.add_authorizer(APPID)
    async with emulated(emu) as client:
        listed = await client.get_privacy_interface(APPID)
        assert {i.status for i in listed.interface_list} == {1}
        entry = listed.get("wx.getLocation")
        assert entry is not None and entry.api_ch_name
        with pytest.raises(PrivacyInterfaceError) as info:
            await client.apply_privacy_interface(APPID, api_name="wx.getlocation", content="x")
        assert info.value.errcode == 61035
        with pytest.raises(PrivacyInterfaceError) as info:
            await client.apply_privacy_interface(APPID, api_name="wx.getLocation", content="x")
        assert info.value.errcode == 61034  # location APIs need url, picture or video
        audit_id = await client.apply_privacy_interface(
            APPID,
            api_name="wx.getLocation",
            content="展示附近门店",
            url_list=["https://example.com/stores"],
        )
        entry = (await client.get_privacy_interface(APPID)).get("wx.getLocation")
        assert entry is not None and entry.under_review and entry.audit_id == audit_id
        with pytest.raises(PrivacyInterfaceError) as info:
            await client.apply_privacy_interface(
                APPID, api_name="wx.getLocation", content="x", url_list=["https://e.com"]
            )
        assert info.value.errcode == 61031
        with pytest.raises(PrivacyInterfaceError) as info:
            await client.apply_privacy_interface(
                APPID, api_name="wx.choosePoi", content="x", video_list=["https://e.com/v.mov"]
            )
        assert info.value.errcode == 61032
        emu.review_interface(APPID, "wx.getLocation")
        entry = (await client.get_privacy_interface(APPID)).get("wx.getLocation")
        assert entry is not None and entry.enabled
        emu.review_interface(APPID, "wx.chooseAddress", approve=False, reason="不符合")
        entry = (await client.get_privacy_interface(APPID)).get("wx.chooseAddress")
        assert entry is not None and entry.status == 4 and entry.fail_reason == "不符合"


# -- regressions from the issue-4 trial (each with the exact input that failed) -------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"api_name": "wx.get\tLocation"}, "api_name"),
        ({"url_list": ["https://"]}, r"url_list\[0\]"),
    ],
)
def test_apply_validation_gaps(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "api_name": "wx.getLocation",
        "content": "配送需要定位",
        "url_list": (),
        "pic_list": (),
        "video_list": (),
    }
    args.update(kwargs)
    with pytest.raises(InvalidArgumentError, match=field):
        apply_interface_body(**args)  # type: ignore[arg-type]


def raw_answer(body: bytes) -> Any:
    return lambda _req: httpx.Response(200, content=body)


@pytest.mark.parametrize(
    "number",
    [
        "99999999999999999999",  # the trial's input: orjson reads it as 1e20
        "-" + "9" * 30,
        "9007199254740993",  # 2**53 + 1: past the exact floats, still an int for orjson
        "18446744073709551616",  # 2**64
        "9" * 4301,  # past Python's int-string limit
    ],
)
async def test_an_integer_beyond_what_json_reads_exactly_is_refused_by_name(number: str) -> None:
    """Regression (trial of issue 12): ``"audit_id": 99999999999999999999`` became the int
    100000000000000000000 with no error; a 4,301-digit one failed the body as not JSON."""
    fake = FakeWeChat()
    body = b'{"errcode":0,"errmsg":"ok","interface_list":[{"api_name":"wx.a","audit_id":%s}]}'
    fake.script[GI] = [raw_answer(body % number.encode())]
    client = await make(fake)
    try:
        result = await client.get_privacy_interface(APPID)
    except ResponseFormatError as exc:
        assert exc.field_path == "interface_list[0].audit_id"
    else:  # only an integer JSON can carry exactly may come back, and then exactly
        assert result.interface_list[0].audit_id == int(number)
