"""Fault injection: each kind looks like the real failure, rates follow the configured odds."""

from __future__ import annotations

from collections import Counter

import httpx
import orjson
import pytest

from wxprivacy.emulator import TOKEN_PATHS, Emulator, Faults

from ._support import BASE_URL, WeChat

PRIVACY = "/cgi-bin/component/getprivacysetting"


async def classify(http: httpx.AsyncClient, token: str) -> str:
    """Make one getprivacysetting call and name what came back."""
    try:
        response = await http.post(PRIVACY, params={"access_token": token}, content=b"{}")
    except httpx.ReadTimeout:
        return "timeout"
    except httpx.RemoteProtocolError:
        return "reset"
    if response.status_code in (502, 503):
        assert response.text.startswith("<html>")
        return "http_5xx"
    assert response.status_code == 200
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return "truncated"
    return {0: "ok", -1: "system_error", 45011: "minute_quota"}[data["errcode"]]


async def run(faults: Faults, n: int, seed: int = 0) -> tuple[Counter[str], Emulator]:
    emu = Emulator(seed=seed, faults=faults)
    emu.add_authorizer("wx1111111111111111", setting={"privacy_list": ["UserInfo"]})
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        token = await WeChat(emu, http).authorizer_token("wx1111111111111111")
        seen = Counter([await classify(http, token) for _ in range(n)])
    return seen, emu


MIXED = Faults(
    system_error=0.05, minute_quota=0.05, http_5xx=0.05, timeout=0.05, reset=0.05, truncated=0.05
)


async def test_rates_roughly_as_configured_and_all_counted() -> None:
    seen, emu = await run(MIXED, 4000)
    for kind in ("system_error", "minute_quota", "http_5xx", "timeout", "reset", "truncated"):
        assert 140 < seen[kind] < 260, (kind, seen)
        assert emu.faults_injected[kind] == seen[kind]
    assert seen["ok"] == 4000 - sum(emu.faults_injected.values())
    assert emu.calls[PRIVACY] == 4000  # faulted requests are counted too


async def test_same_seed_same_fault_sequence() -> None:
    first, _ = await run(MIXED, 500, seed=42)
    second, _ = await run(MIXED, 500, seed=42)
    other, _ = await run(MIXED, 500, seed=43)
    assert first == second
    assert first != other


async def test_fault_bodies_look_like_wechat() -> None:
    emu = Emulator(faults=Faults(minute_quota=1.0, paths=[PRIVACY]))
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        data = (await http.post(PRIVACY, content=b"{}")).json()
    assert data["errcode"] == 45011
    assert data["errmsg"].startswith("api minute-quota reach limit, must slower, retry next minute")
    assert " rid: " in data["errmsg"]


async def test_truncated_body_is_half_of_the_real_one(wx: WeChat, emu: Emulator) -> None:
    token = await wx.authorizer_token(emu.authorizer_appids[1])
    full = (await wx.http.post(PRIVACY, params={"access_token": token}, content=b"{}")).content
    emu.faults = Faults(truncated=1.0)
    cut = (await wx.http.post(PRIVACY, params={"access_token": token}, content=b"{}")).content
    assert cut == full[: len(full) // 2]


async def test_token_endpoints_are_spared_by_default() -> None:
    emu = Emulator(authorizers=1, faults=Faults(system_error=1.0))
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        wx = WeChat(emu, http)
        token = await wx.authorizer_token(emu.authorizer_appids[0])  # no fault on the chain
        assert (await wx.privacy(token))["errcode"] == -1
        body = {"component_appid": emu.component_appid, "count": 10}
        listed = await wx.post(
            "/cgi-bin/component/api_get_authorizer_list", body, component_access_token="x"
        )
        assert listed["errcode"] == -1  # the list endpoint is a data endpoint
    assert emu.faults_injected == {"system_error": 2}
    assert set(emu.calls) - {"/cgi-bin/component/api_get_authorizer_list", PRIVACY} == TOKEN_PATHS


async def test_paths_restricts_faults_to_those_endpoints() -> None:
    path = "/cgi-bin/component/api_component_token"
    emu = Emulator(authorizers=1, faults=Faults(http_5xx=1.0, paths=[path]))
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        response = await http.post(path, content=b"{}")
        assert response.status_code in (502, 503)
        assert (await http.post(PRIVACY, content=b"{}")).json()["errcode"] == 41001


async def test_control_endpoints_are_never_faulted_nor_counted() -> None:
    emu = Emulator(faults=Faults(reset=1.0, paths=["/_emulator/calls"]))
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        assert (await http.get("/_emulator/calls")).status_code == 200
    assert emu.calls == {} and emu.faults_injected == {}


@pytest.mark.parametrize(
    "kwargs", [{"timeout": 1.5}, {"reset": -0.1}, {"system_error": 0.6, "http_5xx": 0.6}]
)
def test_bad_probabilities_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Faults(**kwargs)


async def test_reset_calls_zeroes_counters() -> None:
    _, emu = await run(Faults(system_error=0.5), 20)
    assert emu.calls and emu.faults_injected
    emu.reset_calls()
    assert emu.calls == {} and emu.faults_injected == {}
