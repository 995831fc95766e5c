"""Privacy-guideline endpoints: getprivacysetting (one or many), setprivacysetting, upload."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Coroutine, Iterable
from typing import Any, Final

import attrs

from . import _serde
from ._base import BaseClient, endpoints
from ._batch import as_completed_bounded, check_concurrency, check_keys, gather_bounded
from ._checks import shown
from ._coerce import NON_EMPTY, ResponseBody, wire
from ._errors import InvalidArgumentError, WxPrivacyError
from ._privacy_keys import OFFICIAL_PRIVACY_KEYS
from ._privacy_validate import ExtFile, read_ext_file, set_privacy_body
from .models import OwnerSetting, PrivacySetting, SdkPrivacyInfo, SettingItem
from .paths import SET_PRIVACY_SETTING, UPLOAD_PRIVACY_EXT_FILE

__all__ = ["SET_PRIVACY_SETTING", "UPLOAD_PRIVACY_EXT_FILE", "PrivacyAPI", "check_privacy_ver"]

_READ: Final = {ver: _serde.JSONBytes(_serde.dumps({"privacy_ver": ver})) for ver in (1, 2)}
"""getprivacysetting's body for each ``privacy_ver``, encoded once."""


@attrs.frozen(kw_only=True)
class _UploadAnswer(ResponseBody):
    """The answer of ``uploadprivacyextfile``: the id of the stored file (digits may arrive as a
    number)."""

    ext_file_media_id: str = attrs.field(metadata=wire(NON_EMPTY))


def check_privacy_ver(privacy_ver: int) -> int:
    """Return ``privacy_ver`` if it is 1 (live) or 2 (development); else InvalidArgumentError."""
    if type(privacy_ver) is not int or privacy_ver not in (1, 2):
        raise InvalidArgumentError(
            "privacy_ver must be 1 (live version) or 2 (development version), "
            f"got {shown(privacy_ver)}"
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
        data = await self._authorizer_call(authorizer_appid, "POST", endpoint, _READ[privacy_ver])
        setting = _serde.structure_response(data, PrivacySetting, endpoint=endpoint)
        desc = setting.privacy_desc
        if desc is not None and desc.privacy_desc_list is not self._catalogue:
            self._learn_catalogue(desc.privacy_desc_list)
        return setting

    _catalogue: tuple[Any, ...] = ()
    official_privacy_keys: frozenset[str] = OFFICIAL_PRIVACY_KEYS
    """WeChat's catalogue of official ``privacy_key`` values: the ``privacy_desc_list`` of the
    last guideline this client read (``getprivacysetting``), else a snapshot of the 22 keys."""

    def _learn_catalogue(self, items: tuple[Any, ...]) -> None:
        self._catalogue = items  # the converter hands out the same tuple while it is unchanged
        keys = frozenset(item.privacy_key for item in items if item.privacy_key)
        if keys:
            self.official_privacy_keys = keys

    def iter_privacy_settings(
        self,
        authorizer_appids: Iterable[str] | AsyncIterable[str],
        privacy_ver: int = 2,
        *,
        concurrency: int = 16,
    ) -> AsyncIterator[tuple[str, PrivacySetting | WxPrivacyError]]:
        """Yield ``(authorizer_appid, PrivacySetting or the error)`` as each fetch completes.

        Appids are pulled lazily, so 100,000 authorizers never sit in memory at once; at most
        ``concurrency`` requests run at a time. Closing the iterator early cancels the fetches
        still running. Wraps ``/cgi-bin/component/getprivacysetting``.

        Raises:
            InvalidArgumentError: bad privacy_ver or concurrency, or a single string instead of
                an iterable of appids (raised here, before anything is sent).
        """
        check_privacy_ver(privacy_ver)
        check_concurrency(concurrency)
        check_keys(authorizer_appids, "authorizer_appids")

        def fetch(appid: str) -> Coroutine[Any, Any, PrivacySetting]:
            return self.get_privacy_setting(appid, privacy_ver)  # no coroutine of its own

        return as_completed_bounded(authorizer_appids, fetch, concurrency)

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
        check_keys(authorizer_appids, "authorizer_appids")
        if not isinstance(authorizer_appids, Iterable):
            raise InvalidArgumentError(
                "get_privacy_settings takes an iterable of appids; for an async iterable, "
                f"use iter_privacy_settings (got {type(authorizer_appids).__name__})"
            )
        check_privacy_ver(privacy_ver)

        def fetch(appid: str) -> Coroutine[Any, Any, PrivacySetting]:
            return self.get_privacy_setting(appid, privacy_ver)  # no coroutine of its own

        return await gather_bounded(authorizer_appids, fetch, concurrency)

    async def set_privacy_setting(
        self,
        authorizer_appid: str,
        *,
        owner_setting: OwnerSetting,
        setting_list: Iterable[SettingItem] = (),
        sdk_privacy_info_list: Iterable[SdkPrivacyInfo] = (),
        privacy_ver: int = 2,
        custom_keys: Iterable[str] = (),
    ) -> None:
        """Write one Mini Program's user privacy protection guideline.

        Wraps ``POST /cgi-bin/component/setprivacysetting?access_token=<authorizer_access_token>``
        with a raw UTF-8 JSON body. Takes the models :meth:`get_privacy_setting` returns, so
        read, ``attrs.evolve``, write works. ``privacy_label`` and ``extras`` are never sent; see
        :mod:`wxprivacy._privacy_validate` for the exact body. The development version
        (``privacy_ver=2``) takes effect after the next code release passes audit; the live
        version (``privacy_ver=1``) only takes ``owner_setting`` changes. Safe to retry.

        Args:
            authorizer_appid: the Mini Program.
            owner_setting: contacts (at least one), ``notice_method`` (required),
                ``store_expire_timestamp`` (``""`` or ``"<digits>天"``), ``ext_file_media_id``
                (from :meth:`upload_privacy_ext_file`; not with ``privacy_ver=1``).
            setting_list: the declared keys and purposes; replaces the whole list.
            sdk_privacy_info_list: third-party SDKs and what they collect.
            privacy_ver: 2 the development version (default), 1 the live version.
            custom_keys: keys of yours that differ from an official key only in case or
                separators (e.g. ``"userInfo"`` beside WeChat's ``UserInfo``); any other such
                key is refused as a misspelling. The official keys are the catalogue
                (``privacy_desc_list``) of the last guideline this client read, else a snapshot.

        Raises:
            InvalidArgumentError: a local check failed (nothing is sent); the message names the
                field path, e.g. ``owner_setting.store_expire_timestamp``, or
                ``setting_list[0].privacy_key`` for ``"Userinfo"`` (WeChat's ``UserInfo``).
            PrivacyConfigError: WeChat rejected the guideline (86069-86075), e.g. 86074 when
                ``privacy_ver=1`` and no live version exists.
            PermissionDeniedError: permission set 18 not granted (48001/61007).
            MissingRefreshTokenError, TransportError, WeChatAPIError: as for any call.
        """
        check_privacy_ver(privacy_ver)
        if isinstance(custom_keys, str | bytes) or not isinstance(custom_keys, Iterable):
            raise InvalidArgumentError(
                f"custom_keys must be an iterable of keys, got {custom_keys!r:.60}"
            )
        body = set_privacy_body(
            owner_setting=owner_setting,
            setting_list=setting_list,
            sdk_privacy_info_list=sdk_privacy_info_list,
            privacy_ver=privacy_ver,
            official_keys=self.official_privacy_keys,
            custom_keys=frozenset(custom_keys),
        )
        await self._authorizer_call(authorizer_appid, "POST", SET_PRIVACY_SETTING, body)

    async def upload_privacy_ext_file(self, authorizer_appid: str, file: ExtFile) -> str:
        """Upload a custom privacy guideline file and return its ``ext_file_media_id``.

        Wraps ``POST /cgi-bin/component/uploadprivacyextfile?access_token=<authorizer token>``
        as ``multipart/form-data`` with the file in the field ``file``. Put the returned id in
        ``owner_setting.ext_file_media_id`` and call :meth:`set_privacy_setting` (development
        version).

        Args:
            authorizer_appid: the Mini Program.
            file: a path to a ``.txt`` file, its content as bytes, or a binary file object;
                at most 100 KB (102,400 bytes).

        Returns:
            The ``ext_file_media_id`` (a long decimal string).

        Raises:
            InvalidArgumentError: not ``.txt``, empty, over 100 KB or unreadable (nothing sent).
            UploadRejectedError: WeChat rejected the file (40006 type, 40126 size).
            ResponseFormatError: the answer has no ``ext_file_media_id``.
            PermissionDeniedError, MissingRefreshTokenError, TransportError, WeChatAPIError:
                as for any call.
        """
        name, data = read_ext_file(file)
        endpoint = UPLOAD_PRIVACY_EXT_FILE
        answer = await self._authorizer_call(
            authorizer_appid, "POST", endpoint, files={"file": (name, data, "text/plain")}
        )
        return _serde.structure_response(answer, _UploadAnswer, endpoint=endpoint).ext_file_media_id
