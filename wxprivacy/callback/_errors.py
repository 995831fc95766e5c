"""The errors raised when an authorization-event callback is rejected.

They all derive from :class:`wxprivacy.WxPrivacyError`::

    WxPrivacyError
    └── CallbackError                 the callback was rejected; nothing was passed to the target
        ├── SignatureError            msg_signature missing or wrong
        ├── DecryptError              bad base64, ciphertext length or PKCS#7 padding, bad layout
        ├── AppIdMismatchError        the message is addressed to another component appid
        ├── MessageTooLargeError      the body is larger than the handler accepts
        ├── MalformedMessageError     not well-formed XML, a DTD/entity, a missing element
        └── StaleMessageError         the timestamp lies outside the accepted window

Messages name the problem only: never the token, the EncodingAESKey, a signature, a ticket, an
authorization code or the decrypted message.
"""

from __future__ import annotations

from wxprivacy._errors import WxPrivacyError

__all__ = [
    "AppIdMismatchError",
    "CallbackError",
    "DecryptError",
    "MalformedMessageError",
    "MessageTooLargeError",
    "SignatureError",
    "StaleMessageError",
]


class CallbackError(WxPrivacyError):
    """A callback request was rejected; the :class:`CallbackTarget` was not called.

    Answer such a request with HTTP 400 (WeChat retries deliveries that do not get ``success``).
    """


class SignatureError(CallbackError):
    """The ``msg_signature`` query parameter is missing or does not match the message."""


class DecryptError(CallbackError):
    """The ``Encrypt`` value is not valid WXBizMsgCrypt ciphertext under any configured key.

    Raised for invalid base64, a ciphertext length that is not a multiple of the AES block, a
    PKCS#7 pad byte outside 1..32 or inconsistent pad bytes, and a length prefix that does not fit.
    """


class AppIdMismatchError(CallbackError):
    """The message names a different appid than the configured ``component_appid``.

    Attributes:
        received_appid: the appid found in the message (appids are public identifiers).
    """

    def __init__(self, message: str, *, received_appid: str) -> None:
        self.received_appid = received_appid
        super().__init__(message)


class MessageTooLargeError(CallbackError):
    """The request body is larger than ``max_body_bytes``; it was not parsed.

    Attributes:
        size: the body size in bytes.
        limit: the configured limit in bytes.
    """

    def __init__(self, *, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"callback body of {size} bytes exceeds the limit of {limit} bytes")


class MalformedMessageError(CallbackError):
    """The body or the decrypted message is not acceptable XML.

    Raised for XML that is not well-formed, that declares a DTD or entities (refused by defusedxml),
    that lacks a required element (``Encrypt``, ``InfoType``, ...), or whose values have the wrong
    type; also for missing ``timestamp``/``nonce`` query parameters.
    """


class StaleMessageError(CallbackError):
    """The signed ``timestamp`` is further than ``max_age`` seconds from the handler's clock.

    Attributes:
        age: the clock minus the timestamp, in seconds (negative when it lies in the future).
        max_age: the accepted window, in seconds.
    """

    def __init__(self, *, age: float, max_age: float) -> None:
        self.age = age
        self.max_age = max_age
        super().__init__(
            f"callback timestamp is {age:.0f} s away from now; at most {max_age:g} s is accepted"
        )
