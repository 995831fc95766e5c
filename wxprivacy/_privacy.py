"""Privacy-guideline endpoints: getprivacysetting, one or many."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable

from . import _serde
from ._base import BaseClient, endpoints
from ._batch import as_completed_bounded, check_concurrency
from ._errors import InvalidArgumentError, WxPrivacyError
from .models import PrivacySetting

__all__ = ["PrivacyAPI", "check_privacy_ver"]


def check_privacy_ver(privacy_ver: int) -> int:
    """Return ``privacy_ver`` if it is 1 (live) or 2 (development); else InvalidArgumentError."""
    if type(privacy_ver) is not int or privacy_ver not in (1, 2):
        raise InvalidArgumentError(
            f"privacy_ver must be 1 (live version) or 2 (development version), got {privacy_ver!r}"
        )
    return privacy_ver


class PrivacyAPI(BaseClient):
    """Endpoints of the user privacy protection guideline (permission set 18)."""

    async def get_privacy_setting(
        self, authorizer_appid: str, privacy_ver: int = 2
    ) -> PrivacySetting:
        """Read one Mini Program's user privacy protection guideline.

        Wraps ``POST /cgi-bin/component/getprivacysetting?access_token=<authorizer_access_token>``
        with body ``{"privacy_ver": privacy_ver}``.

        Args:
            authorizer_appid: the Mini Program.
            privacy_ver: ``2`` the development version (default), ``1`` the live version.

        Raises:
            InvalidArgumentError: privacy_ver is not 1 or 2 (nothing is sent).
            MissingRefreshTokenError / MissingVerifyTicketError: a credential is not stored.
            PrivacyConfigError: e.g. 86074 when ``privacy_ver=1`` and nothing is live.
            PermissionDeniedError: 48001/61007, permission set 18 not granted.
            TransportError, ResponseFormatError, WeChatAPIError: as for any call.
        """
        check_privacy_ver(privacy_ver)
        endpoint = endpoints.GET_PRIVACY_SETTING
        data = await self._authorizer_call(
            authorizer_appid, "POST", endpoint, {"privacy_ver": privacy_ver}
        )
        return _serde.structure_response(data, PrivacySetting, endpoint=endpoint)

    async def iter_privacy_settings(
        self,
        authorizer_appids: Iterable[str] | AsyncIterable[str],
        privacy_ver: int = 2,
        *,
        concurrency: int = 16,
    ) -> AsyncIterator[tuple[str, PrivacySetting | WxPrivacyError]]:
        """Yield ``(authorizer_appid, PrivacySetting or the error)`` as each fetch completes.

        Appids are pulled lazily, so 100,000 authorizers never sit in memory at once; at most
        ``concurrency`` requests run at a time. Wraps ``/cgi-bin/component/getprivacysetting``.

        Raises:
            InvalidArgumentError: bad privacy_ver or concurrency (before anything is sent).
        """
        check_privacy_ver(privacy_ver)
        check_concurrency(concurrency)

        async def fetch(appid: str) -> PrivacySetting:
            return await self.get_privacy_setting(appid, privacy_ver)

        async for item in as_completed_bounded(authorizer_appids, fetch, concurrency):
            yield item

    async def get_privacy_settings(
        self, authorizer_appids: Iterable[str], privacy_ver: int = 2, *, concurrency: int = 16
    ) -> dict[str, PrivacySetting | WxPrivacyError]:
        """Fetch many guidelines concurrently; one failure never loses the others' results.

        Wraps ``/cgi-bin/component/getprivacysetting`` once per authorizer.

        Returns:
            ``{authorizer_appid: PrivacySetting or WxPrivacyError}``, keys in input order
            (a repeated appid is fetched once).

        Raises:
            InvalidArgumentError: bad privacy_ver or concurrency (before anything is sent).
        """
        appids = list(dict.fromkeys(authorizer_appids))
        results: dict[str, PrivacySetting | WxPrivacyError] = {}
        async for appid, result in self.iter_privacy_settings(
            appids, privacy_ver, concurrency=concurrency
        ):
            results[appid] = result
        return {appid: results[appid] for appid in appids}
