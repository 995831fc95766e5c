"""The FastAPI example wired to a real ComponentClient, fed by the emulator's signed pushes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from wxprivacy import ComponentClient, MissingRefreshTokenError
from wxprivacy.callback import CallbackHandler
from wxprivacy.emulator import Emulator

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "fastapi_callback.py"
APPID = "wx1234567890abcdef"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_callback_client_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load_example()


async def test_pushes_feed_a_real_client_end_to_end() -> None:
    emu = Emulator()
    async with httpx.AsyncClient(transport=emu.transport()) as wechat_http:
        client = ComponentClient(
            emu.component_appid, emu.component_appsecret, http_client=wechat_http
        )
        app = example.create_app(CallbackHandler(client, emu.callback_crypto), client=client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as web:

            async def post(push: object) -> httpx.Response:
                return await push.deliver(web, example.CALLBACK_PATH)  # type: ignore[attr-defined]

            assert (await post(emu.ticket_push())).text == "success"
            stored = await client.token_store.get_verify_ticket(emu.component_appid)
            assert stored == emu.component_verify_ticket
            response = await post(emu.authorized_push(APPID))
            assert response.status_code == 200 and response.text == "success"
            assert await client.token_store.get_refresh_token(
                emu.component_appid, APPID
            ) == emu.refresh_token(APPID)
            setting = await client.get_privacy_setting(APPID)
            assert setting.owner_setting is not None
            assert emu.calls["/cgi-bin/component/api_authorizer_token"] == 0
            # A tampered push is a bare 400 that changes nothing; the genuine one then works.
            push = emu.authorized_push(APPID)
            tampered = push.body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[A")
            bad = await web.post(example.CALLBACK_PATH, params=dict(push.query), content=tampered)
            assert bad.status_code == 400
            assert (await post(push)).text == "success"
            assert (await post(emu.unauthorized_push(APPID))).text == "success"
            assert await client.token_store.get_refresh_token(emu.component_appid, APPID) is None
            with pytest.raises(MissingRefreshTokenError):
                await client.get_privacy_setting(APPID)
        await client.aclose()


async def test_app_from_env_builds_a_real_client(monkeypatch: pytest.MonkeyPatch) -> None:
    emu = Emulator()
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPID", emu.component_appid)
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPSECRET", emu.component_appsecret)
    monkeypatch.setenv("WXPRIVACY_CALLBACK_TOKEN", emu.callback_token)
    monkeypatch.setenv("WXPRIVACY_ENCODING_AES_KEY", emu.encoding_aes_key)
    monkeypatch.delenv("WXPRIVACY_REDIS_URL", raising=False)
    monkeypatch.delenv("WXPRIVACY_PREVIOUS_ENCODING_AES_KEY", raising=False)
    async with example.client_from_env() as client:
        assert isinstance(client, ComponentClient)
        assert client.component_appid == emu.component_appid
    app = example.app_from_env()
    assert any(getattr(r, "path", None) == example.CALLBACK_PATH for r in app.routes)
    async with app.router.lifespan_context(app):  # closes the client on the way out
        pass


async def test_the_app_closes_the_client_and_its_redis_store_when_it_stops() -> None:
    """Issue 13 §3: the example closed its ComponentClient but never its RedisTokenStore."""
    from wxprivacy import MemoryTokenStore

    class ClosingStore(MemoryTokenStore):
        closed = False

        async def aclose(self) -> None:
            self.closed = True

    emu = Emulator()
    store = ClosingStore()
    client = ComponentClient(emu.component_appid, emu.component_appsecret, token_store=store)
    app = example.create_app(CallbackHandler(client, emu.callback_crypto), client=client)
    async with app.router.lifespan_context(app):
        assert not store.closed
    assert store.closed
    assert client._closed
