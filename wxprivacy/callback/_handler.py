"""The authorization-event URL handler: verify, decrypt, parse and dispatch one callback.

Implements the "授权事件接收URL" of a third-party platform (WeChat doc
``doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/authorize_event.html``): WeChat POSTs
``<xml><AppId/><Encrypt/></xml>`` with ``timestamp``, ``nonce`` and ``msg_signature`` in the query
string, and expects the plain text ``success`` in reply.

Guarantees (``docs/callbacks.md`` explains them):

- replay window: a push whose signed ``timestamp`` is more than ``max_age`` seconds (300 by
  default) from the clock is refused with :class:`StaleMessageError` and changes nothing;
- order: per authorizer, an authorization event whose ``CreateTime`` is strictly older than the
  newest one applied is acknowledged and ignored (the watermark lives in the token store, so it
  holds across workers); events of the same second are applied in arrival order;
- once: a push already applied (the same event delivered again) is acknowledged, not re-applied.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from math import inf
from typing import Final, Protocol

from wxprivacy._checks import check_int
from wxprivacy._errors import InvalidArgumentError, WeChatAPIError
from wxprivacy._stores import EventStamp, TokenStore

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
    seconds_of,
)

__all__ = ["DEFAULT_MAX_AGE", "SUCCESS", "CallbackHandler", "CallbackTarget", "event_stamp"]

logger = logging.getLogger(__name__)

SUCCESS: Final = "success"
_MAX_PARAM: Final = 128
"""Characters a signed query parameter may have (WeChat's are a few dozen)."""
DEFAULT_MAX_AGE: Final = 300.0
"""Seconds a push's signed timestamp may be away from the clock (either way) by default.

WeChat answers a push after waiting 5 seconds and retries a few times, so a genuine delivery is
seconds old; the ticket is pushed every 10 minutes, so refusing anything older loses nothing; the
rest of the window is room for clock skew between WeChat and this server (keep NTP on)."""


class CallbackTarget(Protocol):
    """What the handler feeds events into (``ComponentClient`` implements it).

    Attributes:
        component_appid: the third-party platform appid.
        token_store: where the event watermarks and applied event ids live (the client's store).
    """

    component_appid: str
    token_store: TokenStore

    async def set_component_verify_ticket(self, ticket: str) -> None:
        """Store the newest ``component_verify_ticket``."""
        ...

    async def query_auth(
        self, authorization_code: str, *, event: EventStamp | None = None
    ) -> object:
        """Exchange an authorization code (``api_query_auth``) and store the authorizer's tokens,
        unless ``event`` is older than, or the same as, an event already applied."""
        ...

    async def remove_authorizer(
        self, authorizer_appid: str, *, event: EventStamp | None = None
    ) -> object:
        """Forget the tokens of an authorizer that revoked the authorization, unless ``event``
        is older than, or the same as, an event already applied."""
        ...


def event_stamp(event: AuthorizedEvent | UpdateAuthorizedEvent | UnauthorizedEvent) -> EventStamp:
    """Return the :class:`EventStamp` of an authorization event: its ``CreateTime`` and an id that
    is the same for every delivery of one push (the code enters only as a SHA-256 digest)."""
    create_time = int(event.create_time.timestamp())
    code = getattr(event, "authorization_code", "")
    digest = hashlib.sha256(code.encode("utf-8")).hexdigest()[:16]
    info_type = event.INFO_TYPE
    return EventStamp(
        create_time,
        f"{info_type}:{event.authorizer_appid}:{create_time}:{digest}",
        event.authorizer_appid,
    )


class CallbackHandler:
    """Handle one POST to the authorization-event URL.

    Args:
        target: receives the events (ticket, authorization code exchange, revocation).
        crypto: the :class:`MessageCrypto` holding the token, keys and component appid.
        max_body_bytes: bodies larger than this (bytes) are rejected before parsing.
        max_age: reject messages whose signed ``timestamp`` differs from ``clock()`` by more
            than this many seconds (either direction); 300 by default (:data:`DEFAULT_MAX_AGE`);
            ``None`` disables the check (not recommended: a recorded push could be replayed).
        clock: returns the current Unix time in seconds.

    Raises:
        InvalidArgumentError: ``max_body_bytes`` or ``max_age`` is not positive (it is a
            ``ValueError`` too); ``crypto`` is not a :class:`MessageCrypto`, or it is for
            another component than ``target``.
    """

    def __init__(
        self,
        target: CallbackTarget,
        crypto: MessageCrypto,
        *,
        max_body_bytes: int = 64 * 1024,
        max_age: float | None = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(crypto, MessageCrypto):
            raise InvalidArgumentError(
                f"crypto must be a MessageCrypto, got {type(crypto).__name__} (the arguments "
                "are CallbackHandler(target, crypto))"
            )
        target_appid = getattr(target, "component_appid", None)
        if target_appid != crypto.component_appid:
            raise InvalidArgumentError(
                f"the MessageCrypto is for component {crypto.component_appid!r} but the target "
                f"is for {target_appid!r}: pushes for one would be stored under the other"
            )
        check_int("max_body_bytes", max_body_bytes, low=1, unit="(bytes)")
        if max_age is not None and not (isinstance(max_age, int | float) and 0 < max_age < inf):
            raise InvalidArgumentError(
                f"max_age must be a positive finite number of seconds or None, got {max_age!r}"
            )
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
        Authorization events carry their :class:`EventStamp`: one already applied, or older than
        the newest applied for that authorizer, is answered ``success`` without calling the
        target (and the store refuses such a write in any case).

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
            StaleMessageError: the timestamp is outside the ``max_age`` window.
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
        for name, value in (
            ("timestamp", timestamp),
            ("nonce", nonce),
            ("msg_signature", msg_signature),
        ):
            if len(value) > _MAX_PARAM or not value.isascii() or not value.isprintable():
                raise MalformedMessageError(
                    f"the {name} query parameter is not short printable ASCII"
                )
        self.crypto.verify_signature(
            msg_signature=msg_signature, timestamp=timestamp, nonce=nonce, encrypt=encrypt
        )
        if self.max_age is not None:
            sent_at = seconds_of(timestamp)
            if sent_at is None:
                raise MalformedMessageError(
                    "the timestamp query parameter is not a Unix time in seconds"
                )
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
                stamp = event_stamp(event)
                if await self._applied(event.authorizer_appid, stamp):
                    return
                logger.info(
                    "%s event for authorizer %s; exchanging the authorization code",
                    event.INFO_TYPE,
                    event.authorizer_appid,
                )
                try:
                    await self.target.query_auth(event.authorization_code, event=stamp)
                except WeChatAPIError:
                    # a second delivery racing the first: the code is used by now, and applied
                    if await self._applied(event.authorizer_appid, stamp):
                        return
                    raise
            case UnauthorizedEvent():
                stamp = event_stamp(event)
                if await self._applied(event.authorizer_appid, stamp):
                    return
                logger.info("unauthorized event for authorizer %s", event.authorizer_appid)
                await self.target.remove_authorizer(event.authorizer_appid, event=stamp)
            case UnknownEvent():
                logger.debug("ignoring authorization event with InfoType %r", event.info_type)

    async def _applied(self, appid: str, stamp: EventStamp) -> bool:
        store = self.target.token_store
        if await store.event_seen(self.target.component_appid, appid, stamp):
            logger.info(
                "event %s was applied already, or a newer one was; acknowledged", stamp.event_id
            )
            return True
        return False
