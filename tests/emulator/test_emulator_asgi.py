"""The ASGI adapter in-process, and the real HTTP server run by ``python -m`` in a subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from wxprivacy.emulator import Emulator

from ._support import WeChat

ROOT = Path(__file__).resolve().parents[2]
PRIVACY = "/cgi-bin/component/getprivacysetting"


async def test_asgi_app_serves_the_chain(emu: Emulator) -> None:
    transport = httpx.ASGITransport(app=emu.asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        wx = WeChat(emu, http)
        appid = next(a for a in emu.authorizer_appids if emu.profile(a) == "configured")
        data = await wx.privacy(await wx.authorizer_token(appid))
        assert data["errcode"] == 0
        response = await http.post(PRIVACY, params={"access_token": "x"}, content=b"{}")
        assert response.headers["content-type"] == "application/json; encoding=utf-8"
        assert int(response.headers["content-length"]) == len(response.content)
        calls = (await http.get("/_emulator/calls")).json()["calls"]
        assert calls[PRIVACY] == 2
    assert emu.asgi_app is emu.asgi_app


async def test_asgi_app_answers_lifespan() -> None:
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await Emulator().asgi_app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@asynccontextmanager
async def emulator_process(*args: str) -> AsyncIterator[str]:
    """Run ``python -m wxprivacy.emulator --port 0 ARGS``; yield its base URL; always stop it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wxprivacy.emulator",
        "--port",
        "0",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=20)).decode()
        assert line.startswith("listening on http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        if proc.returncode is None:
            proc.terminate()
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=10)
        except TimeoutError:
            proc.kill()
            await proc.communicate()
            pytest.fail("the emulator did not stop within 10 s of SIGTERM")
        assert proc.returncode == 0, stderr.decode(errors="replace")


async def credentials(http: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    state = (await http.get("/_emulator/state")).json()
    body = {
        "component_appid": state["component_appid"],
        "component_appsecret": state["component_appsecret"],
        "component_verify_ticket": state["component_verify_ticket"],
    }
    ctoken = (await http.post("/cgi-bin/component/api_component_token", json=body)).json()
    return ctoken["component_access_token"], state


async def authorizer_token(
    http: httpx.AsyncClient, ctoken: str, state: dict[str, Any], i: int
) -> str:
    entry = state["authorizers"][i]
    body = {
        "component_appid": state["component_appid"],
        "authorizer_appid": entry["authorizer_appid"],
        "authorizer_refresh_token": entry["refresh_token"],
    }
    response = await http.post(
        "/cgi-bin/component/api_authorizer_token",
        params={"component_access_token": ctoken},
        json=body,
    )
    return str(response.json()["authorizer_access_token"])


async def test_real_http_server_in_a_subprocess() -> None:
    async with emulator_process("--authorizers", "25", "--seed", "3") as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            ctoken, state = await credentials(http)
            assert len(state["authorizers"]) == 25
            configured = [
                i for i, a in enumerate(state["authorizers"]) if a["profile"] == "configured"
            ]
            for i in configured[:3]:
                token = await authorizer_token(http, ctoken, state, i)
                data = (
                    await http.post(
                        PRIVACY, params={"access_token": token}, json={"privacy_ver": 2}
                    )
                ).json()
                assert data["errcode"] == 0 and "privacy_desc" in data
            calls = (await http.get("/_emulator/calls")).json()["calls"]
            assert calls == {
                "/cgi-bin/component/api_component_token": 1,
                "/cgi-bin/component/api_authorizer_token": 3,
                PRIVACY: 3,
            }
            await http.post("/_emulator/reset_calls")
            assert (await http.get("/_emulator/calls")).json()["calls"] == {}
    # the same seed in-process gives the same authorizers
    assert [a["authorizer_appid"] for a in state["authorizers"]] == Emulator(
        authorizers=25, seed=3
    ).authorizer_appids


async def test_timeouts_and_resets_over_real_http() -> None:
    args = ("--authorizers", "1", "--fault-timeout", "0.4", "--fault-reset", "0.4")
    async with emulator_process(*args, "--timeout-delay", "1.0") as url:
        async with httpx.AsyncClient(base_url=url, timeout=0.3) as http:
            ctoken, state = await credentials(http)  # token endpoints are not faulted
            token = await authorizer_token(http, ctoken, state, 0)
            seen: set[str] = set()
            for _ in range(20):
                try:
                    await http.post(
                        PRIVACY, params={"access_token": token}, json={"privacy_ver": 2}
                    )
                    seen.add("ok")
                except httpx.ReadTimeout:
                    seen.add("timeout")
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    seen.add("reset")
            assert seen == {"ok", "timeout", "reset"}
            faults = (await http.get("/_emulator/calls")).json()["faults"]
            assert set(faults) == {"timeout", "reset"}
