"""docs/examples/fastapi_callback.py works end to end through httpx's ASGI transport."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from callback_helpers import (
    AES_KEY,
    APPID,
    CASES,
    TOKEN,
    VECTOR_NOW,
    VECTOR_WINDOW,
    FakeTarget,
    query_for,
)

from wxprivacy.callback import CallbackHandler, MessageCrypto

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "fastapi_callback.py"


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_callback_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load_example()


def _client(target: FakeTarget, **kwargs: Any) -> httpx.AsyncClient:
    kwargs.setdefault("clock", lambda: VECTOR_NOW)
    kwargs.setdefault("max_age", VECTOR_WINDOW)
    handler = CallbackHandler(target, MessageCrypto(TOKEN, AES_KEY, APPID), **kwargs)
    app = example.create_app(handler)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.parametrize("name", sorted(CASES))
async def test_posts_are_answered_success(name: str) -> None:
    target = FakeTarget()
    case = CASES[name]
    async with _client(target) as client:
        response = await client.post(
            example.CALLBACK_PATH,
            params=query_for(case),
            content=case["post_body_envelope"].encode(),
            headers={"Content-Type": "text/xml"},
        )
    assert response.status_code == 200
    assert response.text == "success"
    assert response.headers["content-type"].startswith("text/plain")
    assert len(target.calls) == 1


async def test_query_string_exactly_as_wechat_sends_it() -> None:
    target = FakeTarget()
    case = CASES["component_verify_ticket"]
    async with _client(target) as client:
        response = await client.post(
            f"{example.CALLBACK_PATH}?{case['query_string']}",
            content=case["post_body_envelope"].encode(),
        )
    assert response.text == "success"
    assert target.calls == [("set_component_verify_ticket", "ticket@@@placeholder-ticket-value")]


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"msg_signature": "0" * 40}, None),  # wrong signature
        ({}, b"<xml><AppId>x</AppId></xml>"),  # no Encrypt
        ({}, b'<!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>'),
    ],
)
async def test_rejections_are_bare_400(
    params: dict[str, str], body: bytes | None, caplog: Any
) -> None:
    target = FakeTarget()
    case = CASES["authorized"]
    with caplog.at_level(logging.DEBUG):
        async with _client(target) as client:
            response = await client.post(
                example.CALLBACK_PATH,
                params={**query_for(case), **params},
                content=body if body is not None else case["post_body_envelope"].encode(),
            )
    assert response.status_code == 400
    assert response.text == "bad request"
    assert target.calls == []
    for record in caplog.records:
        assert "queryauthcode@@@" not in record.getMessage()
        assert TOKEN not in record.getMessage()


async def test_oversized_body_is_refused_from_its_declared_length() -> None:
    target = FakeTarget()
    async with _client(target) as client:
        response = await client.post(
            example.CALLBACK_PATH,
            params=query_for(CASES["authorized"]),
            content=b"x" * (64 * 1024 + 1),
        )
    assert response.status_code == 413
    assert target.calls == []


async def test_stale_message_is_400() -> None:
    target = FakeTarget()
    case = CASES["authorized"]
    async with _client(target, max_age=60, clock=lambda: 1800000000.0) as client:
        response = await client.post(
            example.CALLBACK_PATH,
            params=query_for(case),
            content=case["post_body_envelope"].encode(),
        )
    assert response.status_code == 400
    assert target.calls == []


async def test_get_is_not_allowed() -> None:
    async with _client(FakeTarget()) as client:
        response = await client.get(example.CALLBACK_PATH)
    assert response.status_code == 405


def test_handler_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXPRIVACY_CALLBACK_TOKEN", TOKEN)
    monkeypatch.setenv("WXPRIVACY_ENCODING_AES_KEY", AES_KEY)
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPID", APPID)
    monkeypatch.delenv("WXPRIVACY_PREVIOUS_ENCODING_AES_KEY", raising=False)
    handler = example.handler_from_env(FakeTarget())
    assert handler.crypto.component_appid == APPID
    assert handler.max_age == 300
