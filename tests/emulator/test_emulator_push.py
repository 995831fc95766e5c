"""The emulator's callback pushes (``_push.py``): signed and encrypted as WeChat does, read by
the SDK's ``CallbackHandler``, and any field text survives the XML."""

from __future__ import annotations

import httpx
import pytest

from wxprivacy import MemoryTokenStore
from wxprivacy.callback import CallbackHandler, MessageCrypto, parse_event
from wxprivacy.emulator import DEFAULT_ENCODING_AES_KEY, Emulator


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
