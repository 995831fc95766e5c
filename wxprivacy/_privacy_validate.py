"""Local checks and request bodies for the privacy write endpoints, before anything is sent.

Every check raises :class:`InvalidArgumentError` whose message starts with the field path
(``owner_setting.store_expire_timestamp``, ``setting_list[2].privacy_key``) and, where WeChat has
one, names the errcode the server would have answered.

A body is the request written by the converter's ``unstructure`` and kept to the fields the
request sends (:data:`SET_PRIVACY_FIELDS`, :data:`APPLY_INTERFACE_FIELDS`), never ``extras`` or
response-only fields. For ``setprivacysetting``:

* ``privacy_ver`` is always sent;
* ``owner_setting``: the four contacts, ``notice_method`` and ``store_expire_timestamp`` are always
  sent (``""`` clears a field, as WeChat's own examples do); ``ext_file_media_id`` only when
  non-empty (never on the live version, where changing it is 86075); ``store_region`` only when it
  is a non-zero integer (0 is what WeChat reports for "unset");
* ``setting_list`` items are ``{privacy_key, privacy_text}``: ``privacy_label`` is a response-only
  display name and is not sent. The list is sent (possibly empty) with ``privacy_ver=2`` and never
  with ``privacy_ver=1``;
* ``sdk_privacy_info_list`` only when non-empty, items ``{sdk_name, sdk_biz_name, sdk_list}``;
* no key is ever ``null``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

import attrs

from ._checks import shown
from ._converter import Send, unstructure_request
from ._errors import InvalidArgumentError
from ._privacy_keys import OFFICIAL_PRIVACY_KEYS, lookalike
from .models import OwnerSetting, SdkPrivacyInfo, SettingItem

__all__ = [
    "APPLY_CONTENT_MAX_CHARS",
    "APPLY_INTERFACE_FIELDS",
    "APPLY_PIC_MAX",
    "APPLY_VIDEO_MAX",
    "EXT_FILE_MAX_BYTES",
    "SET_PRIVACY_FIELDS",
    "SET_PRIVACY_LIVE_FIELDS",
    "ApplyPrivacyInterface",
    "ExtFile",
    "SetPrivacySetting",
    "apply_interface_body",
    "read_ext_file",
    "set_privacy_body",
]

#: Largest privacy ext file WeChat accepts, in bytes (100 KB; larger gets 40126).
EXT_FILE_MAX_BYTES: Final = 100 * 1024
#: Longest ``content`` (reason) of ``apply_privacy_interface``, in characters.
APPLY_CONTENT_MAX_CHARS: Final = 300
#: Most pictures / videos one ``apply_privacy_interface`` may carry.
APPLY_PIC_MAX: Final = 10
APPLY_VIDEO_MAX: Final = 1

_CONTACTS: Final = ("contact_phone", "contact_email", "contact_qq", "contact_weixin")
_STORE_EXPIRE: Final = re.compile(r"[0-9]+天")

ExtFile = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]
"""What :meth:`upload_privacy_ext_file` accepts: a path, the bytes, or a binary file object."""


@attrs.frozen(kw_only=True)
class SetPrivacySetting:
    """The request of ``/cgi-bin/component/setprivacysetting`` (checked by
    :func:`set_privacy_body`)."""

    privacy_ver: int
    owner_setting: OwnerSetting
    setting_list: tuple[SettingItem, ...] = ()
    sdk_privacy_info_list: tuple[SdkPrivacyInfo, ...] = ()


@attrs.frozen(kw_only=True)
class ApplyPrivacyInterface:
    """The request of ``/wxa/security/apply_privacy_interface`` (checked by
    :func:`apply_interface_body`)."""

    api_name: str
    content: str
    url_list: tuple[str, ...] = ()
    pic_list: tuple[str, ...] = ()
    video_list: tuple[str, ...] = ()


_OWNER_FIELDS: Final = Send(
    (*_CONTACTS, "notice_method", "store_expire_timestamp"),
    when_set=("ext_file_media_id", "store_region"),
)
_ITEM_FIELDS: Final = Send(("privacy_key", "privacy_text"))

#: What ``setprivacysetting`` sends for the development version (``privacy_ver=2``).
SET_PRIVACY_FIELDS: Final[Mapping[type, Send]] = {
    SetPrivacySetting: Send(
        ("privacy_ver", "owner_setting", "setting_list"), when_set=("sdk_privacy_info_list",)
    ),
    OwnerSetting: _OWNER_FIELDS,
    SettingItem: _ITEM_FIELDS,
    SdkPrivacyInfo: Send(("sdk_name", "sdk_biz_name", "sdk_list")),
}
#: What it sends for the live version (``privacy_ver=1``): ``owner_setting`` only.
SET_PRIVACY_LIVE_FIELDS: Final[Mapping[type, Send]] = {
    SetPrivacySetting: Send(("privacy_ver", "owner_setting")),
    OwnerSetting: _OWNER_FIELDS,
}
#: What ``apply_privacy_interface`` sends: empty lists are left out.
APPLY_INTERFACE_FIELDS: Final[Mapping[type, Send]] = {
    ApplyPrivacyInterface: Send(
        ("api_name", "content"), when_set=("url_list", "pic_list", "video_list")
    ),
}


def _fail(path: str, problem: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{path}: {problem}")


def _text(path: str, value: Any, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise _fail(path, f"must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise _fail(path, "must not be empty")
    return value


def _check_owner(owner: Any, privacy_ver: int) -> OwnerSetting:
    if not isinstance(owner, OwnerSetting):
        raise _fail("owner_setting", f"must be an OwnerSetting, got {type(owner).__name__}")
    contacts = [_text(f"owner_setting.{name}", getattr(owner, name)) for name in _CONTACTS]
    if not any(contact.strip() for contact in contacts):
        raise _fail(
            "owner_setting",
            "at least one of contact_phone, contact_email, contact_qq, contact_weixin must be "
            "filled (WeChat: 86069)",
        )
    _text("owner_setting.notice_method", owner.notice_method, required=True)
    expire = _text("owner_setting.store_expire_timestamp", owner.store_expire_timestamp)
    if expire and not _STORE_EXPIRE.fullmatch(expire):
        raise _fail(
            "owner_setting.store_expire_timestamp",
            f"must be empty or '<digits>天' such as '30天', got {expire[:40]!r} (WeChat: 86072)",
        )
    media = _text("owner_setting.ext_file_media_id", owner.ext_file_media_id)
    if media and privacy_ver == 1:
        raise _fail(
            "owner_setting.ext_file_media_id",
            "cannot be changed on the live version (privacy_ver=1; WeChat: 86075); pass it "
            "empty (attrs.evolve(owner_setting, ext_file_media_id='')) to keep the live file",
        )
    region = owner.store_region
    if region is not None and (
        isinstance(region, bool) or not isinstance(region, int) or region < 0
    ):
        raise _fail("owner_setting.store_region", f"must be an int >= 0, got {shown(region)}")
    return owner


def _check_items(path: str, items: Any, *, texts_required: bool = True) -> tuple[SettingItem, ...]:
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise _fail(path, "must be a sequence of SettingItem")
    checked = tuple(items)
    seen: set[str] = set()
    for index, item in enumerate(checked):
        where = f"{path}[{index}]"
        if not isinstance(item, SettingItem):
            raise _fail(where, f"must be a SettingItem, got {type(item).__name__}")
        key = _text(f"{where}.privacy_key", item.privacy_key, required=True)
        if key != key.strip():
            raise _fail(f"{where}.privacy_key", f"has surrounding white space: {key!r}")
        if key in seen:
            raise _fail(f"{where}.privacy_key", f"{key!r} is declared twice")
        seen.add(key)
        _text(f"{where}.privacy_text", item.privacy_text, required=texts_required)
    return checked


def _check_sdks(infos: Any) -> tuple[SdkPrivacyInfo, ...]:
    if isinstance(infos, str | bytes) or not isinstance(infos, Iterable):
        raise _fail("sdk_privacy_info_list", "must be a sequence of SdkPrivacyInfo")
    checked = tuple(infos)
    for index, info in enumerate(checked):
        where = f"sdk_privacy_info_list[{index}]"
        if not isinstance(info, SdkPrivacyInfo):
            raise _fail(where, f"must be an SdkPrivacyInfo, got {type(info).__name__}")
        _text(f"{where}.sdk_name", info.sdk_name, required=True)
        _text(f"{where}.sdk_biz_name", info.sdk_biz_name, required=True)
        _check_items(f"{where}.sdk_list", info.sdk_list)
    return checked


def _check_spelling(
    path: str,
    items: tuple[SettingItem, ...],
    official: Collection[str],
    custom: Collection[str],
) -> None:
    """Refuse a key that is an official one spelled differently, unless it is in ``custom``."""
    for index, item in enumerate(items):
        key = item.privacy_key
        near = lookalike(key, official)
        if near is not None and key not in custom:
            raise _fail(
                f"{path}[{index}].privacy_key",
                f"{key!r} is WeChat's {near!r} spelled differently, so {near!r} would stay "
                f"undeclared: write {near!r}, or, if {key!r} is a custom key of yours, pass "
                f"custom_keys=[{key!r}] (wxprivacy set --custom-key {key})",
            )


def set_privacy_body(
    *,
    owner_setting: OwnerSetting,
    setting_list: Iterable[SettingItem],
    sdk_privacy_info_list: Iterable[SdkPrivacyInfo],
    privacy_ver: int,
    official_keys: Collection[str] = OFFICIAL_PRIVACY_KEYS,
    custom_keys: Collection[str] = (),
) -> dict[str, Any]:
    """Validate the arguments of ``setprivacysetting`` and return its JSON body.

    Args:
        owner_setting: contacts (one at least), ``notice_method`` (required),
            ``store_expire_timestamp`` (``""`` or ``"<digits>天"``).
        setting_list: declared keys with their purposes (``privacy_ver=2`` only).
        sdk_privacy_info_list: third-party SDKs and what they collect (``privacy_ver=2`` only).
        privacy_ver: 2 the development version, 1 the live one (already checked to be 1 or 2).
        official_keys: WeChat's catalogue of ``privacy_key`` values.
        custom_keys: keys of the caller's own that may look like an official one.

    Returns:
        The body as JSON values (see the module docstring for what is and is not sent).

    Raises:
        InvalidArgumentError: the message starts with the offending field path.
    """
    if isinstance(custom_keys, str | bytes) or not isinstance(custom_keys, Collection):
        raise _fail("custom_keys", f"must be a collection of keys, got {custom_keys!r:.60}")
    items = _check_items("setting_list", setting_list)
    _check_spelling("setting_list", items, official_keys, custom_keys)
    sdks = _check_sdks(sdk_privacy_info_list)
    for index, info in enumerate(sdks):
        path = f"sdk_privacy_info_list[{index}].sdk_list"
        _check_spelling(path, tuple(info.sdk_list), official_keys, custom_keys)
    request = SetPrivacySetting(
        privacy_ver=privacy_ver,
        owner_setting=_check_owner(owner_setting, privacy_ver),
        setting_list=items,
        sdk_privacy_info_list=sdks,
    )
    if privacy_ver == 2:
        return unstructure_request(request, SET_PRIVACY_FIELDS)
    for name in ("setting_list", "sdk_privacy_info_list"):
        if getattr(request, name):
            raise _fail(
                name, "must be empty with privacy_ver=1: the live version only takes owner_setting"
            )
    return unstructure_request(request, SET_PRIVACY_LIVE_FIELDS)


def _url_list(path: str, urls: Any, limit: int | None) -> list[str]:
    if isinstance(urls, str | bytes) or not isinstance(urls, Iterable):
        raise _fail(path, "must be a sequence of URL strings")
    result = list(urls)
    if limit is not None and len(result) > limit:
        raise _fail(path, f"at most {limit} allowed, got {len(result)}")
    for index, url in enumerate(result):
        text = _text(f"{path}[{index}]", url, required=True)
        if not text.startswith(("http://", "https://")) or not text.split("://", 1)[1].strip("/"):
            raise _fail(f"{path}[{index}]", f"must be an http(s) URL, got {text[:60]!r}")
    return result


def apply_interface_body(
    *,
    api_name: str,
    content: str,
    url_list: Sequence[str],
    pic_list: Sequence[str],
    video_list: Sequence[str],
) -> dict[str, Any]:
    """Validate the arguments of ``apply_privacy_interface`` and return its JSON body.

    Empty lists are left out of the body (:data:`APPLY_INTERFACE_FIELDS`).

    Raises:
        InvalidArgumentError: an empty or space-padded api_name, an empty content or one over
            300 characters, more than 10 pictures or 1 video, or a list item that is not an
            http(s) URL.
    """
    name = _text("api_name", api_name, required=True)
    if any(ch.isspace() for ch in name):
        raise _fail("api_name", f"must not contain white space, got {shown(name)}")
    text = _text("content", content, required=True)
    if len(text) > APPLY_CONTENT_MAX_CHARS:
        raise _fail("content", f"at most {APPLY_CONTENT_MAX_CHARS} characters, got {len(text)}")
    request = ApplyPrivacyInterface(
        api_name=name,
        content=text,
        url_list=tuple(_url_list("url_list", url_list, None)),
        pic_list=tuple(_url_list("pic_list", pic_list, APPLY_PIC_MAX)),
        video_list=tuple(_url_list("video_list", video_list, APPLY_VIDEO_MAX)),
    )
    return unstructure_request(request, APPLY_INTERFACE_FIELDS)


def _check_txt_name(name: str) -> str:
    if not name.lower().endswith(".txt"):
        raise _fail("file", f"must be a .txt file (WeChat: 40006), got {Path(name).name!r}")
    return Path(name).name


def read_ext_file(file: ExtFile) -> tuple[str, bytes]:
    """Read a privacy ext file and check it locally; return ``(file name, content)``.

    Args:
        file: a path (``str`` or ``os.PathLike``) to a ``.txt`` file, the content as bytes
            (sent as ``privacy.txt``), or a binary file object (its ``name``, when it has one,
            must end with ``.txt``).

    Raises:
        InvalidArgumentError: not ``.txt``, empty, larger than 100 KB (WeChat: 40126), a text
            (``str``) file object, or a path that cannot be read.
    """
    if isinstance(file, bytes | bytearray | memoryview):
        name, data = "privacy.txt", bytes(file)
    elif isinstance(file, str | os.PathLike):
        path = Path(file)
        name = _check_txt_name(str(path))
        try:
            size = path.stat().st_size
            if size > EXT_FILE_MAX_BYTES:
                raise _fail("file", f"{size} bytes is over the 100 KB limit (WeChat: 40126)")
            data = path.read_bytes()
        except OSError as exc:
            raise _fail("file", f"cannot read {path.name!r}: {exc.strerror or exc}") from None
    elif hasattr(file, "read"):
        if isinstance(file, io.TextIOBase):
            raise _fail("file", "open the file in binary mode ('rb')")
        raw_name = getattr(file, "name", None)
        name = _check_txt_name(raw_name) if isinstance(raw_name, str) else "privacy.txt"
        data = _read_all(file, EXT_FILE_MAX_BYTES + 1)
    else:
        raise _fail("file", f"must be a path, bytes or a binary file, got {type(file).__name__}")
    if not data:
        raise _fail("file", "is empty")
    if len(data) > EXT_FILE_MAX_BYTES:
        raise _fail("file", f"more than {EXT_FILE_MAX_BYTES} bytes (100 KB; WeChat: 40126)")
    return name, data


def _read_all(file: Any, limit: int) -> bytes:
    """Read up to ``limit`` bytes, looping: an unbuffered file or pipe may return less per read."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = file.read(limit - size)
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise _fail("file", "the file object must return bytes")
        if not chunk:
            break
        chunks.append(bytes(chunk))
        size += len(chunk)
    return b"".join(chunks)
