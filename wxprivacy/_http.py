"""One HTTP exchange with WeChat, with retries: the only module that touches httpx's API.

Also installs a logging filter on the ``httpx`` logger: httpx logs every request URL at INFO,
and WeChat puts access tokens in the query string.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

import httpx

from ._errors import ResponseFormatError, TransportError
from ._redact import redact
from ._retry import RetryPolicy
from ._wire import decode_response

__all__ = ["DEFAULT_TIMEOUT", "JSON_HEADERS", "WireClient"]

DEFAULT_TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)
"""Seconds: 10 for each read/write/pool wait, 5 to connect."""
JSON_HEADERS: Final = {"Content-Type": "application/json; charset=utf-8"}


class _RedactingFilter(logging.Filter):
    """Scrub token-carrying query parameters from records of the loggers it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(str(a)) if _is_url_like(a) else a for a in args)
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact(record.msg)
        return True


def _is_url_like(value: object) -> bool:
    return isinstance(value, httpx.URL | str | bytes) and "token" in str(value).lower()


_FILTER: Final = _RedactingFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to httpx's and httpcore's loggers (idempotent)."""
    for name in ("httpx", "httpcore"):
        log = logging.getLogger(name)
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)


install_log_redaction()


class WireClient:
    """Sends requests to WeChat and returns decoded JSON objects, retrying per the RetryPolicy.

    Args:
        http_client: the ``httpx.AsyncClient`` to send with (not closed here).
        base_url: scheme and host, e.g. ``https://api.weixin.qq.com``.
        retry: the retry policy.
        clock: returns the current Unix time in seconds.
        sleep: awaitable sleep in seconds used between retries (tests pass a fake).
    """

    def __init__(
        self,
        http_client: httpx.AsyncClient,
        *,
        base_url: str,
        retry: RetryPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.http = http_client
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self._clock = clock
        self._sleep = sleep

    async def call(
        self,
        method: str,
        endpoint: str,
        *,
        token: tuple[str, str] | None = None,
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Send one request (retrying transient failures) and return the JSON object.

        Args:
            method: ``"POST"`` or ``"GET"``.
            endpoint: the WeChat path, e.g. ``/cgi-bin/component/getprivacysetting``.
            token: ``(query_name, value)`` such as ``("access_token", "...")``.
            content: a UTF-8 JSON body (sent with ``Content-Type: application/json``).
            files: multipart files, for uploads.
            idempotent: ``False`` when a re-send could create a duplicate.

        Raises:
            TransportError: network failure or HTTP 5xx/429 after all attempts.
            ResponseFormatError: the answer is not a well-formed WeChat response.
            WeChatAPIError: WeChat answered with a non-zero errcode.
        """
        url = self.base_url + endpoint
        if token is not None:
            url = f"{url}?{token[0]}={quote(token[1], safe='')}"
        if self.retry.max_attempts == 1:
            return await self._once(method, url, endpoint, content, files)
        retrying = self.retry.retrying(endpoint=endpoint, idempotent=idempotent, sleep=self._sleep)
        async for attempt in retrying:
            with attempt:
                return await self._once(method, url, endpoint, content, files)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _once(
        self,
        method: str,
        url: str,
        endpoint: str,
        content: bytes | None,
        files: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        try:
            if files is not None:
                response = await self.http.request(method, url, files=files)
            elif content is not None:
                response = await self.http.request(
                    method, url, content=content, headers=JSON_HEADERS
                )
            else:
                response = await self.http.request(method, url)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransportError(
                f"could not connect for {endpoint}: {type(exc).__name__}: {redact(str(exc))}",
                endpoint=endpoint,
                maybe_sent=False,
            ) from None
        except httpx.TransportError as exc:
            raise TransportError(
                f"request to {endpoint} failed: {type(exc).__name__}: {redact(str(exc))}",
                endpoint=endpoint,
            ) from None
        except httpx.HTTPError as exc:
            # DecodingError (a body that contradicts its Content-Encoding), TooManyRedirects, ...
            raise ResponseFormatError(
                f"could not read the response from {endpoint}: {type(exc).__name__}: "
                f"{redact(str(exc))}",
                endpoint=endpoint,
            ) from None
        return decode_response(
            response.status_code, response.content, endpoint=endpoint, now=self._clock()
        )
