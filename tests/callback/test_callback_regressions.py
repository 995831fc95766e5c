"""Regression: a bad length prefix must not put decrypted text (the ticket) in the error."""

from __future__ import annotations

import base64
import struct

import pytest
from callback_helpers import AES_KEY, APPID, TOKEN
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wxprivacy.callback import AppIdMismatchError, MessageCrypto

TICKET = "ticket@@@secret-ticket-value"


def _encrypt_with_length(xml: bytes, declared_length: int) -> str:
    key = base64.b64decode(AES_KEY + "=")
    plain = b"0123456789abcdef" + struct.pack(">I", declared_length) + xml + APPID.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def test_short_length_prefix_does_not_leak_the_ticket() -> None:
    crypto = MessageCrypto(TOKEN, AES_KEY, APPID)
    xml = (
        f"<xml><AppId><![CDATA[{APPID}]]></AppId><InfoType><![CDATA[component_verify_ticket]]>"
        f"</InfoType><ComponentVerifyTicket><![CDATA[{TICKET}]]></ComponentVerifyTicket></xml>"
    ).encode()
    encrypt = _encrypt_with_length(xml, len(xml) - 60)
    signature = crypto.signature("1700000000", "42", encrypt)
    with pytest.raises(AppIdMismatchError) as info:
        crypto.decrypt(msg_signature=signature, timestamp="1700000000", nonce="42", encrypt=encrypt)
    assert "secret-ticket" not in str(info.value)
    assert "secret-ticket" not in info.value.received_appid
    assert "not an appid" in info.value.received_appid
