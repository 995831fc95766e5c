"""WXBizMsgCrypt: the signature and AES scheme of WeChat's encrypted callback messages.

Implements the "消息加解密" scheme of the third-party platform (WeChat doc
``doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Technical_Plan.html``):

* ``msg_signature`` = hex SHA-1 of the sorted concatenation of token, timestamp, nonce, Encrypt;
* AES-256-CBC with key = base64(EncodingAESKey + "="), IV = the first 16 bytes of the key;
* PKCS#7 padding to a multiple of **32** bytes (pad byte 1..32);
* plaintext = 16 random bytes ‖ 4-byte big-endian length ‖ message ‖ appid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wxprivacy._appid import check_appid
from wxprivacy._errors import InvalidArgumentError

from ._errors import AppIdMismatchError, DecryptError, SignatureError

__all__ = ["MessageCrypto"]

_PAD_BLOCK: Final = 32
_AES_BLOCK: Final = 16
_RANDOM_LEN: Final = 16
_LEN_PREFIX: Final = 4
_AES_KEY_CHARS: Final = 43


def _aes_key(encoding_aes_key: str, argument: str) -> bytes:
    if len(encoding_aes_key) != _AES_KEY_CHARS or not encoding_aes_key.isascii():
        raise InvalidArgumentError(f"{argument} must be 43 ASCII characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise InvalidArgumentError(f"{argument} is not valid base64") from None
    if len(key) != 32:  # pragma: no cover - 43 base64 chars + "=" always give 32 bytes
        raise InvalidArgumentError(f"{argument} must decode to 32 bytes")
    return key


def _pad(data: bytes) -> bytes:
    n = _PAD_BLOCK - len(data) % _PAD_BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1]
    if not 1 <= n <= _PAD_BLOCK or n > len(data):
        raise DecryptError("invalid PKCS#7 padding")
    if not hmac.compare_digest(data[-n:], bytes([n]) * n):
        raise DecryptError("invalid PKCS#7 padding")
    return data[:-n]


class MessageCrypto:
    """Sign, verify, encrypt and decrypt WeChat callback messages (WXBizMsgCrypt).

    Args:
        token: the message-check Token set on the third-party platform (消息校验Token).
        encoding_aes_key: the 43-character EncodingAESKey (消息加解密Key).
        component_appid: the third-party platform appid; decrypted messages must end with it.
        previous_encoding_aes_key: the EncodingAESKey in force before the last change, tried
            when decryption with the current key fails (WeChat may still use it for a while).

    Raises:
        InvalidArgumentError: an empty token or appid, or a key that is not 43 base64 characters.

    The token and keys are never shown by ``repr()`` or in exception messages.
    """

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        component_appid: str,
        *,
        previous_encoding_aes_key: str | None = None,
    ) -> None:
        if not token:
            raise InvalidArgumentError("token must not be empty")
        check_appid("component_appid", component_appid)
        self._token = token
        self._key = _aes_key(encoding_aes_key, "encoding_aes_key")
        self._previous_key = (
            None
            if previous_encoding_aes_key is None
            else _aes_key(previous_encoding_aes_key, "previous_encoding_aes_key")
        )
        self.component_appid: Final = component_appid
        self._appid_bytes = component_appid.encode("utf-8")

    def __repr__(self) -> str:
        rotation = ", previous key set" if self._previous_key is not None else ""
        return f"MessageCrypto(component_appid={self.component_appid!r}{rotation})"

    def signature(self, timestamp: str | int, nonce: str | int, encrypt: str) -> str:
        """Return the ``msg_signature`` of a message.

        Args:
            timestamp: the ``timestamp`` query parameter (Unix seconds, as sent).
            nonce: the ``nonce`` query parameter.
            encrypt: the base64 ``Encrypt`` value of the POST body.

        Returns:
            The lowercase hex SHA-1 of the lexicographically sorted, concatenated token,
            timestamp, nonce and encrypt.
        """
        parts = sorted([self._token, str(timestamp), str(nonce), encrypt])
        # surrogatepass: a lone surrogate in a parameter yields a signature that cannot match,
        # never a UnicodeEncodeError
        return hashlib.sha1("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def verify_signature(
        self, *, msg_signature: str, timestamp: str | int, nonce: str | int, encrypt: str
    ) -> None:
        """Check ``msg_signature`` against the message in constant time.

        Raises:
            SignatureError: the signature does not match.
        """
        expected = self.signature(timestamp, nonce, encrypt).encode("ascii")
        given = msg_signature.strip().lower().encode("utf-8", "replace")
        if not hmac.compare_digest(expected, given):
            raise SignatureError("msg_signature does not match the message")

    def decrypt(
        self, *, msg_signature: str, timestamp: str | int, nonce: str | int, encrypt: str
    ) -> bytes:
        """Verify and decrypt the ``Encrypt`` value of a callback.

        The signature is checked first (constant time); then the ciphertext is decrypted with
        the current key and, if that fails, with the previous key.

        Args:
            msg_signature: the ``msg_signature`` query parameter.
            timestamp: the ``timestamp`` query parameter (Unix seconds, as sent).
            nonce: the ``nonce`` query parameter.
            encrypt: the base64 ``Encrypt`` element of the POST body.

        Returns:
            The decrypted message (UTF-8 XML bytes), without random prefix, length and appid.

        Raises:
            SignatureError: the signature does not match.
            DecryptError: the ciphertext, padding or layout is invalid under every key.
            AppIdMismatchError: the message decrypted but ends with another appid.
        """
        self.verify_signature(
            msg_signature=msg_signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt
        )
        try:
            ciphertext = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptError("Encrypt is not valid base64") from None
        if not ciphertext or len(ciphertext) % _AES_BLOCK:
            raise DecryptError("ciphertext length is not a positive multiple of 16 bytes")
        keys = [self._key] if self._previous_key is None else [self._key, self._previous_key]
        errors: list[DecryptError | AppIdMismatchError] = []
        for key in keys:
            try:
                return self._open(key, ciphertext)
            except (DecryptError, AppIdMismatchError) as exc:
                errors.append(exc)
        # A wrong appid means the layout checked out, so it is the more telling error.
        mismatch = [exc for exc in errors if isinstance(exc, AppIdMismatchError)]
        raise (mismatch or errors)[0]

    def _open(self, key: bytes, ciphertext: bytes) -> bytes:
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:_AES_BLOCK])).decryptor()
        content = _unpad(decryptor.update(ciphertext) + decryptor.finalize())
        header = _RANDOM_LEN + _LEN_PREFIX
        if len(content) < header:
            raise DecryptError("decrypted message is shorter than its header")
        (length,) = struct.unpack(">I", content[_RANDOM_LEN:header])
        if length > len(content) - header:
            raise DecryptError("decrypted length prefix exceeds the message")
        appid = content[header + length :]
        if appid != self._appid_bytes:
            # Show the trailing bytes only when they look like an appid: after a bad length
            # prefix they may hold decrypted message text (a ticket), which must not leak.
            text = appid.decode("utf-8", "replace")
            looks_like_appid = len(appid) <= 32 and text.isascii() and text.isalnum()
            shown = text if looks_like_appid else f"<{len(appid)} bytes, not an appid>"
            raise AppIdMismatchError(
                f"message is for appid {shown!r}, not {self.component_appid!r}",
                received_appid=shown,
            )
        return content[header : header + length]

    def encrypt(
        self,
        xml: bytes,
        *,
        timestamp: str | int,
        nonce: str | int,
        random16: bytes | None = None,
    ) -> tuple[str, str]:
        """Encrypt and sign a message the way WeChat pushes it (used by the emulator and tests).

        Args:
            xml: the plaintext message (UTF-8 XML bytes).
            timestamp: the ``timestamp`` to sign with (Unix seconds).
            nonce: the ``nonce`` to sign with.
            random16: the 16 random prefix bytes; fresh ``os.urandom(16)`` when ``None``.

        Returns:
            ``(encrypt, msg_signature)``: the base64 ciphertext (current key) and its signature.

        Raises:
            InvalidArgumentError: ``random16`` is not 16 bytes long.
        """
        if random16 is None:
            random16 = os.urandom(_RANDOM_LEN)
        elif len(random16) != _RANDOM_LEN:
            raise InvalidArgumentError("random16 must be exactly 16 bytes")
        plain = _pad(random16 + struct.pack(">I", len(xml)) + xml + self._appid_bytes)
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:_AES_BLOCK])).encryptor()
        encrypted = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")
        return encrypted, self.signature(timestamp, nonce, encrypted)

    def envelope(self, encrypt: str) -> bytes:
        """Return the POST body WeChat sends for an encrypted message.

        Returns:
            ``<xml><AppId><![CDATA[appid]]></AppId><Encrypt><![CDATA[encrypt]]></Encrypt></xml>``
            as UTF-8 bytes.
        """
        return (
            f"<xml><AppId><![CDATA[{self.component_appid}]]></AppId>"
            f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        ).encode()
