"""Issue 13 §3: a process can test its callback URL against ``wxprivacy emulator`` over HTTP:
the state gives the callback Token and EncodingAESKey, and ``POST /_emulator/push`` makes a
signed push (before: neither, so callbacks were testable only in-process)."""

from __future__ import annotations

import httpx
import orjson
import pytest

from wxprivacy import ComponentClient
from wxprivacy.callback import CallbackHandler, MessageCrypto
from wxprivacy.emulator import Emulator, start_server


async def test_a_callback_handler_fed_over_http() -> None:
    emu = Emulator(authorizers=3, seed=6)
    async with await start_server(emu) as server, httpx.AsyncClient(base_url=server.url) as http:
        state = (await http.get("/_emulator/state")).json()
        crypto = MessageCrypto(
            state["callback_token"], state["encoding_aes_key"], state["component_appid"]
        )
        async with ComponentClient(
            state["component_appid"], state["component_appsecret"], base_url=server.url
        ) as client:
            handler = CallbackHandler(client, crypto)
            push = (await http.post("/_emulator/push", params={"kind": "ticket"})).json()
            assert push["info_type"] == "component_verify_ticket"
            assert await handler.handle(push["query"], push["body"].encode()) == "success"
            ticket = await client.token_store.get_verify_ticket(client.component_appid)
            assert ticket == (await http.get("/_emulator/state")).json()["component_verify_ticket"]
            appid = state["authorizers"][0]["authorizer_appid"]
            push = (
                await http.post(
                    "/_emulator/push", params={"kind": "authorized", "authorizer_appid": appid}
                )
            ).json()
            assert await handler.handle(push["query"], push["body"].encode()) == "success"
            stored = await client.token_store.export_refresh_tokens(client.component_appid)
            current = {
                a["authorizer_appid"]: a["refresh_token"]
                for a in (await http.get("/_emulator/state")).json()["authorizers"]
            }
            assert stored[appid] == current[appid]  # the push's auth code was exchanged


@pytest.mark.parametrize(
    "params", [{}, {"kind": "nope"}, {"kind": "unauthorized", "authorizer_appid": "wx9"}]
)
async def test_a_bad_push_request_says_what_was_wrong(params: dict[str, str]) -> None:
    emu = Emulator(authorizers=1)
    async with await start_server(emu) as server, httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post("/_emulator/push", params=params)
    assert answer.status_code == 400
    assert "kind" in answer.json()["error"] or "authorizer" in answer.json()["error"]


# -- regressions from the issue-13 trial (a fresh clone, the README, then breaking it) -----------


@pytest.mark.parametrize("appid", [" wx1", "wx" + "1" * 5000, "wx1111111111111111\n"])
async def test_the_emulator_refuses_to_push_for_what_is_not_an_appid(appid: str) -> None:
    """Was: accepted, and the malformed appid joined the fleet (and stopped later audits)."""
    emu = Emulator(authorizers=1)
    async with await start_server(emu) as server, httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            "/_emulator/push", params={"kind": "authorized", "authorizer_appid": appid}
        )
    assert answer.status_code == 400
    assert "not an appid" in orjson.loads(answer.content)["error"]
    assert len(emu.authorizer_appids) == 1
