"""The exception tree, and the table that maps WeChat errcodes onto it.

Every error raised by wxprivacy is a :class:`WxPrivacyError`::

    WxPrivacyError                      base; .retryable tells whether trying later may succeed
    ├── InvalidArgumentError            bad input caught locally, before any request
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

Exception messages never contain a token, a ticket or the appsecret.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Final, Literal

import attrs

__all__ = [
    "ERRCODES",
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
    "WxPrivacyError",
    "error_for",
]


class WxPrivacyError(Exception):
    """Base class of every error raised by wxprivacy.

    Attributes:
        retryable: ``True`` when the same call may succeed if tried again later
            (a transient network or server condition); ``False`` when something must change first.
    """

    retryable: bool = False


class InvalidArgumentError(WxPrivacyError, ValueError):
    """An argument was rejected locally, before any request was sent.

    The message names the argument or field path (e.g. ``owner_setting.notice_method``).
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
    """

    def __init__(
        self, errcode: int, errmsg: str, *, rid: str | None = None, endpoint: str = ""
    ) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.rid = rid
        self.endpoint = endpoint
        super().__init__(self._format())

    def _format(self) -> str:
        text = f"[{self.errcode}] {self.errmsg}"
        if self.rid:
            text += f" (rid: {self.rid})"
        if self.endpoint:
            text += f" from {self.endpoint}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_api_error,
            (type(self), self.errcode, self.errmsg, self.rid, self.endpoint),
        )


def _rebuild_api_error(
    cls: type[WeChatAPIError], errcode: int, errmsg: str, rid: str | None, endpoint: str
) -> WeChatAPIError:
    return cls(errcode, errmsg, rid=rid, endpoint=endpoint)


class SystemBusyError(WeChatAPIError):
    """errcode -1: WeChat is busy. Retried with backoff per the client's RetryPolicy."""

    retryable = True


class TokenInvalidError(WeChatAPIError):
    """errcode 40001/40014/42001: the access token was rejected (superseded, malformed, expired).

    The client invalidates that token, refreshes it once and retries once before raising this.
    """

    retryable = True


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
        retry_at: the aware UTC datetime at which to try again.
    """

    retryable = True

    def __init__(
        self,
        errcode: int,
        errmsg: str,
        *,
        rid: str | None = None,
        endpoint: str = "",
        now: float | None = None,
    ) -> None:
        current = _dt.datetime.now(_dt.UTC).timestamp() if now is None else now
        next_minute = (int(current) // 60 + 1) * 60
        self.retry_after = max(0.0, next_minute - current)
        self.retry_at = _dt.datetime.fromtimestamp(next_minute, _dt.UTC)
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


RetryClass = Literal["transient", "token", "quota", "later", "permanent", "reauthorize"]


@attrs.frozen
class ErrcodeInfo:
    """What the SDK knows about one errcode.

    Attributes:
        errcode: the WeChat error code.
        exception: the exception class raised for it.
        retry: ``"transient"`` (retried with backoff), ``"token"`` (refresh the token once,
            retry once), ``"quota"`` (not retried in-band), ``"later"`` (not retried in-band;
            the error is ``retryable``: call again after the wait in ``action``),
            ``"permanent"`` or ``"reauthorize"``.
        meaning: what it means, in a few words.
        action: what the caller should do.
    """

    errcode: int
    exception: type[WeChatAPIError]
    retry: RetryClass
    meaning: str
    action: str


def _table(*rows: ErrcodeInfo) -> Mapping[int, ErrcodeInfo]:
    return {row.errcode: row for row in rows}


E = ErrcodeInfo
ERRCODES: Final[Mapping[int, ErrcodeInfo]] = _table(
    E(-1, SystemBusyError, "transient", "system error: WeChat busy", "retried with backoff"),
    E(
        40001,
        TokenInvalidError,
        "token",
        "access token invalid or not latest",
        "refreshed once and retried once; at api_component_token it means a wrong appsecret",
    ),
    E(40014, TokenInvalidError, "token", "invalid access token", "refreshed once and retried once"),
    E(42001, TokenInvalidError, "token", "access token expired", "refreshed once and retried once"),
    E(40013, ComponentCredentialError, "permanent", "invalid appid", "check the appid"),
    E(
        40125,
        ComponentCredentialError,
        "permanent",
        "invalid appsecret",
        "check component_appsecret",
    ),
    E(
        41004,
        ComponentCredentialError,
        "permanent",
        "appsecret missing",
        "check component_appsecret",
    ),
    E(
        61004,
        ComponentCredentialError,
        "permanent",
        "caller IP not whitelisted",
        "add the server IP to the platform's IP whitelist",
    ),
    E(
        61005,
        ComponentCredentialError,
        "permanent",
        "component_verify_ticket expired",
        "wait for the next ticket push or call api_start_push_ticket",
    ),
    E(
        61006,
        ComponentCredentialError,
        "permanent",
        "component_verify_ticket invalid",
        "wait for the next ticket push or call api_start_push_ticket",
    ),
    E(61011, ComponentCredentialError, "permanent", "invalid component", "check component_appid"),
    E(
        45009,
        QuotaExceededError,
        "quota",
        "daily API quota reached",
        "stop calling this API until tomorrow; cache tokens",
    ),
    E(
        45011,
        MinuteQuotaExceededError,
        "quota",
        "minute API quota reached",
        "wait until the next minute (retry_after), then slow down",
    ),
    E(
        48001,
        PermissionDeniedError,
        "permanent",
        "api unauthorized",
        "use the authorizer_access_token and make sure the API is granted",
    ),
    E(
        61007,
        PermissionDeniedError,
        "permanent",
        "api is unauthorized to component",
        "ask the owner to re-authorize with permission set 18",
    ),
    E(
        61014,
        PermissionDeniedError,
        "permanent",
        "must use the component token",
        "SDK bug: report it",
    ),
    E(
        61003,
        ReauthorizationRequiredError,
        "reauthorize",
        "component is not authorized by this account",
        "the owner must authorize the platform again",
    ),
    E(
        61023,
        ReauthorizationRequiredError,
        "reauthorize",
        "refresh_token is invalid",
        "reload refresh tokens from api_get_authorizer_list, else ask for re-authorization",
    ),
    E(
        42002,
        ReauthorizationRequiredError,
        "reauthorize",
        "refresh_token expired",
        "the owner must authorize the platform again",
    ),
    E(
        42007,
        ReauthorizationRequiredError,
        "reauthorize",
        "user changed password, tokens revoked",
        "the owner must authorize the platform again",
    ),
    E(
        86069,
        PrivacyConfigError,
        "permanent",
        "owner_setting lacks a contact method",
        "fill at least one of contact_phone/email/qq/weixin",
    ),
    E(86070, PrivacyConfigError, "permanent", "notice_method missing", "fill notice_method"),
    E(86071, PrivacyConfigError, "permanent", "privacy_ver invalid", "use privacy_ver 1 or 2"),
    E(
        86072,
        PrivacyConfigError,
        "permanent",
        "store_expire_timestamp invalid",
        'use "" or "<digits>天", sent as raw UTF-8',
    ),
    E(
        86073,
        PrivacyConfigError,
        "permanent",
        "ext_file_media_id invalid",
        "upload the file again with uploadprivacyextfile",
    ),
    E(
        86074,
        PrivacyConfigError,
        "permanent",
        "no live guideline exists (privacy_ver=1)",
        "set privacy_ver=2 and release a version first",
    ),
    E(
        86075,
        PrivacyConfigError,
        "permanent",
        "live ext_file_media_id cannot be changed",
        "change it on privacy_ver=2",
    ),
    E(
        87072,
        PrivacyConfigError,
        "permanent",
        "store_expire_timestamp invalid (doc spelling)",
        'use "" or "<digits>天"',
    ),
    E(40006, UploadRejectedError, "permanent", "invalid file type or size", "upload a .txt file"),
    E(40126, UploadRejectedError, "permanent", "file over 100 KB", "upload a smaller .txt file"),
    E(
        61031,
        PrivacyInterfaceError,
        "permanent",
        "previous application still under review",
        "wait for the review to finish",
    ),
    E(61032, PrivacyInterfaceError, "permanent", "video is not mp4", "send an mp4 video"),
    E(61033, PrivacyInterfaceError, "permanent", "video download failed", "check video_list URLs"),
    E(
        61034,
        PrivacyInterfaceError,
        "permanent",
        "required parameters missing",
        "send api_name and content",
    ),
    E(
        61035,
        PrivacyInterfaceError,
        "permanent",
        "this API needs no application (or wrong case)",
        "check api_name spelling",
    ),
    E(
        61036,
        PrivacyInterfaceError,
        "permanent",
        "account not eligible (category)",
        "check the Mini Program's categories",
    ),
    E(61037, PrivacyInterfaceError, "permanent", "content must be UTF-8", "send UTF-8 text"),
    E(
        61038,
        PrivacyInterfaceError,
        "permanent",
        "privacy-interface request rejected (code not documented)",
        "check the application against WeChat's privacy-interface rules",
    ),
    E(
        61039,
        PrivacyInterfaceError,
        "later",
        "privacy check task unfinished",
        "wait about a minute and try again",
    ),
    E(
        61040,
        PrivacyInterfaceError,
        "permanent",
        "ext.json privacy API misconfigured",
        "fix ext.json",
    ),
)
del E


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
    if info.exception is MinuteQuotaExceededError:
        return MinuteQuotaExceededError(errcode, errmsg, rid=rid, endpoint=endpoint, now=now)
    if errcode == 61039:
        err = info.exception(errcode, errmsg, rid=rid, endpoint=endpoint)
        err.retryable = True
        return err
    return info.exception(errcode, errmsg, rid=rid, endpoint=endpoint)
