"""The authorization-event URL ("授权事件接收URL") of a WeChat third-party platform.

Needs the ``callback`` extra (``cryptography`` and ``defusedxml``)::

    crypto = MessageCrypto(token, encoding_aes_key, component_appid)
    handler = CallbackHandler(client, crypto, max_age=300)
    reply = await handler.handle(request.query_params, await request.body())   # "success"

:class:`MessageCrypto` implements WXBizMsgCrypt (signature, AES-256-CBC, PKCS#7/32),
:func:`parse_event` turns a decrypted message into a typed event, and :class:`CallbackHandler`
verifies, decrypts and dispatches one request to a :class:`CallbackTarget`, raising a
:class:`CallbackError` subclass (answer HTTP 400) when it rejects it. See
``docs/examples/fastapi_callback.py`` for a complete web endpoint.
"""

from __future__ import annotations

from . import _requirements  # noqa: F401 - first: names the extra when it is missing
from ._crypto import MessageCrypto
from ._errors import (
    AppIdMismatchError,
    CallbackError,
    DecryptError,
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
)
from ._handler import DEFAULT_MAX_AGE, SUCCESS, CallbackHandler, CallbackTarget, event_stamp

__all__ = [
    "AppIdMismatchError",
    "AuthorizedEvent",
    "CallbackError",
    "CallbackHandler",
    "CallbackTarget",
    "ComponentVerifyTicketEvent",
    "DEFAULT_MAX_AGE",
    "DecryptError",
    "Event",
    "MalformedMessageError",
    "MessageCrypto",
    "MessageTooLargeError",
    "SUCCESS",
    "SignatureError",
    "StaleMessageError",
    "UnauthorizedEvent",
    "UnknownEvent",
    "UpdateAuthorizedEvent",
    "event_stamp",
    "parse_event",
]
