"""Helpers for the callback tests: the crypto vectors, a fake target, request builders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from wxprivacy import EventStamp, MemoryTokenStore
from wxprivacy.callback import MessageCrypto

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "callback_crypto_vectors.json").read_text("utf-8")
)
CASES: dict[str, dict[str, Any]] = VECTORS["cases"]
TOKEN: str = VECTORS["token"]
AES_KEY: str = VECTORS["encoding_aes_key"]
APPID: str = VECTORS["component_appid"]
OTHER_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
THIRD_KEY = "0000000000111111111122222222223333333333444"
VECTOR_NOW = 1_700_001_800.0
"""A clock for the recorded vectors, whose timestamps lie within 1,800 s of it."""
VECTOR_WINDOW = 1_800.0


@attrs.define
class FakeTarget:
    """Records every call the handler makes."""

    component_appid: str = APPID
    calls: list[tuple[str, str]] = attrs.field(factory=list)
    fail_with: Exception | None = None
    token_store: MemoryTokenStore = attrs.field(factory=MemoryTokenStore)
    events: list[EventStamp | None] = attrs.field(factory=list)

    async def set_component_verify_ticket(self, ticket: str) -> None:
        self._record("set_component_verify_ticket", ticket)

    async def query_auth(
        self, authorization_code: str, *, event: EventStamp | None = None
    ) -> object:
        self.events.append(event)
        self._record("query_auth", authorization_code)
        return {"authorizer_appid": "wx1111111111111111"}

    async def remove_authorizer(
        self, authorizer_appid: str, *, event: EventStamp | None = None
    ) -> None:
        self.events.append(event)
        self._record("remove_authorizer", authorizer_appid)

    def _record(self, name: str, value: str) -> None:
        self.calls.append((name, value))
        if self.fail_with is not None:
            raise self.fail_with


def query_for(case: dict[str, str]) -> dict[str, str]:
    """The query parameters WeChat sends with ``case``."""
    return {
        "signature": case["signature_query_param"],
        "timestamp": case["timestamp"],
        "nonce": case["nonce"],
        "encrypt_type": "aes",
        "msg_signature": case["msg_signature"],
    }


def signed_request(
    crypto: MessageCrypto, xml: bytes, *, timestamp: str = "1700000000", nonce: str = "42"
) -> tuple[dict[str, str], bytes]:
    """Encrypt, sign and wrap ``xml`` like a WeChat push; return (query params, body)."""
    encrypt, signature = crypto.encrypt(xml, timestamp=timestamp, nonce=nonce)
    query = {"timestamp": timestamp, "nonce": nonce, "msg_signature": signature}
    return query, crypto.envelope(encrypt)
