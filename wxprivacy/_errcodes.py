"""The errcode table: every WeChat errcode the SDK knows, and what each retry class means.

This module is data only and imports nothing from wxprivacy. It is the one source of retry
semantics: :func:`wxprivacy._errors.error_for` picks the exception class and its ``retryable``
flag from it, :func:`wxprivacy._retry.is_retryable` decides from it whether the client re-sends
a request, and the errors page of the documentation is generated from it.

A row is ``(errcode, exception class name, retry class, meaning, action)``. The retry classes:

- ``transient``: the client re-sends the request with backoff (:class:`RetryPolicy`), even for
  calls that create something, since WeChat did not act; the error is ``retryable``.
- ``token``: the client refreshes the access token and re-sends once; the error is ``retryable``.
- ``minute``: not re-sent by a single call; calls to the endpoint wait for the next minute, and
  ``get_privacy_settings``/``iter_privacy_settings`` run the authorizer again; ``retryable``.
- ``later``: not re-sent; the error is ``retryable``: call again after the wait in ``action``.
- ``quota``: not re-sent, not ``retryable`` (the daily quota is used up).
- ``permanent``: not re-sent, not ``retryable``: something must change first.
- ``reauthorize``: not re-sent, not ``retryable``: the authorizer's owner must act.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import attrs

__all__ = ["RETRY_CLASSES", "ROWS", "RetryClass", "RetryRule", "Row"]

RetryClass = Literal["transient", "token", "minute", "later", "quota", "permanent", "reauthorize"]


@attrs.frozen(kw_only=True)
class RetryRule:
    """What one retry class means.

    Attributes:
        resend: the client re-sends the failed request itself, with backoff.
        retryable: the error's ``retryable`` flag: the same call may succeed later, unchanged.
        client: what the client does before the error reaches the caller, as the docs say it.
    """

    resend: bool
    retryable: bool
    client: str


RETRY_CLASSES: Final[Mapping[RetryClass, RetryRule]] = {
    "transient": RetryRule(resend=True, retryable=True, client="yes, with backoff"),
    "token": RetryRule(resend=False, retryable=True, client="once, after a token refresh"),
    "minute": RetryRule(
        resend=False,
        retryable=True,
        client=(
            "no; calls to the endpoint wait for the next minute, and ``get_privacy_settings`` "
            "and ``iter_privacy_settings`` run the authorizer again"
        ),
    ),
    "later": RetryRule(resend=False, retryable=True, client="no"),
    "quota": RetryRule(resend=False, retryable=False, client="no"),
    "permanent": RetryRule(resend=False, retryable=False, client="no"),
    "reauthorize": RetryRule(resend=False, retryable=False, client="no: the owner must act"),
}

Row = tuple[int, str, RetryClass, str, str]
"""``(errcode, exception class name, retry class, meaning, action)``."""

# fmt: off
ROWS: Final[tuple[Row, ...]] = (
    (-1,    "SystemBusyError",              "transient",   "system error: WeChat busy", "retried with backoff"),
    (40001, "TokenInvalidError",            "token",       "access token invalid or not latest", "refreshed once and retried once; at api_component_token it means a wrong appsecret"),
    (40014, "TokenInvalidError",            "token",       "invalid access token", "refreshed once and retried once"),
    (42001, "TokenInvalidError",            "token",       "access token expired", "refreshed once and retried once"),
    (40013, "ComponentCredentialError",     "permanent",   "invalid appid", "check the appid"),
    (40125, "ComponentCredentialError",     "permanent",   "invalid appsecret", "check component_appsecret"),
    (41004, "ComponentCredentialError",     "permanent",   "appsecret missing", "check component_appsecret"),
    (61004, "ComponentCredentialError",     "permanent",   "caller IP not whitelisted", "add the server IP to the platform's IP whitelist"),
    (61005, "ComponentCredentialError",     "permanent",   "component_verify_ticket expired", "wait for the next ticket push or call api_start_push_ticket"),
    (61006, "ComponentCredentialError",     "permanent",   "component_verify_ticket invalid", "wait for the next ticket push or call api_start_push_ticket"),
    (61011, "ComponentCredentialError",     "permanent",   "invalid component", "check component_appid"),
    (45009, "QuotaExceededError",           "quota",       "daily API quota reached", "stop calling this API until tomorrow; cache tokens"),
    (45011, "MinuteQuotaExceededError",     "minute",      "minute API quota reached", "wait until the next minute (retry_after), then slow down"),
    (48001, "PermissionDeniedError",        "permanent",   "api unauthorized", "use the authorizer_access_token and make sure the API is granted"),
    (61007, "PermissionDeniedError",        "permanent",   "api is unauthorized to component", "ask the owner to re-authorize with permission set 18"),
    (61014, "PermissionDeniedError",        "permanent",   "must use the component token", "SDK bug: report it"),
    (61003, "ReauthorizationRequiredError", "reauthorize", "component is not authorized by this account", "the owner must authorize the platform again"),
    (61023, "ReauthorizationRequiredError", "reauthorize", "refresh_token is invalid", "reload refresh tokens from api_get_authorizer_list, else ask for re-authorization"),
    (42002, "ReauthorizationRequiredError", "reauthorize", "refresh_token expired", "the owner must authorize the platform again"),
    (42007, "ReauthorizationRequiredError", "reauthorize", "user changed password, tokens revoked", "the owner must authorize the platform again"),
    (86069, "PrivacyConfigError",           "permanent",   "owner_setting lacks a contact method", "fill at least one of contact_phone/email/qq/weixin"),
    (86070, "PrivacyConfigError",           "permanent",   "notice_method missing", "fill notice_method"),
    (86071, "PrivacyConfigError",           "permanent",   "privacy_ver invalid", "use privacy_ver 1 or 2"),
    (86072, "PrivacyConfigError",           "permanent",   "store_expire_timestamp invalid", 'use "" or "<digits>天", sent as raw UTF-8'),
    (86073, "PrivacyConfigError",           "permanent",   "ext_file_media_id invalid", "upload the file again with uploadprivacyextfile"),
    (86074, "PrivacyConfigError",           "permanent",   "no live guideline exists (privacy_ver=1)", "set privacy_ver=2 and release a version first"),
    (86075, "PrivacyConfigError",           "permanent",   "live ext_file_media_id cannot be changed", "change it on privacy_ver=2"),
    (87072, "PrivacyConfigError",           "permanent",   "store_expire_timestamp invalid (doc spelling)", 'use "" or "<digits>天"'),
    (40006, "UploadRejectedError",          "permanent",   "invalid file type or size", "upload a .txt file"),
    (40126, "UploadRejectedError",          "permanent",   "file over 100 KB", "upload a smaller .txt file"),
    (61031, "PrivacyInterfaceError",        "permanent",   "previous application still under review", "wait for the review to finish"),
    (61032, "PrivacyInterfaceError",        "permanent",   "video is not mp4", "send an mp4 video"),
    (61033, "PrivacyInterfaceError",        "permanent",   "video download failed", "check video_list URLs"),
    (61034, "PrivacyInterfaceError",        "permanent",   "required parameters missing", "send api_name and content"),
    (61035, "PrivacyInterfaceError",        "permanent",   "this API needs no application (or wrong case)", "check api_name spelling"),
    (61036, "PrivacyInterfaceError",        "permanent",   "account not eligible (category)", "check the Mini Program's categories"),
    (61037, "PrivacyInterfaceError",        "permanent",   "content must be UTF-8", "send UTF-8 text"),
    (61038, "PrivacyInterfaceError",        "permanent",   "privacy-interface request rejected (code not documented)", "check the application against WeChat's privacy-interface rules"),
    (61039, "PrivacyInterfaceError",        "later",       "privacy check task unfinished", "wait about a minute and try again"),
    (61040, "PrivacyInterfaceError",        "permanent",   "ext.json privacy API misconfigured", "fix ext.json"),
)
# fmt: on
