"""Authorization endpoints: the authorizer list (and, later, pre-auth codes and query_auth)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs

from ._base import BaseClient, endpoints
from ._errors import InvalidArgumentError, ResponseFormatError

__all__ = ["AuthorizationAPI", "AuthorizerListItem", "AuthorizerPage"]


@attrs.frozen(repr=False)
class AuthorizerListItem:
    """One entry of ``/cgi-bin/component/api_get_authorizer_list``.

    Attributes:
        authorizer_appid: the authorized account's appid.
        refresh_token: its current ``authorizer_refresh_token`` (hidden from ``repr``).
        auth_time: Unix seconds at which it authorized the platform (0 when absent).
    """

    authorizer_appid: str
    refresh_token: str
    auth_time: int = 0

    def __repr__(self) -> str:
        return (
            f"AuthorizerListItem(authorizer_appid={self.authorizer_appid!r}, "
            f"auth_time={self.auth_time})"
        )


@attrs.frozen
class AuthorizerPage:
    """One page of ``/cgi-bin/component/api_get_authorizer_list``.

    Attributes:
        total_count: how many authorizers the platform has in all.
        list: the authorizers on this page.
    """

    total_count: int
    list: tuple[AuthorizerListItem, ...]


class AuthorizationAPI(BaseClient):
    """Endpoints about which accounts authorized the platform."""

    async def list_authorizers(self, offset: int = 0, count: int = 500) -> AuthorizerPage:
        """Read one page of the platform's authorizers.

        Wraps ``POST /cgi-bin/component/api_get_authorizer_list`` with body
        ``{"component_appid", "offset", "count"}``.

        Args:
            offset: how many authorizers to skip (>= 0).
            count: page size, 1 to 500 (WeChat answers 40170 above 500).

        Raises:
            InvalidArgumentError: offset or count out of range (nothing is sent).
            WeChatAPIError, TransportError, ResponseFormatError: as for any call.
        """
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 500:
            raise InvalidArgumentError(f"count must be an int from 1 to 500, got {count!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidArgumentError(f"offset must be an int >= 0, got {offset!r}")
        endpoint = endpoints.AUTHORIZER_LIST
        body = {"component_appid": self.component_appid, "offset": offset, "count": count}
        data = await self._component_call(endpoint, body)
        items = _parse_authorizer_list(data, endpoint=endpoint)
        total = data.get("total_count")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ResponseFormatError(
                f"total_count in the response from {endpoint} is not a count: {total!r}",
                endpoint=endpoint,
                field_path="total_count",
            )
        return AuthorizerPage(total_count=total, list=tuple(items))

    async def iter_authorizers(
        self, *, page_size: int = 500, store_refresh_tokens: bool = False
    ) -> AsyncIterator[AuthorizerListItem]:
        """Yield every authorizer of the platform, page by page (500 per request by default).

        Wraps ``POST /cgi-bin/component/api_get_authorizer_list``.

        Args:
            page_size: authorizers per request, 1 to 500.
            store_refresh_tokens: also store each listed ``refresh_token`` in the token store
                (recovery after a lost store or a 61023).

        Raises:
            InvalidArgumentError: page_size out of range. WeChatAPIError, TransportError,
            ResponseFormatError: as for any call.
        """
        offset = 0
        while True:
            page = await self.list_authorizers(offset, page_size)
            for item in page.list:
                if store_refresh_tokens and item.refresh_token:
                    await self.token_store.set_refresh_token(
                        self.component_appid, item.authorizer_appid, item.refresh_token
                    )
                yield item
            offset += len(page.list)
            if not page.list or offset >= page.total_count:
                return


def _parse_authorizer_list(data: dict[str, Any], *, endpoint: str) -> list[AuthorizerListItem]:
    raw = data.get("list")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ResponseFormatError(
            f"list in the response from {endpoint} is not an array", field_path="list"
        )
    items = []
    for index, entry in enumerate(raw):
        path = f"list[{index}]"
        if not isinstance(entry, dict):
            raise ResponseFormatError(f"{path} from {endpoint} is not an object", field_path=path)
        appid = entry.get("authorizer_appid")
        if not isinstance(appid, str) or not appid:
            raise ResponseFormatError(
                f"{path}.authorizer_appid from {endpoint} is missing or not a string",
                field_path=f"{path}.authorizer_appid",
            )
        refresh = entry.get("refresh_token")
        auth_time = entry.get("auth_time", 0)
        items.append(
            AuthorizerListItem(
                authorizer_appid=appid,
                refresh_token=refresh if isinstance(refresh, str) else "",
                auth_time=int(auth_time)
                if isinstance(auth_time, int | str) and str(auth_time).isdigit()
                else 0,
            )
        )
    return items
