"""The exception tree, and the errcode table (:mod:`wxprivacy._errcodes`) resolved onto it.

Every error raised by wxprivacy is a :class:`WxPrivacyError`::

    WxPrivacyError                      base; .retryable tells whether trying later may succeed
    ├── InvalidArgumentError            bad input caught locally, before any request
    ├── ClientStateError                the client cannot be used for this call
    │   ├── ClientClosedError           it was closed (aclose())
    │   └── WrongEventLoopError         it belongs to another event loop
    ├── MissingCredentialError          no verify ticket / no refresh token stored: nothing was sent
    │   ├── MissingVerifyTicketError
    │   └── MissingRefreshTokenError
    ├── TransportError                  the request could not be completed (after retries)
    ├── ResponseFormatError             the body is not a well-formed WeChat response
    ├── TokenStoreError                 the token store (e.g. Redis) failed or timed out
    │   └── LockTimeoutError            a refresh lock could not be acquired in time
    └── WeChatAPIError                  WeChat answered with errcode != 0
        ├── SystemBusyError             -1
        ├── TokenInvalidError           40001, 40014, 42001 (refreshed and retried once)
        ├── ComponentCredentialError    bad appid/appsecret/ticket/IP at the token endpoint
        ├── QuotaExceededError          45009 (daily quota)
        │   └── MinuteQuotaExceededError  45011; .retry_after says when to try again
        ├── ReauthorizationRequiredError  61003, 61023, 42002, 42007: the owner must act
        ├── PermissionDeniedError       48001, 61007, 61014: the API is not granted
        ├── PrivacyConfigError          86069–86075, 87072: the guideline was rejected
        ├── UploadRejectedError         40006, 40126: the privacy ext file was rejected
        └── PrivacyInterfaceError       61031–61040: apply_privacy_interface was rejected

Exception messages never contain a token, a ticket or the appsecret. Every error survives
``pickle`` and ``copy`` with all its attributes unchanged (so it can cross process boundaries).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._errcodes import RETRY_CLASSES, ROWS, RetryClass, RetryRule

__all__ = [
    "ERRCODES",
    "ClientClosedError",
    "ClientStateError",
    "ComponentCredentialError",
    "ErrcodeInfo",
    "InvalidArgumentError",
    "LockTimeoutError",
    "MinuteQuotaExceededError",
    "MissingCredentialError",
    "MissingRefreshTokenError",
    "MissingVerifyTicketError",
    "PermissionDeniedError",
    "PrivacyConfigError",
    "PrivacyInterfaceError",
    "QuotaExceededError",
    "ReauthorizationRequiredError",
    "ResponseFormatError",
    "SystemBusyError",
    "TokenInvalidError",
    "TokenStoreError",
    "TransportError",
    "UploadRejectedError",
    "WeChatAPIError",
    "WrongEventLoopError",
    "WxPrivacyError",
    "error_for",
    "retry_class_of",
]


class WxPrivacyError(Exception):
    """Base class of every error raised by wxprivacy.

    Attributes:
        retryable: ``True`` when the same call may succeed if tried again later
            (a transient network or server condition); ``False`` when something must change first.
            For a :class:`WeChatAPIError` it comes from the errcode table.
    """

    retryable: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild without calling __init__, then restore every attribute as it was: __init__
        # signatures differ (keyword-only fields) and some compute values (retry_at from the
        # clock), so calling it again could fail or change the error.
        return (_rebuild_error, (type(self), self.args), self.__dict__)


def _rebuild_error(cls: type[WxPrivacyError], args: tuple[Any, ...]) -> WxPrivacyError:
    """Unpickle an error: a bare instance with its original ``args`` (its state comes next)."""
    return cls.__new__(cls, *args)


class InvalidArgumentError(WxPrivacyError, ValueError):
    """An argument was rejected locally, before any request was sent.

    The message names the argument or field path (e.g. ``owner_setting.notice_method``).
    """


class ClientStateError(WxPrivacyError):
    """The client cannot be used for this call (closed, or bound to another event loop)."""


class ClientClosedError(ClientStateError):
    """The :class:`ComponentClient` was closed with ``aclose()``; create a new one.

    Raised for any call that needs HTTP after ``aclose()``, whether the client created its own
    HTTP client or was given one, and for a call still running when ``aclose()`` closed it.
    """


class WrongEventLoopError(ClientStateError):
    """The client was used from another event loop than the one it was first used on.

    A client (its connections, its refreshes in flight) belongs to one event loop: create one per
    loop (e.g. per worker process, or per ``asyncio.run``).
    """


class MissingCredentialError(WxPrivacyError):
    """A credential the call needs is not in the token store; no request was sent."""


class MissingVerifyTicketError(MissingCredentialError):
    """No ``component_verify_ticket`` is stored, so ``api_component_token`` cannot be called.

    Feed the ticket from the authorization-event callback with
    :meth:`ComponentClient.set_component_verify_ticket` (WeChat pushes one every 10 minutes).
    """


class MissingRefreshTokenError(MissingCredentialError):
    """No ``authorizer_refresh_token`` is stored for the authorizer.

    Attributes:
        authorizer_appid: the Mini Program whose refresh token is missing.
    """

    def __init__(self, authorizer_appid: str) -> None:
        self.authorizer_appid = authorizer_appid
        super().__init__(
            f"no authorizer_refresh_token stored for {authorizer_appid}; store one with "
            "set_authorizer_refresh_token() or load them from api_get_authorizer_list"
        )


class TransportError(WxPrivacyError):
    """The HTTP request failed (timeout, connection reset, HTTP 5xx/429) after all retries.

    Attributes:
        endpoint: the WeChat path that was called, e.g. ``/cgi-bin/component/getprivacysetting``.
        status_code: the last HTTP status, or ``None`` when no response arrived.
        maybe_sent: ``False`` only when the request provably never reached WeChat (connection
            refused or connect timeout), so re-sending cannot create a duplicate.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        status_code: int | None = None,
        maybe_sent: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.status_code = status_code
        self.maybe_sent = maybe_sent
        super().__init__(message)


class ResponseFormatError(WxPrivacyError):
    """The response is not a well-formed WeChat response.

    Raised for HTML or empty bodies, invalid JSON, a JSON value that is not an object, and fields
    of the wrong type. The message names the field path (``setting_list[2].privacy_key``) or the
    problem, the HTTP status and a short redacted snippet of the body; for the endpoints whose
    answers carry credentials (the token endpoints, ``api_query_auth``, the authorizer list and
    info, the pre-auth code) only the body's length and the error position.

    Attributes:
        endpoint: the WeChat path that was called (``""`` when parsing outside a call).
        status_code: the HTTP status, when known.
        field_path: the path of the offending field, when one is to blame.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status_code: int | None = None,
        field_path: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.status_code = status_code
        self.field_path = field_path
        super().__init__(message)


class TokenStoreError(WxPrivacyError):
    """The token store failed (unreachable, timed out, or returned garbage).

    Attributes:
        store: the store's class name, e.g. ``"RedisTokenStore"``.
    """

    retryable = True

    def __init__(self, message: str, *, store: str) -> None:
        self.store = store
        super().__init__(f"{store}: {message}")


class LockTimeoutError(TokenStoreError):
    """A refresh lock could not be acquired within its bound (seconds)."""


class WeChatAPIError(WxPrivacyError):
    """WeChat answered with a non-zero ``errcode``.

    Attributes:
        errcode: the WeChat error code, e.g. ``42001``.
        errmsg: the human text, without the trailing ``rid: ...`` / ``hint: [...]``.
        rid: the request id WeChat appended (look it up with ``/cgi-bin/openapi/rid/get``), or
            ``None`` when there was none.
        endpoint: the WeChat path that answered, e.g. ``/cgi-bin/component/getprivacysetting``.
        retryable: from the errcode table (:mod:`wxprivacy._errcodes`): the retry class of the
            errcode's row, or for an errcode outside the table the one its class's rows share.
    """

    def __init__(
        self, errcode: int, errmsg: str, *, rid: str | None = None, endpoint: str = ""
    ) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.rid = rid
        self.endpoint = endpoint
        retry = retry_class_of(self)
        if retry is not None:
            self.retryable = RETRY_CLASSES[retry].retryable
        super().__init__(self._format())

    def _format(self) -> str:
        text = f"[{self.errcode}] {self.errmsg}"
        if self.rid:
            text += f" (rid: {self.rid})"
        if self.endpoint:
            text += f" from {self.endpoint}"
        return text


class SystemBusyError(WeChatAPIError):
    """errcode -1: WeChat is busy. Retried with backoff per the client's RetryPolicy."""


class TokenInvalidError(WeChatAPIError):
    """errcode 40001/40014/42001: the access token was rejected (superseded, malformed, expired).

    The client invalidates that token, refreshes it once and retries once before raising this.
    """


class ComponentCredentialError(WeChatAPIError):
    """The component credentials were rejected at ``api_component_token``.

    40001 there means a wrong ``component_appsecret``; also 40013/61011 (bad appid), 40125/41004
    (appsecret), 61004 (caller IP not whitelisted), 61005/61006 (verify ticket expired/invalid).
    """


class QuotaExceededError(WeChatAPIError):
    """errcode 45009: the daily quota of this API is used up. Never retried in-band."""


class MinuteQuotaExceededError(QuotaExceededError):
    """errcode 45011: the per-minute quota is used up.

    Attributes:
        retry_after: seconds until the next minute begins, when trying again makes sense.
        retry_at: when to try again, in Unix seconds (a float, like every ``*_at`` instant
            of the SDK: compare it with ``time.time()``).
    """

    retry_after: float
    retry_at: float

    def __init__(
        self,
        errcode: int,
        errmsg: str,
        *,
        rid: str | None = None,
        endpoint: str = "",
        now: float | None = None,
    ) -> None:
        current = time.time() if now is None else now
        next_minute = (int(current) // 60 + 1) * 60
        self.retry_after = max(0.0, next_minute - current)
        self.retry_at = float(next_minute)
        super().__init__(errcode, errmsg, rid=rid, endpoint=endpoint)

    def _format(self) -> str:
        return super()._format() + f"; retry after {self.retry_after:.1f} s"


class ReauthorizationRequiredError(WeChatAPIError):
    """The authorizer must act: 61003 (not authorized), 61023 (refresh token invalid), 42002/42007.

    For 61023, reload refresh tokens from ``api_get_authorizer_list`` before asking the owner to
    re-authorize.
    """


class PermissionDeniedError(WeChatAPIError):
    """The API is not granted: 48001 (api unauthorized), 61007 (set not granted), 61014."""


class PrivacyConfigError(WeChatAPIError):
    """The privacy guideline was rejected (86069–86075, 87072): ``setprivacysetting`` and kin."""


class UploadRejectedError(WeChatAPIError):
    """``uploadprivacyextfile`` rejected the file: 40006 (type/size), 40126 (over 100 KB)."""


class PrivacyInterfaceError(WeChatAPIError):
    """``apply_privacy_interface``/``get_code_privacy_info`` rejected the request (61031–61040)."""


@attrs.frozen
class ErrcodeInfo:
    """What the SDK knows about one errcode: a row of :data:`wxprivacy._errcodes.ROWS`.

    Attributes:
        errcode: the WeChat error code.
        exception: the exception class raised for it.
        retry: its retry class (``"transient"``, ``"token"``, ``"minute"``, ``"later"``,
            ``"quota"``, ``"permanent"`` or ``"reauthorize"``); :attr:`rule` says what it means.
        meaning: what it means, in a few words.
        action: what the caller should do.
    """

    errcode: int
    exception: type[WeChatAPIError]
    retry: RetryClass
    meaning: str
    action: str

    @property
    def rule(self) -> RetryRule:
        """Whether the client re-sends, whether the error is ``retryable``, what the docs say."""
        return RETRY_CLASSES[self.retry]


def _exception_named(name: str) -> type[WeChatAPIError]:
    cls = globals().get(name)
    if not (isinstance(cls, type) and issubclass(cls, WeChatAPIError)):
        raise TypeError(f"the errcode table names {name!r}, which is not a WeChatAPIError class")
    return cls


ERRCODES: Final[Mapping[int, ErrcodeInfo]] = {
    code: ErrcodeInfo(code, _exception_named(name), retry, meaning, action)
    for code, name, retry, meaning, action in ROWS
}
"""Every errcode the SDK knows, from :data:`wxprivacy._errcodes.ROWS`, with classes resolved."""


def _shared_retry_classes() -> dict[type[WeChatAPIError], RetryClass | None]:
    """Each exception class the table names: the retry class all its rows share, else ``None``."""
    seen: dict[type[WeChatAPIError], set[RetryClass]] = {}
    for info in ERRCODES.values():
        seen.setdefault(info.exception, set()).add(info.retry)
    return {cls: retries.pop() if len(retries) == 1 else None for cls, retries in seen.items()}


_CLASS_RETRY: Final = _shared_retry_classes()
# A class's own retryable flag (for a code outside its rows, e.g. SystemBusyError(-2, ...) built
# by hand) comes from the table too.
for _cls, _retry in _CLASS_RETRY.items():
    if _retry is not None:
        _cls.retryable = RETRY_CLASSES[_retry].retryable
del _cls, _retry


def retry_class_of(err: WeChatAPIError) -> RetryClass | None:
    """The retry class of ``err``, from the errcode table.

    The most derived class of ``err`` that the table names decides: its row for ``err.errcode``
    when the row names that class, else the retry class all its rows share. So 40001 raised as
    ComponentCredentialError (a wrong appsecret at ``api_component_token``) is permanent, not a
    token error. ``None`` when no class is shared (PrivacyInterfaceError with a code outside the
    table) or the table names no class of ``err`` (WeChatAPIError itself).
    """
    info = ERRCODES.get(err.errcode)
    for cls in type(err).__mro__:
        if issubclass(cls, WeChatAPIError) and cls in _CLASS_RETRY:
            if info is not None and info.exception is cls:
                return info.retry
            return _CLASS_RETRY[cls]
    return None


def error_for(
    errcode: int, errmsg: str, *, rid: str | None, endpoint: str, now: float | None = None
) -> WeChatAPIError:
    """Build the exception for ``errcode`` from :data:`ERRCODES` (unknown codes: WeChatAPIError).

    Args:
        errcode: the WeChat error code (non-zero).
        errmsg: the human text without the rid suffix.
        rid: the request id, if any.
        endpoint: the WeChat path that answered.
        now: Unix seconds used for :class:`MinuteQuotaExceededError` (defaults to the wall clock).
    """
    info = ERRCODES.get(errcode)
    if info is None:
        return WeChatAPIError(errcode, errmsg, rid=rid, endpoint=endpoint)
    if issubclass(info.exception, MinuteQuotaExceededError):
        return info.exception(errcode, errmsg, rid=rid, endpoint=endpoint, now=now)
    return info.exception(errcode, errmsg, rid=rid, endpoint=endpoint)
