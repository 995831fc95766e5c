"""Signed, encrypted authorization-event pushes (what WeChat POSTs to the callback URL)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from wxprivacy.callback import MessageCrypto

__all__ = ["CallbackPush", "Pushes", "build_push"]


@dataclass(frozen=True, slots=True)
class CallbackPush:
    """One push to the authorization-event URL, ready to POST (``repr`` shows only the type).

    Attributes:
        info_type: the event's ``InfoType`` (``"component_verify_ticket"``, ``"authorized"``...).
        fields: the plaintext elements (``AppId``, ``CreateTime``, ``InfoType``, ...), as text.
        xml: the plaintext message (UTF-8 XML) before encryption.
        query: the query parameters WeChat sends: ``signature``, ``timestamp``, ``nonce``,
            ``encrypt_type`` (``aes``) and ``msg_signature``.
        body: the POST body, ``<xml><AppId>..</AppId><Encrypt>..</Encrypt></xml>``.
    """

    info_type: str
    fields: Mapping[str, str] = field(repr=False)
    xml: bytes = field(repr=False)
    query: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    async def deliver(self, http: httpx.AsyncClient, url: str) -> httpx.Response:
        """POST this push to ``url`` with ``http`` (as WeChat would) and return the response."""
        return await http.post(
            url, params=dict(self.query), content=self.body, headers={"Content-Type": "text/xml"}
        )


def _element(name: str, value: str | int) -> str:
    if isinstance(value, int):
        return f"<{name}>{value}</{name}>"
    # "]]>" would end the CDATA section: close it there and open a new one
    text = value.replace("]]>", "]]]]><![CDATA[>")
    return f"<{name}><![CDATA[{text}]]></{name}>"


def build_push(
    crypto: MessageCrypto,
    token: str,
    fields: Mapping[str, str | int],
    timestamp: int,
    rng: random.Random,
) -> CallbackPush:
    """Encrypt and sign ``fields`` as one push (``rng`` gives the nonce and the random prefix)."""
    xml = ("<xml>" + "".join(_element(k, v) for k, v in fields.items()) + "</xml>").encode()
    nonce = str(rng.randrange(10**9, 10**10))
    encrypt, msg_signature = crypto.encrypt(
        xml, timestamp=timestamp, nonce=nonce, random16=rng.getrandbits(128).to_bytes(16, "big")
    )
    signature = hashlib.sha1("".join(sorted([token, str(timestamp), nonce])).encode()).hexdigest()
    query = {
        "signature": signature,
        "timestamp": str(timestamp),
        "nonce": nonce,
        "encrypt_type": "aes",
        "msg_signature": msg_signature,
    }
    return CallbackPush(
        info_type=str(fields["InfoType"]),
        fields={k: str(v) for k, v in fields.items()},
        xml=xml,
        query=query,
        body=crypto.envelope(encrypt),
    )


class Pushes:
    """Builds the signed, encrypted pushes of one component (state is not changed here).

    Args:
        component_appid: the ``AppId`` of every push, and the appid the crypto binds.
        callback_token: the message-check Token the pushes are signed with.
        encoding_aes_key: the 43-character EncodingAESKey they are encrypted with.
        clock: the wall clock, Unix seconds (``CreateTime`` and ``timestamp``).
        seed: seeds nonces and random prefixes.
    """

    def __init__(
        self,
        component_appid: str,
        callback_token: str,
        encoding_aes_key: str,
        *,
        clock: Callable[[], float],
        seed: int,
    ) -> None:
        self.component_appid = component_appid
        self._callback_token = callback_token
        self._encoding_aes_key = encoding_aes_key
        self._clock = clock
        self._rng = random.Random(f"wxprivacy-emulator-pushes-{seed}")
        self._crypto: MessageCrypto | None = None

    @property
    def callback_token(self) -> str:
        """The message-check Token (setting it rebuilds the crypto on next use)."""
        return self._callback_token

    @callback_token.setter
    def callback_token(self, value: str) -> None:
        self._callback_token, self._crypto = value, None

    @property
    def encoding_aes_key(self) -> str:
        """The EncodingAESKey (setting it rebuilds the crypto on next use)."""
        return self._encoding_aes_key

    @encoding_aes_key.setter
    def encoding_aes_key(self, value: str) -> None:
        self._encoding_aes_key, self._crypto = value, None

    @property
    def crypto(self) -> MessageCrypto:
        """The :class:`~wxprivacy.callback.MessageCrypto` (needs the ``callback`` extra)."""
        if self._crypto is None:
            from wxprivacy.callback import MessageCrypto

            self._crypto = MessageCrypto(
                self.callback_token, self.encoding_aes_key, self.component_appid
            )
        return self._crypto

    def event(self, info_type: str, **fields: str | int) -> CallbackPush:
        """The push of one event: ``AppId``, ``CreateTime`` (now), ``InfoType``, then ``fields``."""
        now = int(self._clock())
        all_fields: dict[str, str | int] = {
            "AppId": self.component_appid,
            "CreateTime": now,
            "InfoType": info_type,
            **fields,
        }
        return build_push(self.crypto, self.callback_token, all_fields, now, self._rng)

    def authorized(
        self, authorizer_appid: str, code: str, expires_at: float, info_type: str = "authorized"
    ) -> CallbackPush:
        """The ``authorized`` (or ``updateauthorized``) push carrying authorization ``code``."""
        return self.event(
            info_type,
            AuthorizerAppid=authorizer_appid,
            AuthorizationCode=code,
            AuthorizationCodeExpiredTime=int(expires_at),
            PreAuthCode="",
        )
