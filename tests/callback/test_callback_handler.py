"""CallbackHandler verifies, decrypts and dispatches; on any rejection the target is not called."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

import pytest
from callback_helpers import (
    AES_KEY,
    APPID,
    CASES,
    OTHER_KEY,
    TOKEN,
    VECTOR_NOW,
    VECTOR_WINDOW,
    FakeTarget,
    query_for,
    signed_request,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

import wxprivacy.callback._handler as handler_module
from wxprivacy import ComponentClient, InvalidArgumentError
from wxprivacy.callback import (
    AppIdMismatchError,
    CallbackError,
    CallbackHandler,
    CallbackTarget,
    DecryptError,
    MalformedMessageError,
    MessageCrypto,
    MessageTooLargeError,
    SignatureError,
    StaleMessageError,
)
from wxprivacy.emulator import Emulator

MakeHandler = Callable[..., CallbackHandler]

EXPECTED_CALLS = {
    "component_verify_ticket": ("set_component_verify_ticket", "ticket@@@placeholder-ticket-value"),
    "component_verify_ticket_full_pad_block": ("set_component_verify_ticket", "ticket@@@ppp"),
    "authorized": ("query_auth", "queryauthcode@@@placeholder-auth-code"),
    "updateauthorized": ("query_auth", "queryauthcode@@@placeholder-auth-code-2"),
    "unauthorized": ("remove_authorizer", "wx1111111111111111"),
}
SECRETS = (
    TOKEN,
    AES_KEY,
    OTHER_KEY,
    "ticket@@@",
    "queryauthcode@@@",
    "preauthcode@@@",
    *(case["msg_signature"] for case in CASES.values()),
)


def _body(name: str) -> bytes:
    envelope: str = CASES[name]["post_body_envelope"]
    return envelope.encode()


def test_fake_target_satisfies_protocol(target: FakeTarget) -> None:
    checked: CallbackTarget = target
    assert checked.component_appid == APPID


@pytest.mark.parametrize("name", sorted(CASES))
async def test_dispatch_each_info_type(
    make_handler: MakeHandler, target: FakeTarget, name: str
) -> None:
    reply = await make_handler().handle(query_for(CASES[name]), _body(name))
    assert reply == "success"
    assert target.calls == [EXPECTED_CALLS[name]]


async def test_unknown_info_type_ignored(
    make_handler: MakeHandler, target: FakeTarget, crypto: MessageCrypto, caplog: Any
) -> None:
    xml = (
        b"<xml><AppId>wx0000000000000000</AppId><CreateTime>1700000000</CreateTime>"
        b"<InfoType>notify_3rd_wxa_auth</InfoType><secret>hidden-value</secret></xml>"
    )
    query, body = signed_request(crypto, xml)
    with caplog.at_level(logging.DEBUG):
        assert await make_handler().handle(query, body) == "success"
    assert target.calls == []
    assert "notify_3rd_wxa_auth" in caplog.text
    assert "hidden-value" not in caplog.text


async def _rejected(
    handler: CallbackHandler, target: FakeTarget, query: dict[str, str], body: bytes
) -> CallbackError:
    with pytest.raises(CallbackError) as info:
        await handler.handle(query, body)
    assert target.calls == []
    return info.value


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


async def test_flipped_base64_char(make_handler: MakeHandler, target: FakeTarget) -> None:
    case = CASES["component_verify_ticket"]
    body = case["post_body_envelope"].replace(case["encrypt"], _flip(case["encrypt"], 50))
    error = await _rejected(make_handler(), target, query_for(case), body.encode())
    assert isinstance(error, SignatureError)


async def test_flipped_and_resigned(
    make_handler: MakeHandler, target: FakeTarget, crypto: MessageCrypto
) -> None:
    case = CASES["component_verify_ticket"]
    tampered = _flip(case["encrypt"], -5)
    query = {
        **query_for(case),
        "msg_signature": crypto.signature(case["timestamp"], case["nonce"], tampered),
    }
    error = await _rejected(make_handler(), target, query, crypto.envelope(tampered))
    assert isinstance(error, DecryptError)


@pytest.mark.parametrize(
    "query_change",
    [
        {"msg_signature": "0" * 40},
        {"msg_signature": ""},
        {"nonce": "1234567891"},
        {"timestamp": "1700000001"},
    ],
)
async def test_wrong_signature(
    make_handler: MakeHandler, target: FakeTarget, query_change: dict[str, str]
) -> None:
    query = {**query_for(CASES["component_verify_ticket"]), **query_change}
    error = await _rejected(make_handler(), target, query, _body("component_verify_ticket"))
    assert isinstance(error, SignatureError)


async def test_missing_msg_signature(make_handler: MakeHandler, target: FakeTarget) -> None:
    query = query_for(CASES["unauthorized"])
    del query["msg_signature"]
    error = await _rejected(make_handler(), target, query, _body("unauthorized"))
    assert isinstance(error, SignatureError)


@pytest.mark.parametrize("missing", ["timestamp", "nonce"])
async def test_missing_timestamp_or_nonce(
    make_handler: MakeHandler, target: FakeTarget, missing: str
) -> None:
    query = query_for(CASES["unauthorized"])
    del query[missing]
    error = await _rejected(make_handler(), target, query, _body("unauthorized"))
    assert isinstance(error, MalformedMessageError)


@pytest.mark.parametrize("pad", [0, 33])
async def test_bad_pad_byte(
    make_handler: MakeHandler, target: FakeTarget, crypto: MessageCrypto, pad: int
) -> None:
    msg = CASES["unauthorized"]["plaintext_xml"].encode()
    plain = b"0123456789abcdef" + len(msg).to_bytes(4, "big") + msg + APPID.encode()
    n = 32 - len(plain) % 32
    padded = plain + bytes([n]) * (n - 1) + bytes([pad])
    key = base64.b64decode(AES_KEY + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypt = base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
    stamp = "1700000000"
    query = {
        "timestamp": stamp,
        "nonce": "2",
        "msg_signature": crypto.signature(stamp, "2", encrypt),
    }
    error = await _rejected(make_handler(), target, query, crypto.envelope(encrypt))
    assert isinstance(error, DecryptError)


async def test_wrong_appid_in_ciphertext(make_handler: MakeHandler, target: FakeTarget) -> None:
    other = MessageCrypto(TOKEN, AES_KEY, "wx9999999999999999")
    query, body = signed_request(other, CASES["unauthorized"]["plaintext_xml"].encode())
    error = await _rejected(make_handler(), target, query, body)
    assert isinstance(error, AppIdMismatchError)


@pytest.mark.parametrize("name", ["component_verify_ticket", "authorized", "unauthorized"])
async def test_wrong_appid_in_event(
    make_handler: MakeHandler, target: FakeTarget, crypto: MessageCrypto, name: str
) -> None:
    xml = CASES[name]["plaintext_xml"].replace(APPID, "wx9999999999999999", 1).encode()
    query, body = signed_request(crypto, xml)
    error = await _rejected(make_handler(), target, query, body)
    assert isinstance(error, AppIdMismatchError)
    assert error.received_appid == "wx9999999999999999"


async def test_oversized_body_rejected_before_parsing(
    make_handler: MakeHandler, target: FakeTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_parse(xml: bytes) -> None:
        raise AssertionError("parsed an oversized body")

    monkeypatch.setattr(handler_module, "parse_xml", must_not_parse)
    body = _body("authorized")
    handler = make_handler(max_body_bytes=len(body) - 1)
    error = await _rejected(handler, target, query_for(CASES["authorized"]), body)
    assert isinstance(error, MessageTooLargeError)
    assert (error.size, error.limit) == (len(body), len(body) - 1)


async def test_default_limit_is_64_kib(make_handler: MakeHandler, target: FakeTarget) -> None:
    body = b"<xml>" + b" " * (64 * 1024) + b"</xml>"
    error = await _rejected(make_handler(), target, query_for(CASES["authorized"]), body)
    assert isinstance(error, MessageTooLargeError)


async def test_body_at_limit_accepted(make_handler: MakeHandler, target: FakeTarget) -> None:
    body = _body("authorized")
    assert (
        await make_handler(max_body_bytes=len(body)).handle(query_for(CASES["authorized"]), body)
        == "success"
    )
    assert len(target.calls) == 1


ENVELOPE_ATTACKS = [
    b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><Encrypt>&lol3;</Encrypt></xml>""",
    b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<xml><Encrypt>&x;</Encrypt></xml>""",
    b"<xml><AppId>wx0000000000000000</AppId></xml>",  # no Encrypt
    b"<xml><Encrypt></Encrypt></xml>",
    b"<xml><Encrypt>abc",
    b"",
]


@pytest.mark.parametrize("body", ENVELOPE_ATTACKS)
async def test_bad_envelope(make_handler: MakeHandler, target: FakeTarget, body: bytes) -> None:
    error = await _rejected(make_handler(), target, query_for(CASES["authorized"]), body)
    assert isinstance(error, MalformedMessageError)


async def test_dtd_inside_encrypted_message(
    make_handler: MakeHandler, target: FakeTarget, crypto: MessageCrypto
) -> None:
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY t "ticket@@@evil">]>'
        b"<xml><AppId>wx0000000000000000</AppId><CreateTime>1</CreateTime>"
        b"<InfoType>component_verify_ticket</InfoType>"
        b"<ComponentVerifyTicket>&t;</ComponentVerifyTicket></xml>"
    )
    query, body = signed_request(crypto, xml)
    error = await _rejected(make_handler(), target, query, body)
    assert isinstance(error, MalformedMessageError)


@pytest.mark.parametrize("offset", [301, -301, 10_000])
async def test_stale_timestamp(make_handler: MakeHandler, target: FakeTarget, offset: int) -> None:
    case = CASES["component_verify_ticket"]
    handler = make_handler(max_age=300, clock=lambda: int(case["timestamp"]) + offset)
    error = await _rejected(handler, target, query_for(case), _body("component_verify_ticket"))
    assert isinstance(error, StaleMessageError)
    assert error.age == offset and error.max_age == 300


@pytest.mark.parametrize("offset", [0, 300, -300])
async def test_fresh_timestamp(make_handler: MakeHandler, target: FakeTarget, offset: int) -> None:
    case = CASES["component_verify_ticket"]
    handler = make_handler(max_age=300, clock=lambda: int(case["timestamp"]) + offset)
    assert await handler.handle(query_for(case), _body("component_verify_ticket")) == "success"
    assert len(target.calls) == 1


async def test_no_max_age_accepts_old_messages(
    make_handler: MakeHandler, target: FakeTarget
) -> None:
    handler = make_handler(clock=lambda: 4_000_000_000.0, max_age=None)
    case = CASES["unauthorized"]
    assert await handler.handle(query_for(case), _body("unauthorized")) == "success"


async def test_non_integer_timestamp_with_max_age(
    make_handler: MakeHandler, target: FakeTarget, crypto: MessageCrypto
) -> None:
    query, body = signed_request(
        crypto, CASES["unauthorized"]["plaintext_xml"].encode(), timestamp="soon"
    )
    error = await _rejected(make_handler(max_age=300), target, query, body)
    assert isinstance(error, MalformedMessageError)


async def test_key_rotation(target: FakeTarget) -> None:
    rotated = MessageCrypto(TOKEN, OTHER_KEY, APPID, previous_encoding_aes_key=AES_KEY)
    handler = CallbackHandler(target, rotated, clock=lambda: VECTOR_NOW, max_age=VECTOR_WINDOW)
    case = CASES["authorized"]
    assert await handler.handle(query_for(case), _body("authorized")) == "success"
    query, body = signed_request(rotated, CASES["unauthorized"]["plaintext_xml"].encode())
    assert await handler.handle(query, body) == "success"
    assert [name for name, _ in target.calls] == ["query_auth", "remove_authorizer"]


async def test_key_rotation_not_configured(target: FakeTarget) -> None:
    handler = CallbackHandler(
        target,
        MessageCrypto(TOKEN, OTHER_KEY, APPID),
        clock=lambda: VECTOR_NOW,
        max_age=VECTOR_WINDOW,
    )
    error = await _rejected(handler, target, query_for(CASES["authorized"]), _body("authorized"))
    assert isinstance(error, DecryptError)


async def test_target_errors_propagate(make_handler: MakeHandler, target: FakeTarget) -> None:
    target.fail_with = RuntimeError("store down")
    with pytest.raises(RuntimeError, match="store down"):
        await make_handler().handle(query_for(CASES["authorized"]), _body("authorized"))


@pytest.mark.parametrize("kwargs", [{"max_body_bytes": 0}, {"max_age": 0}, {"max_age": -1.0}])
def test_bad_handler_settings(make_handler: MakeHandler, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        make_handler(**kwargs)


async def test_no_secrets_in_logs_errors_or_reprs(
    make_handler: MakeHandler, target: FakeTarget, crypto: MessageCrypto, caplog: Any
) -> None:
    handler = make_handler(max_age=300, clock=lambda: 1700000000.0)
    texts: list[str] = [repr(handler), str(handler), repr(crypto)]
    with caplog.at_level(logging.DEBUG):
        for name, case in CASES.items():
            await make_handler().handle(query_for(case), _body(name))
        attempts: list[tuple[dict[str, str], bytes]] = [
            ({**query_for(CASES["authorized"]), "msg_signature": "f" * 40}, _body("authorized")),
            (query_for(CASES["authorized"]), _body("authorized")),  # stale under max_age=300
            (query_for(CASES["authorized"]), ENVELOPE_ATTACKS[0]),
            signed_request(
                MessageCrypto(TOKEN, AES_KEY, "wx9999999999999999"),
                CASES["authorized"]["plaintext_xml"].encode(),
            ),
            signed_request(crypto, b"<xml><InfoType>authorized</InfoType></xml>"),
        ]
        for query, body in attempts:
            with pytest.raises(CallbackError) as info:
                await handler.handle(query, body)
            texts += [str(info.value), repr(info.value)]
    assert len(target.calls) == len(CASES)
    texts += [record.getMessage() for record in caplog.records]
    texts += [repr(record.args) for record in caplog.records]
    assert any("rejected" in text for text in texts)
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)


# -- regressions from the issue-13 trial (a fresh clone, the README, then breaking it) -----------


def test_a_handler_whose_crypto_is_for_another_component_is_refused() -> None:
    """Was: accepted; a ticket push for wx0000… was stored under wx1111…."""
    emu = Emulator(authorizers=1, component_appid="wx1111111111111111")
    client = ComponentClient("wx1111111111111111", "s")
    crypto = MessageCrypto("token", emu.encoding_aes_key, "wx0000000000000000")
    with pytest.raises(InvalidArgumentError, match="wx0000000000000000"):
        CallbackHandler(client, crypto)
    with pytest.raises(InvalidArgumentError, match="CallbackHandler\\(target, crypto\\)"):
        CallbackHandler(emu.callback_crypto, client)  # type: ignore[arg-type]
