"""MessageCrypto reproduces the deterministic vectors and rejects every kind of tampering."""

from __future__ import annotations

import base64
import struct

import pytest
from callback_helpers import AES_KEY, APPID, CASES, OTHER_KEY, THIRD_KEY, TOKEN, VECTORS
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wxprivacy import InvalidArgumentError, WxPrivacyError
from wxprivacy.callback import (
    AppIdMismatchError,
    CallbackError,
    DecryptError,
    MessageCrypto,
    SignatureError,
)
from wxprivacy.emulator import Emulator

CASE_NAMES = sorted(CASES)


def _raw_aes(key_b64: str, padded: bytes) -> str:
    """Encrypt already padded bytes with the WXBizMsgCrypt key/IV (to forge bad padding)."""
    key = base64.b64decode(key_b64 + "=")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def _decrypt_kwargs(crypto: MessageCrypto, encrypt: str) -> dict[str, str]:
    return {
        "msg_signature": crypto.signature("1700000000", "7", encrypt),
        "timestamp": "1700000000",
        "nonce": "7",
        "encrypt": encrypt,
    }


@pytest.mark.parametrize("name", CASE_NAMES)
def test_signature_matches_vector(crypto: MessageCrypto, name: str) -> None:
    case = CASES[name]
    assert (
        crypto.signature(case["timestamp"], case["nonce"], case["encrypt"])
        == (case["msg_signature"])
    )


@pytest.mark.parametrize("name", CASE_NAMES)
def test_decrypt_gives_plaintext(crypto: MessageCrypto, name: str) -> None:
    case = CASES[name]
    plaintext = crypto.decrypt(
        msg_signature=case["msg_signature"],
        timestamp=case["timestamp"],
        nonce=case["nonce"],
        encrypt=case["encrypt"],
    )
    assert plaintext == case["plaintext_xml"].encode()
    assert len(plaintext) == int(case["msg_len"])


@pytest.mark.parametrize("name", CASE_NAMES)
def test_encrypt_reproduces_vector(crypto: MessageCrypto, name: str) -> None:
    case = CASES[name]
    encrypt, signature = crypto.encrypt(
        case["plaintext_xml"].encode(),
        timestamp=case["timestamp"],
        nonce=case["nonce"],
        random16=case["random16"].encode(),
    )
    assert encrypt == case["encrypt"]
    assert signature == case["msg_signature"]
    assert crypto.envelope(encrypt) == case["post_body_envelope"].encode()


@pytest.mark.parametrize("name", CASE_NAMES)
def test_vector_padding_as_documented(name: str) -> None:
    case = CASES[name]
    key = bytes.fromhex(VECTORS["aes_key_hex"])
    assert key == base64.b64decode(AES_KEY + "=")
    assert key[:16] == bytes.fromhex(VECTORS["iv_hex"])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(case["encrypt"])) + decryptor.finalize()
    assert len(padded) == int(case["padded_plain_len"])
    assert padded[-1] == int(case["pad_byte"])
    assert padded[16:20] == bytes.fromhex(case["msg_len_be_hex"])


def test_full_pad_block_case_has_32_byte_pad() -> None:
    assert CASES["component_verify_ticket_full_pad_block"]["pad_byte"] == 32


def test_encrypt_without_random16_round_trips(crypto: MessageCrypto) -> None:
    first, _ = crypto.encrypt(b"<xml/>", timestamp=1, nonce=2)
    second, signature = crypto.encrypt(b"<xml/>", timestamp=1, nonce=2)
    assert first != second  # fresh random prefix each time
    assert crypto.decrypt(msg_signature=signature, timestamp=1, nonce=2, encrypt=second) == (
        b"<xml/>"
    )


# wechatpy's published vector (wechatpy/wechatpy tests/test_crypto.py, test data only).
WECHATPY_REPLY = b"""<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
WECHATPY_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8"
    "GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2"
    "Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXa"
    "fG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF"
    "9XiKzHo3"
)


def test_wechatpy_published_vector() -> None:
    crypto = MessageCrypto(
        "123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a"
    )
    assert crypto.signature("1411525903", "461056294", WECHATPY_ENCRYPT) == (
        "407518b7649e86ef23978113f92d27afa9296533"
    )
    encrypt, signature = crypto.encrypt(
        WECHATPY_REPLY, timestamp="1411525903", nonce="461056294", random16=b"1234567890123456"
    )
    assert (encrypt, signature) == (WECHATPY_ENCRYPT, "407518b7649e86ef23978113f92d27afa9296533")


def test_wrong_signature_rejected(crypto: MessageCrypto) -> None:
    case = CASES["component_verify_ticket"]
    bad = ("0" if case["msg_signature"][0] != "0" else "1") + case["msg_signature"][1:]
    with pytest.raises(SignatureError):
        crypto.decrypt(
            msg_signature=bad, timestamp=case["timestamp"], nonce=case["nonce"],
            encrypt=case["encrypt"],
        )  # fmt: skip


def test_signature_is_case_insensitive_hex(crypto: MessageCrypto) -> None:
    case = CASES["unauthorized"]
    plaintext = crypto.decrypt(
        msg_signature=case["msg_signature"].upper(),
        timestamp=case["timestamp"],
        nonce=case["nonce"],
        encrypt=case["encrypt"],
    )
    assert plaintext == case["plaintext_xml"].encode()


def _flip(text: str, index: int) -> str:
    char = text[index]
    return text[:index] + ("A" if char != "A" else "B") + text[index + 1 :]


@pytest.mark.parametrize("index", [0, 100, -10])
def test_flipped_base64_char_fails_signature(crypto: MessageCrypto, index: int) -> None:
    case = CASES["component_verify_ticket"]
    with pytest.raises(SignatureError):
        crypto.decrypt(
            msg_signature=case["msg_signature"],
            timestamp=case["timestamp"],
            nonce=case["nonce"],
            encrypt=_flip(case["encrypt"], index),
        )


@pytest.mark.parametrize("index", [-5, -30, -50])
def test_flipped_and_resigned_ciphertext_fails_decryption(
    crypto: MessageCrypto, index: int
) -> None:
    # Someone who knows the token but not the key re-signs a tampered ciphertext: the last
    # blocks (appid and padding) no longer decrypt to a valid layout.
    encrypt = _flip(CASES["component_verify_ticket"]["encrypt"], index)
    with pytest.raises((DecryptError, AppIdMismatchError)):
        crypto.decrypt(**_decrypt_kwargs(crypto, encrypt))


@pytest.mark.parametrize("pad", [0, 33, 255])
def test_pad_byte_out_of_range_rejected(crypto: MessageCrypto, pad: int) -> None:
    body = b"0123456789abcdef" + (6).to_bytes(4, "big") + b"<xml/>" + APPID.encode()
    filler = 64 - len(body) - 1
    padded = body + bytes([7]) * filler + bytes([pad])
    with pytest.raises(DecryptError):
        crypto.decrypt(**_decrypt_kwargs(crypto, _raw_aes(AES_KEY, padded)))


def test_inconsistent_pad_bytes_rejected(crypto: MessageCrypto) -> None:
    body = b"0123456789abcdef" + (6).to_bytes(4, "big") + b"<xml/>" + APPID.encode()
    n = 64 - len(body)
    padded = body + bytes([1]) + bytes([n]) * (n - 1)  # last byte says n, one pad byte lies
    with pytest.raises(DecryptError):
        crypto.decrypt(**_decrypt_kwargs(crypto, _raw_aes(AES_KEY, padded)))


def test_pad_32_accepted(crypto: MessageCrypto) -> None:
    msg = b"<xml/>" + b" " * 20
    exact = b"0123456789abcdef" + len(msg).to_bytes(4, "big") + msg + APPID.encode()
    assert len(exact) == 64  # a whole number of 32-byte blocks: a full 0x20 block follows
    plaintext = crypto.decrypt(
        **_decrypt_kwargs(crypto, _raw_aes(AES_KEY, exact + bytes([32]) * 32))
    )
    assert plaintext == msg


def test_length_prefix_overflow_rejected(crypto: MessageCrypto) -> None:
    body = b"0123456789abcdef" + (10_000).to_bytes(4, "big") + b"<xml/>" + APPID.encode()
    n = 32 - len(body) % 32
    with pytest.raises(DecryptError):
        crypto.decrypt(**_decrypt_kwargs(crypto, _raw_aes(AES_KEY, body + bytes([n]) * n)))


@pytest.mark.parametrize("encrypt", ["not base64!!", "QUJD", "QUJDREVGR0hJSktMTU5PUA=="[:-4]])
def test_bad_base64_or_length_rejected(crypto: MessageCrypto, encrypt: str) -> None:
    with pytest.raises(DecryptError):
        crypto.decrypt(**_decrypt_kwargs(crypto, encrypt))


def test_wrong_appid_rejected(crypto: MessageCrypto) -> None:
    other = MessageCrypto(TOKEN, AES_KEY, "wx9999999999999999")
    encrypt, signature = other.encrypt(b"<xml/>", timestamp=1, nonce=2)
    with pytest.raises(AppIdMismatchError) as info:
        crypto.decrypt(msg_signature=signature, timestamp=1, nonce=2, encrypt=encrypt)
    assert info.value.received_appid == "wx9999999999999999"


def test_key_rotation_uses_previous_key() -> None:
    old = MessageCrypto(TOKEN, AES_KEY, APPID)
    rotated = MessageCrypto(TOKEN, OTHER_KEY, APPID, previous_encoding_aes_key=AES_KEY)
    case = CASES["authorized"]
    assert (
        rotated.decrypt(
            msg_signature=case["msg_signature"],
            timestamp=case["timestamp"],
            nonce=case["nonce"],
            encrypt=case["encrypt"],
        )
        == case["plaintext_xml"].encode()
    )
    # New messages are encrypted with the current key and decrypt with it.
    encrypt, signature = rotated.encrypt(b"<xml>new</xml>", timestamp=5, nonce=6)
    assert rotated.decrypt(msg_signature=signature, timestamp=5, nonce=6, encrypt=encrypt) == (
        b"<xml>new</xml>"
    )
    with pytest.raises(DecryptError):
        old.decrypt(msg_signature=signature, timestamp=5, nonce=6, encrypt=encrypt)


def test_without_previous_key_old_messages_fail() -> None:
    current_only = MessageCrypto(TOKEN, OTHER_KEY, APPID)
    third = MessageCrypto(TOKEN, THIRD_KEY, APPID, previous_encoding_aes_key=OTHER_KEY)
    case = CASES["component_verify_ticket"]
    for crypto in (current_only, third):
        with pytest.raises(DecryptError):
            crypto.decrypt(
                msg_signature=case["msg_signature"],
                timestamp=case["timestamp"],
                nonce=case["nonce"],
                encrypt=case["encrypt"],
            )


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("", AES_KEY, APPID), {}),
        ((TOKEN, AES_KEY, ""), {}),
        ((TOKEN, AES_KEY[:-1], APPID), {}),
        ((TOKEN, AES_KEY[:-1] + "!", APPID), {}),
        ((TOKEN, AES_KEY, APPID), {"previous_encoding_aes_key": "short"}),
    ],
)
def test_bad_configuration_rejected(args: tuple[str, str, str], kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        MessageCrypto(*args, **kwargs)
    assert AES_KEY not in str(info.value)


def test_random16_length_checked(crypto: MessageCrypto) -> None:
    with pytest.raises(InvalidArgumentError):
        crypto.encrypt(b"<xml/>", timestamp=1, nonce=2, random16=b"short")


def test_repr_hides_secrets() -> None:
    crypto = MessageCrypto(TOKEN, AES_KEY, APPID, previous_encoding_aes_key=OTHER_KEY)
    text = repr(crypto) + str(crypto)
    assert APPID in text
    for secret in (TOKEN, AES_KEY, OTHER_KEY, VECTORS["aes_key_hex"]):
        assert secret not in text


def test_errors_are_wxprivacy_errors() -> None:
    assert issubclass(CallbackError, WxPrivacyError)
    for cls in (SignatureError, DecryptError, AppIdMismatchError):
        assert issubclass(cls, CallbackError)


# -- regressions from the issue-13 trial (a fresh clone, the README, then breaking it) -----------


@pytest.mark.parametrize("appid", ["wx0000000000000000 ", " wx0000000000000000", "wx00\t00"])
def test_message_crypto_refuses_a_padded_component_appid(appid: str) -> None:
    emu = Emulator(authorizers=0)
    with pytest.raises(InvalidArgumentError, match=repr(appid).replace("\\", "\\\\")):
        MessageCrypto("token", emu.encoding_aes_key, appid)


def test_short_length_prefix_does_not_leak_the_ticket() -> None:
    """Regression: a bad length prefix must not put decrypted text (the ticket) in the error."""
    ticket = "ticket@@@secret-ticket-value"
    crypto = MessageCrypto(TOKEN, AES_KEY, APPID)
    xml = (
        f"<xml><AppId><![CDATA[{APPID}]]></AppId><InfoType><![CDATA[component_verify_ticket]]>"
        f"</InfoType><ComponentVerifyTicket><![CDATA[{ticket}]]></ComponentVerifyTicket></xml>"
    ).encode()
    plain = b"0123456789abcdef" + struct.pack(">I", len(xml) - 60) + xml + APPID.encode()
    plain += bytes([32 - len(plain) % 32]) * (32 - len(plain) % 32)
    encrypt = _raw_aes(AES_KEY, plain)
    with pytest.raises(AppIdMismatchError) as info:
        crypto.decrypt(**_decrypt_kwargs(crypto, encrypt))
    assert "secret-ticket" not in str(info.value)
    assert "secret-ticket" not in info.value.received_appid
    assert "not an appid" in info.value.received_appid
