"""Any WeChat endpoint through one call: the token chain, retries and errors of the wrapped ones.

:meth:`GenericAPI.call` is what the wrapped endpoints use underneath (``BaseClient._call``):
admission, the right token injected (refreshed once on 40001/40014/42001), retries by the same
rules, the errcode table's typed errors, redaction, and optionally the same converter that
structures the SDK's own models (odd-case keys folded), for an attrs class of the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeVar, overload

import attrs

from . import _serde
from ._base import BaseClient, check_appid
from ._checks import shown
from ._errors import InvalidArgumentError, ResponseFormatError
from ._redact import redact

__all__ = ["GenericAPI", "Method"]

T = TypeVar("T")
Method = Literal["GET", "POST"]
"""The HTTP methods WeChat's API uses."""

_PATH: Final = re.compile(r"/[A-Za-z0-9_\-./]*")
_PARAM: Final = re.compile(r"[a-z_]{1,64}")


def _check_call(
    endpoint: str, method: str, body: Any, files: Mapping[str, Any] | None, token_param: str | None
) -> None:
    if (
        not isinstance(endpoint, str)
        or _PATH.fullmatch(endpoint) is None
        or "//" in endpoint
        or any(part in (".", "..") for part in endpoint.split("/"))
    ):
        raise InvalidArgumentError(
            "endpoint must be a WeChat path such as '/wxa/security/get_code_privacy_info' (no "
            f"scheme, host, query string or fragment: the token goes to base_url only), got "
            f"{endpoint!r}"
        )  # dot segments too: HTTP libraries collapse them, and the token would leave base_url
    if method not in ("GET", "POST"):
        raise InvalidArgumentError(f"method must be 'GET' or 'POST', got {shown(method)}")
    if method == "GET" and (body is not None or files is not None):
        raise InvalidArgumentError(f"a GET call has no body or files ({endpoint})")
    if body is not None and files is not None:
        raise InvalidArgumentError(
            f"pass either body (JSON) or files (multipart), not both ({endpoint})"
        )
    if token_param is not None and (
        not isinstance(token_param, str) or _PARAM.fullmatch(token_param) is None
    ):
        raise InvalidArgumentError(
            "token_param must be a query parameter name such as 'access_token', "
            f"got {token_param!r}"
        )


def _check_model(model: Any) -> None:
    """Refuse, before anything is sent, a model that is not an attrs class or whose fields the
    converter cannot structure (an annotation it cannot resolve, a type it has no rule for)."""
    if not isinstance(model, type) or not attrs.has(model):
        raise InvalidArgumentError(f"model must be an attrs class, got {model!r}")
    try:
        _serde.converter.get_structure_hook(model)
    except Exception as exc:  # noqa: BLE001 - NameError, cattrs' errors...: all one answer
        raise InvalidArgumentError(
            f"model {model.__name__} cannot be structured: {type(exc).__name__}: {exc} (define "
            "it at module level, with types attrs can resolve)"
        ) from None


class GenericAPI(BaseClient):
    """Any component-level or authorizer-level endpoint, with the wrapped endpoints' handling."""

    @overload
    async def call(
        self,
        endpoint: str,
        body: Any = ...,
        *,
        authorizer_appid: str | None = ...,
        method: Method = ...,
        files: Mapping[str, Any] | None = ...,
        idempotent: bool | None = ...,
        token_param: str | None = ...,
        model: None = ...,
    ) -> dict[str, Any]: ...

    @overload
    async def call(
        self,
        endpoint: str,
        body: Any = ...,
        *,
        authorizer_appid: str | None = ...,
        method: Method = ...,
        files: Mapping[str, Any] | None = ...,
        idempotent: bool | None = ...,
        token_param: str | None = ...,
        model: type[T],
    ) -> T: ...

    async def call(
        self,
        endpoint: str,
        body: Any = None,
        *,
        authorizer_appid: str | None = None,
        method: Method = "POST",
        files: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        token_param: str | None = None,
        model: type[T] | None = None,
    ) -> dict[str, Any] | T:
        """Call any WeChat endpoint with the platform's token handling.

        With ``authorizer_appid`` the authorizer's ``authorizer_access_token`` is sent (as
        ``?access_token=``), else the ``component_access_token`` (as
        ``?component_access_token=``; ``token_param`` changes the name, e.g. ``"access_token"``
        for ``/cgi-bin/openapi/quota/get`` called with the component token). A rejected token
        (40001, 40014, 42001) is refreshed once and the call made again; transient failures are
        retried by the client's :class:`RetryPolicy`, but a call that is not idempotent is never
        sent again once it may have reached WeChat.

        Example: ``await client.call("/wxa/security/get_code_privacy_info", method="GET",
        authorizer_appid="wx...")`` (``GET /wxa/security/get_code_privacy_info``).

        Args:
            endpoint: the WeChat path, e.g. ``/wxa/security/get_code_privacy_info`` (no host,
                query or fragment: tokens only go to the client's ``base_url``).
            body: the JSON body of a POST (dicts, lists, strings, numbers, attrs models), sent
                as raw UTF-8; ``None`` for none.
            authorizer_appid: the Mini Program to act for; ``None`` for a component-level call.
            method: ``"POST"`` (default) or ``"GET"``.
            files: multipart files ``{name: (filename, bytes, content_type)}`` for uploads.
            idempotent: whether sending the call twice is harmless; default ``True`` for GET,
                ``False`` for POST.
            token_param: the query parameter carrying the token (see above).
            model: an attrs class to structure the answer into, through the SDK's converter
                (keys matched case-insensitively, unknown keys dropped, fields by cattrs' rules
                for their types); ``None`` returns the decoded JSON object. Define it once, at
                module level (the converter keeps a structuring function per class).

        Returns:
            The decoded JSON object (``errcode`` 0 or absent), or an instance of ``model``.

        Raises:
            InvalidArgumentError: a malformed endpoint, method, appid, body or ``model``
                (before anything is sent).
            WeChatAPIError: WeChat answered with a non-zero errcode (the errcode table's class,
                e.g. :class:`PrivacyInterfaceError` for 61039).
            TransportError, ResponseFormatError: as for every call; ResponseFormatError also
                when the answer does not fit ``model`` (naming the field).
            ClientClosedError, WrongEventLoopError: the client cannot be used here.
        """
        _check_call(endpoint, method, body, files, token_param)
        if authorizer_appid is not None:
            check_appid("authorizer_appid", authorizer_appid)
        if idempotent is not None and not isinstance(idempotent, bool):
            raise InvalidArgumentError(
                f"idempotent must be True, False or None, got {idempotent!r}"
            )
        if model is not None:
            _check_model(model)
        if idempotent is None:
            idempotent = method == "GET"
        data = await self._call(
            authorizer_appid, method, endpoint, body, files, idempotent, token_param
        )
        if model is None:
            return data
        try:
            return _serde.structure_response(data, model, endpoint=endpoint)
        except ResponseFormatError:
            raise
        except Exception as exc:  # noqa: BLE001 - a caller's class: its validators, its types
            raise ResponseFormatError(
                f"the answer of {endpoint} does not fit {model.__name__}: "
                f"{type(exc).__name__}: {redact(str(exc))[:200]}",
                endpoint=endpoint,
            ) from None
