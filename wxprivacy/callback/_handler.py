"""The authorization-event URL handler: verify, decrypt, parse and dispatch one callback.

Implements the "授权事件接收URL" of a third-party platform (WeChat doc
``doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/authorize_event.html``): WeChat POSTs
``<xml><AppId/><Encrypt/></xml>`` with ``timestamp``, ``nonce`` and ``msg_signature`` in the query
string, and expects the plain text ``success`` in reply.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Final, Protocol

from ._crypto import MessageCrypto
from ._errors import (
    AppIdMismatchError,
    CallbackError,
    MalformedMessageError,
    MessageTooLargeError,
    SignatureError,
    StaleMessageError,
)
from ._events import (
    AuthorizedEvent,
    ComponentVerifyTicketEvent,
    Event,
    UnauthorizedEvent,
    UnknownEvent,
    UpdateAuthorizedEvent,
    parse_event,
    parse_xml,
)

__all__ = ["SUCCESS", "CallbackHandler", "CallbackTarget"]

logger = logging.getLogger(__name__)

SUCCESS: Final = "success"


class CallbackTarget(Protocol):
    """What the handler feeds events into (``ComponentClient`` implements it).

    Attributes:
        component_appid: the third-party platform appid.
    """

    component_appid: str

    async def set_component_verify_ticket(self, ticket: str) -> None:
        """Store the newest ``component_verify_ticket``."""
        ...

    async def query_auth(self, authorization_code: str) -> object:
        """Exchange an authorization code (``api_query_auth``) and store the authorizer's tokens."""
        ...

    async def remove_authorizer(self, authorizer_appid: str) -> None:
        """Forget the tokens of an authorizer that revoked the authorization."""
        ...


class CallbackHandler:
    """Handle one POST to the authorization-event URL.

    Args:
        target: receives the events (ticket, authorization code exchange, revocation).
        crypto: the :class:`MessageCrypto` holding the token, keys and component appid.
        max_body_bytes: bodies larger than this (bytes) are rejected before parsing.
        max_age: when set, reject messages whose signed ``timestamp`` differs from ``clock()`` by
            more than this many seconds (either direction); ``None`` disables the check.
        clock: returns the current Unix time in seconds.

    Raises:
        ValueError: ``max_body_bytes`` or ``max_age`` is not positive.
    """

    def __init__(
        self,
        target: CallbackTarget,
        crypto: MessageCrypto,
        *,
        max_body_bytes: int = 64 * 1024,
        max_age: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be positive")
        if max_age is not None and max_age <= 0:
            raise ValueError("max_age must be positive seconds or None")
        self.target = target
        self.crypto = crypto
        self.max_body_bytes = max_body_bytes
        self.max_age = max_age
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"CallbackHandler(component_appid={self.crypto.component_appid!r}, "
            f"max_body_bytes={self.max_body_bytes}, max_age={self.max_age!r})"
        )

    async def handle(self, query_params: Mapping[str, str], body: bytes) -> str:
        """Verify, decrypt and dispatch one callback; return the reply body ``"success"``.

        Order: size check, envelope parse, signature check (constant time), timestamp window,
        decryption (current key, then previous), appid check, event parse, dispatch:
        ``component_verify_ticket`` → ``target.set_component_verify_ticket``;
        ``authorized``/``updateauthorized`` → ``target.query_auth``; ``unauthorized`` →
        ``target.remove_authorizer``; other ``InfoType`` values are logged at DEBUG and ignored.

        Exceptions raised by the target propagate unchanged (answer them with HTTP 5xx so WeChat
        delivers again). On any :class:`CallbackError` the target is not called.

        Args:
            query_params: the request's query parameters (``timestamp``, ``nonce``,
                ``msg_signature``; ``signature`` and ``encrypt_type`` are ignored).
            body: the raw request body.

        Returns:
            ``"success"``, the reply WeChat expects.

        Raises:
            MessageTooLargeError: the body exceeds ``max_body_bytes``.
            MalformedMessageError: bad XML (including DTDs/entities), a missing ``Encrypt``,
                ``timestamp`` or ``nonce``, or an incomplete event.
            SignatureError: ``msg_signature`` is missing or wrong.
            StaleMessageError: ``max_age`` is set and the timestamp is outside the window.
            DecryptError: the ciphertext does not decrypt under any configured key.
            AppIdMismatchError: the message is for another component appid.
        """
        try:
            event = self._open(query_params, body)
        except CallbackError as exc:
            logger.warning("rejected authorization-event callback: %s", type(exc).__name__)
            raise
        await self._dispatch(event)
        return SUCCESS

    def _open(self, query_params: Mapping[str, str], body: bytes) -> Event:
        if len(body) > self.max_body_bytes:
            raise MessageTooLargeError(size=len(body), limit=self.max_body_bytes)
        envelope = parse_xml(body)
        encrypt_element = envelope.find("Encrypt")
        encrypt = (encrypt_element.text or "").strip() if encrypt_element is not None else ""
        if not encrypt:
            raise MalformedMessageError("the body has no <Encrypt> element")
        msg_signature = query_params.get("msg_signature")
        if not msg_signature:
            raise SignatureError("the msg_signature query parameter is missing")
        timestamp = query_params.get("timestamp")
        nonce = query_params.get("nonce")
        if not timestamp or nonce is None:
            raise MalformedMessageError("the timestamp or nonce query parameter is missing")
        self.crypto.verify_signature(
            msg_signature=msg_signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt
        )
        if self.max_age is not None:
            try:
                sent_at = int(timestamp)
            except ValueError:
                raise MalformedMessageError(
                    "the timestamp query parameter is not an integer"
                ) from None
            age = self._clock() - sent_at
            if abs(age) > self.max_age:
                raise StaleMessageError(age=age, max_age=self.max_age)
        plaintext = self.crypto.decrypt(
            msg_signature=msg_signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt
        )
        event = parse_event(plaintext)
        appid = self.crypto.component_appid
        if not isinstance(event, UnknownEvent) and event.appid != appid:
            raise AppIdMismatchError(
                f"event AppId {event.appid[:64]!r} is not {appid!r}",
                received_appid=event.appid[:64],
            )
        return event

    async def _dispatch(self, event: Event) -> None:
        match event:
            case ComponentVerifyTicketEvent():
                logger.info("component_verify_ticket received (created %s)", event.create_time)
                await self.target.set_component_verify_ticket(event.component_verify_ticket)
            case AuthorizedEvent() | UpdateAuthorizedEvent():
                logger.info(
                    "%s event for authorizer %s; exchanging the authorization code",
                    event.INFO_TYPE,
                    event.authorizer_appid,
                )
                await self.target.query_auth(event.authorization_code)
            case UnauthorizedEvent():
                logger.info("unauthorized event for authorizer %s", event.authorizer_appid)
                await self.target.remove_authorizer(event.authorizer_appid)
            case UnknownEvent():
                logger.debug("ignoring authorization event with InfoType %r", event.info_type)
