"""Helpers for the emulator tests: the suite's fake clock and a small by-hand WeChat caller."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from clock import START, FakeClock

from wxprivacy.emulator import Emulator

__all__ = ["BASE_URL", "START", "FakeClock", "WeChat"]

BASE_URL = "https://api.weixin.qq.com"


class WeChat:
    """Calls the emulator by hand, the way a client would (raw JSON in, parsed JSON out)."""

    def __init__(self, emu: Emulator, http: httpx.AsyncClient) -> None:
        self.emu = emu
        self.http = http

    async def post(
        self, path: str, body: Any = None, *, raw: bytes | None = None, **params: str
    ) -> Any:
        """POST ``body`` (or ``raw`` bytes) to ``path`` with ``params``; return the parsed JSON."""
        content = raw if raw is not None else orjson.dumps(body)
        response = await self.http.post(path, params=params, content=content)
        assert response.status_code == 200
        return orjson.loads(response.content)

    async def component_token_response(self, **overrides: Any) -> Any:
        body = {
            "component_appid": self.emu.component_appid,
            "component_appsecret": self.emu.component_appsecret,
            "component_verify_ticket": self.emu.component_verify_ticket,
        }
        body.update(overrides)
        body = {k: v for k, v in body.items() if v is not None}
        return await self.post("/cgi-bin/component/api_component_token", body)

    async def component_token(self) -> str:
        data = await self.component_token_response()
        return str(data["component_access_token"])

    async def authorizer_token_response(
        self,
        appid: str,
        ctoken: str,
        refresh: str | None = None,
        param: str = "component_access_token",
    ) -> Any:
        body = {
            "component_appid": self.emu.component_appid,
            "authorizer_appid": appid,
            "authorizer_refresh_token": self.emu.refresh_token(appid)
            if refresh is None
            else refresh,
        }
        return await self.post("/cgi-bin/component/api_authorizer_token", body, **{param: ctoken})

    async def authorizer_token(self, appid: str, ctoken: str | None = None) -> str:
        ctoken = ctoken or await self.component_token()
        data = await self.authorizer_token_response(appid, ctoken)
        return str(data["authorizer_access_token"])

    async def privacy(
        self, token: str, privacy_ver: int | None = 2, raw: bytes | None = None
    ) -> Any:
        body = {} if privacy_ver is None else {"privacy_ver": privacy_ver}
        return await self.post(
            "/cgi-bin/component/getprivacysetting", body, raw=raw, access_token=token
        )
