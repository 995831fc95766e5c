"""Privacy-interface endpoints: which gated front-end APIs (location...) a Mini Program may use."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from . import _serde
from ._base import BaseClient
from ._coerce import ResponseBody
from ._privacy_validate import apply_interface_body
from .models import CodePrivacyInfo, PrivacyInterfaceList
from .paths import APPLY_PRIVACY_INTERFACE, GET_CODE_PRIVACY_INFO, GET_PRIVACY_INTERFACE

__all__ = ["APPLY_PRIVACY_INTERFACE", "GET_PRIVACY_INTERFACE", "PrivacyInterfaceAPI"]


@attrs.frozen(kw_only=True)
class _ApplyAnswer(ResponseBody):
    """The answer of ``apply_privacy_interface``: the id of the new review."""

    audit_id: int


class PrivacyInterfaceAPI(BaseClient):
    """Endpoints of the gated privacy interfaces (``wx.getLocation``, ``wx.chooseAddress``, ...)."""

    async def get_privacy_interface(self, authorizer_appid: str) -> PrivacyInterfaceList:
        """List the gated APIs and the state of their applications.

        Wraps ``GET /wxa/security/get_privacy_interface?access_token=<authorizer_access_token>``
        (no body).

        Returns:
            The list; ``status`` and ``audit_id`` are ints and ``apply_time`` an aware UTC
            datetime, even when WeChat sent numeric strings.

        Raises:
            InvalidArgumentError: an empty appid.
            ResponseFormatError: a field has the wrong type (``field_path`` names it).
            PermissionDeniedError, MissingRefreshTokenError, TransportError, WeChatAPIError:
                as for any call.
        """
        endpoint = GET_PRIVACY_INTERFACE
        data = await self._authorizer_call(authorizer_appid, "GET", endpoint)
        return _serde.structure_response(data, PrivacyInterfaceList, endpoint=endpoint)

    async def get_code_privacy_info(self, authorizer_appid: str) -> CodePrivacyInfo:
        """Which privacy APIs the uploaded code uses without permission or without declaring
        them (check before submitting code for review).

        Wraps ``GET /wxa/security/get_code_privacy_info?access_token=<authorizer token>``
        (no body).

        Raises:
            PrivacyInterfaceError: 61039, the check has not finished (``retryable``: call again
                in about a minute); 61040, ``ext.json`` is misconfigured.
            InvalidArgumentError: an empty appid. ResponseFormatError: a field has the wrong
                type. PermissionDeniedError, TransportError, WeChatAPIError: as for any call.
        """
        endpoint = GET_CODE_PRIVACY_INFO
        data = await self._authorizer_call(authorizer_appid, "GET", endpoint)
        return _serde.structure_response(data, CodePrivacyInfo, endpoint=endpoint)

    async def apply_privacy_interface(
        self,
        authorizer_appid: str,
        *,
        api_name: str,
        content: str,
        url_list: Sequence[str] = (),
        pic_list: Sequence[str] = (),
        video_list: Sequence[str] = (),
    ) -> int:
        """Apply for a gated API; return the ``audit_id`` of the new review.

        Wraps ``POST /wxa/security/apply_privacy_interface?access_token=<authorizer token>``.
        The call creates a review, so it is **never** re-sent after a timeout or a dropped
        connection (the first request may have been accepted): it is retried only when the
        answer proves it was not (connection refused, errcode -1). WeChat allows 280 calls per
        minute.

        Args:
            authorizer_appid: the Mini Program.
            api_name: the API, case-sensitive, e.g. ``"wx.choosePoi"``.
            content: why the Mini Program needs it, at most 300 characters (sent as UTF-8).
            url_list: supporting web page URLs.
            pic_list: supporting picture URLs, at most 10.
            video_list: a supporting mp4 video URL, at most 1. (Location APIs need at least one
                of the three lists.)

        Returns:
            The ``audit_id``.

        Raises:
            InvalidArgumentError: a local check failed (nothing is sent); the message names the
                field.
            PrivacyInterfaceError: WeChat rejected the application (61031 already under review,
                61032 video not mp4, 61033 video download failed, 61034 missing parameters,
                61035 API needs no application, 61036 account not eligible, 61037 not UTF-8).
            TransportError: the request failed; it may or may not have been accepted (check
                :meth:`get_privacy_interface` before applying again).
            ResponseFormatError: the answer has no integer ``audit_id``.
            PermissionDeniedError, MissingRefreshTokenError, WeChatAPIError: as for any call.
        """
        body = apply_interface_body(
            api_name=api_name,
            content=content,
            url_list=url_list,
            pic_list=pic_list,
            video_list=video_list,
        )
        endpoint = APPLY_PRIVACY_INTERFACE
        data = await self._authorizer_call(
            authorizer_appid, "POST", endpoint, body, idempotent=False
        )
        return _serde.structure_response(data, _ApplyAnswer, endpoint=endpoint).audit_id
