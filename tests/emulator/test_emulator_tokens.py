"""Token lifecycles: supersession with grace, refresh-token rotation, test hooks, paging."""

from __future__ import annotations

import httpx

from wxprivacy.emulator import Emulator

from ._support import BASE_URL, FakeClock, WeChat

LIST = "/cgi-bin/component/api_get_authorizer_list"


async def test_superseded_component_token_works_for_the_grace_period(
    wx: WeChat, emu: Emulator, clock: FakeClock
) -> None:
    appid = emu.authorizer_appids[0]
    old = await wx.component_token()
    clock.advance(60)
    new = await wx.component_token()
    assert new != old and emu.current_component_access_token() == new
    clock.advance(300)  # exactly at the end of the grace: still valid
    assert "authorizer_access_token" in await wx.authorizer_token_response(appid, old)
    clock.advance(1)
    assert (await wx.authorizer_token_response(appid, old))["errcode"] == 40001
    assert "authorizer_access_token" in await wx.authorizer_token_response(appid, new)


async def test_superseded_authorizer_token_works_for_the_grace_period(
    wx: WeChat, emu: Emulator, clock: FakeClock
) -> None:
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) == "configured")
    ctoken = await wx.component_token()
    old = await wx.authorizer_token(appid, ctoken)
    new = await wx.authorizer_token(appid, ctoken)
    assert old != new and emu.current_authorizer_access_token(appid) == new
    clock.advance(299)
    assert (await wx.privacy(old))["errcode"] == 0
    clock.advance(2)
    assert (await wx.privacy(old))["errcode"] == 40001
    assert (await wx.privacy(new))["errcode"] == 0


async def test_grace_is_configurable(clock: FakeClock) -> None:
    emu = Emulator(grace=0.0, clock=clock)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        wx = WeChat(emu, http)
        emu.add_authorizer("wx5555555555555555")
        old = await wx.component_token()
        await wx.component_token()
        clock.advance(0.001)
        assert (await wx.authorizer_token_response("wx5555555555555555", old))["errcode"] == 40001


async def test_refresh_token_is_stable_without_rotation(wx: WeChat, emu: Emulator) -> None:
    appid = emu.authorizer_appids[0]
    before = emu.refresh_token(appid)
    ctoken = await wx.component_token()
    data = await wx.authorizer_token_response(appid, ctoken)
    assert data["authorizer_refresh_token"] == before == emu.refresh_token(appid)


async def test_rotated_refresh_token_keeps_working_for_the_grace(clock: FakeClock) -> None:
    emu = Emulator(authorizers=3, rotate_refresh_tokens=True, clock=clock)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        wx = WeChat(emu, http)
        appid = emu.authorizer_appids[0]
        ctoken = await wx.component_token()
        first = emu.refresh_token(appid)
        data = await wx.authorizer_token_response(appid, ctoken, refresh=first)
        second = data["authorizer_refresh_token"]
        assert second != first and emu.refresh_token(appid) == second
        clock.advance(300)
        again = await wx.authorizer_token_response(appid, ctoken, refresh=first)
        assert again["authorizer_refresh_token"] not in (first, second)
        clock.advance(1)
        assert (await wx.authorizer_token_response(appid, ctoken, refresh=first))[
            "errcode"
        ] == 61023
        current = emu.refresh_token(appid)
        assert "authorizer_access_token" in await wx.authorizer_token_response(
            appid, ctoken, refresh=current
        )


async def test_invalidate_component_token_gives_40001_then_a_new_token_works(
    wx: WeChat, emu: Emulator
) -> None:
    appid = emu.authorizer_appids[0]
    ctoken = await wx.component_token()
    emu.revoke_component_token()
    assert (await wx.authorizer_token_response(appid, ctoken))["errcode"] == 40001
    assert "authorizer_access_token" in await wx.authorizer_token_response(
        appid, await wx.component_token()
    )


async def test_invalidate_authorizer_token_gives_40001(wx: WeChat, emu: Emulator) -> None:
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) == "configured")
    token = await wx.authorizer_token(appid)
    emu.revoke_authorizer_token(appid)
    assert emu.current_authorizer_access_token(appid) is None
    assert (await wx.privacy(token))["errcode"] == 40001


async def test_expire_tokens_gives_42001_everywhere(wx: WeChat, emu: Emulator) -> None:
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) == "configured")
    ctoken = await wx.component_token()
    atoken = await wx.authorizer_token(appid, ctoken)
    emu.expire_tokens()
    assert (await wx.privacy(atoken))["errcode"] == 42001
    assert (await wx.authorizer_token_response(appid, ctoken))["errcode"] == 42001
    fresh = await wx.authorizer_token(appid)  # new tokens are unaffected
    assert (await wx.privacy(fresh))["errcode"] == 0


async def test_token_ttl_is_reported_and_enforced(clock: FakeClock) -> None:
    emu = Emulator(token_ttl=60, clock=clock)
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        wx = WeChat(emu, http)
        emu.add_authorizer("wx6666666666666666")
        data = await wx.component_token_response()
        assert data["expires_in"] == 60
        clock.advance(60)
        response = await wx.authorizer_token_response(
            "wx6666666666666666", data["component_access_token"]
        )
        assert response["errcode"] == 42001


async def list_page(wx: WeChat, ctoken: str, offset: int, count: int) -> dict[str, object]:
    body = {"component_appid": wx.emu.component_appid, "offset": offset, "count": count}
    result: dict[str, object] = await wx.post(LIST, body, component_access_token=ctoken)
    return result


async def test_authorizer_list_pages_through_everyone(wx: WeChat, emu: Emulator) -> None:
    ctoken = await wx.component_token()
    seen: list[str] = []
    offset = 0
    while True:
        page = await list_page(wx, ctoken, offset, 15)
        assert page["total_count"] == 40
        items = page["list"]
        assert isinstance(items, list)
        if not items:
            break
        for item in items:
            assert item.keys() == {"authorizer_appid", "refresh_token", "auth_time"}
            assert item["refresh_token"] == emu.refresh_token(item["authorizer_appid"])
        seen += [item["authorizer_appid"] for item in items]
        offset += len(items)
    assert seen == emu.authorizer_appids
    assert emu.calls[LIST] == 4


async def test_authorizer_list_count_over_500_is_40170(wx: WeChat) -> None:
    data = await list_page(wx, await wx.component_token(), 0, 501)
    assert data["errcode"] == 40170
    assert str(data["errmsg"]).startswith("args count exceed count limit")


async def test_authorizer_list_leaves_out_revoked_and_needs_a_component_token(
    wx: WeChat, emu: Emulator
) -> None:
    revoked = emu.authorizer_appids[3]
    emu.revoke_authorization(revoked)
    page = await list_page(wx, await wx.component_token(), 0, 500)
    assert page["total_count"] == 39
    assert revoked not in [item["authorizer_appid"] for item in page["list"]]  # type: ignore[attr-defined]
    assert (await list_page(wx, "80_bogus", 0, 10))["errcode"] == 40001
