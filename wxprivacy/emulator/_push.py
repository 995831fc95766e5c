"""Signed, encrypted authorization-event pushes (what WeChat POSTs to the callback URL)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from wxprivacy.callback import MessageCrypto

__all__ = ["CallbackPush", "build_push"]


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
    return f"<{name}><![CDATA[{value}]]></{name}>"


def build_push(
    crypto: MessageCrypto,
    token: str,
    fields: Mapping[str, str | int],
    timestamp: int,
    rng: random.Random,
) -> CallbackPush:
    """Encrypt and sign ``fields`` as one push (``rng`` gives the nonce and the random prefix)."""
    import hashlib

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
