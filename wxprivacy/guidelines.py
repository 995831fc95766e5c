"""Privacy guidelines from TOML files: one for one Mini Program, or a template for a fleet.

The logic of ``wxprivacy set`` and ``wxprivacy apply-template``, usable without the ``cli``
extra. :func:`load_guideline` reads one guideline (the arguments of ``setprivacysetting``)::

    privacy_ver = 2                      # optional; 1 = live version (owner_setting only)

    [owner_setting]
    contact_email = "privacy@example.com"
    notice_method = "弹窗提示"
    store_expire_timestamp = "30天"

    [[setting_list]]
    privacy_key = "UserInfo"
    privacy_text = "展示会员头像与昵称"

    [[sdk_privacy_info_list]]            # optional
    sdk_name = "地图SDK"
    sdk_biz_name = "某某科技有限公司"
    [[sdk_privacy_info_list.sdk_list]]
    privacy_key = "Location"
    privacy_text = "显示附近门店"

:func:`load_template` reads a fleet template, which :func:`run_apply_template` applies to the
development version of every authorizer: each ``privacy_key`` its code uses (``privacy_list``)
is declared with the purpose from the template; ``[owner_setting]`` in the template only fills
fields that are empty::

    [purposes]
    UserInfo = "展示会员头像与昵称"
    Location = "查找附近门店"

    [owner_setting]                      # optional
    contact_email = "privacy@example.com"
    notice_method = "弹窗提示"

Both show the difference first (:func:`guideline_diff`, :attr:`Plan.diff`);
:func:`run_apply_template` writes nothing without ``yes``. :func:`ensure_refresh_token` finds
an authorizer's refresh token in ``api_get_authorizer_list`` when the token store has none.
"""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from . import _serde
from ._checks import shown
from ._client import ComponentClient
from ._errors import InvalidArgumentError, ResponseFormatError, WeChatAPIError, WxPrivacyError
from ._privacy_validate import set_privacy_body
from .models import OwnerSetting, PrivacySetting, SdkPrivacyInfo, SettingItem

__all__ = [
    "ApplyResult",
    "Guideline",
    "NotAnAuthorizerError",
    "Plan",
    "Template",
    "check_guideline",
    "ensure_refresh_token",
    "guideline_diff",
    "load_guideline",
    "load_template",
    "plan_template",
    "read_guideline",
    "run_apply_template",
    "write_guideline",
]

_OWNER_FIELDS: Final = tuple(f.name for f in attrs.fields(OwnerSetting) if f.name != "extras")
_GUIDELINE_KEYS: Final = frozenset(
    {"privacy_ver", "owner_setting", "setting_list", "sdk_privacy_info_list"}
)


@attrs.frozen
class Guideline:
    """A guideline read from TOML: the arguments of ``set_privacy_setting``."""

    owner_setting: OwnerSetting
    setting_list: tuple[SettingItem, ...]
    sdk_privacy_info_list: tuple[SdkPrivacyInfo, ...]
    privacy_ver: int


@attrs.frozen
class Template:
    """A fleet template: purposes per ``privacy_key``, and owner_setting defaults."""

    purposes: Mapping[str, str]
    owner_defaults: Mapping[str, Any]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except RecursionError:
        raise InvalidArgumentError(f"{path}: nested too deeply to be a guideline") from None
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"{path}: not UTF-8 (byte {exc.start}: {exc.reason}); TOML files are UTF-8: save it "
            "as UTF-8 (an editor's GBK or GB18030 file is not)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        hint = ""
        with contextlib.suppress(OSError), path.open("rb") as fh:
            if fh.read(3) == b"\xef\xbb\xbf":
                hint = (
                    "; the file starts with a byte order mark (BOM): save it as UTF-8 without one"
                )
        raise InvalidArgumentError(f"{path}: not valid TOML ({exc}){hint}") from None


def _unknown_keys(model: Any, path: str) -> None:
    """Reject keys the model does not know, at any depth (a typo would be dropped silently)."""
    if model.extras:
        raise InvalidArgumentError(f"{path}: unknown key(s) {sorted(model.extras)}")
    for field in attrs.fields(type(model)):
        value = getattr(model, field.name)
        if isinstance(value, tuple):
            for index, item in enumerate(value):
                if attrs.has(type(item)):
                    _unknown_keys(item, f"{path}.{field.name}[{index}]".lstrip("."))
        elif attrs.has(type(value)):
            _unknown_keys(value, f"{path}.{field.name}".lstrip("."))


def _structure(data: Any, cls: type[Any], path: str) -> Any:
    try:
        model = _serde.structure(data, cls)
    except ResponseFormatError as exc:
        raise InvalidArgumentError(f"{path}: {exc}") from None
    _unknown_keys(model, path)
    return model


def load_guideline(path: Path) -> Guideline:
    """Read and check a guideline TOML file (see the module docstring for its shape).

    Raises:
        InvalidArgumentError: unreadable, not TOML, unknown keys, wrong types, or a guideline
            ``set_privacy_setting`` would refuse (the message names the field path).
    """
    data = _read_toml(path)
    unknown = set(data) - _GUIDELINE_KEYS
    if unknown:
        raise InvalidArgumentError(f"{path}: unknown key(s) {sorted(unknown)}")
    if "owner_setting" not in data:
        raise InvalidArgumentError(f"{path}: [owner_setting] is required")
    guideline = Guideline(
        owner_setting=_structure(data["owner_setting"], OwnerSetting, "owner_setting"),
        setting_list=tuple(
            _structure(item, SettingItem, f"setting_list[{i}]")
            for i, item in enumerate(data.get("setting_list", []))
        ),
        sdk_privacy_info_list=tuple(
            _structure(item, SdkPrivacyInfo, f"sdk_privacy_info_list[{i}]")
            for i, item in enumerate(data.get("sdk_privacy_info_list", []))
        ),
        privacy_ver=_privacy_ver(data.get("privacy_ver", 2), path),
    )
    set_privacy_body(
        owner_setting=guideline.owner_setting,
        setting_list=guideline.setting_list,
        sdk_privacy_info_list=guideline.sdk_privacy_info_list,
        privacy_ver=guideline.privacy_ver,
        official_keys=(),  # spellings are checked against the client's catalogue, at write
    )
    return guideline


def _privacy_ver(value: Any, path: Path) -> int:
    if type(value) is not int or value not in (1, 2):
        raise InvalidArgumentError(f"{path}: privacy_ver must be 1 or 2, got {shown(value)}")
    return value


def load_template(path: Path) -> Template:
    """Read and check a fleet template TOML file (``[purposes]``, optional ``[owner_setting]``).

    Raises:
        InvalidArgumentError: unreadable, not TOML, unknown keys, or an empty purpose.
    """
    data = _read_toml(path)
    unknown = set(data) - {"purposes", "owner_setting"}
    if unknown:
        raise InvalidArgumentError(f"{path}: unknown key(s) {sorted(unknown)}")
    purposes = data.get("purposes")
    if not isinstance(purposes, dict) or not purposes:
        raise InvalidArgumentError(f"{path}: [purposes] must map privacy keys to purposes")
    for key, text in purposes.items():
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgumentError(f"purposes.{key}: must be a non-empty string")
    owner = _structure(data.get("owner_setting", {}), OwnerSetting, "owner_setting")
    defaults = {name: getattr(owner, name) for name in _OWNER_FIELDS if getattr(owner, name)}
    return Template(purposes=dict(purposes), owner_defaults=defaults)


def _owner_diff(
    old: OwnerSetting | None, new: OwnerSetting, *, skip: tuple[str, ...] = ()
) -> list[str]:
    lines = []
    for name in _OWNER_FIELDS:
        if name in skip:
            continue
        before = getattr(old, name) if old is not None else None
        after = getattr(new, name)
        if after is None or before == after or (before is None and after == ""):
            continue
        lines.append(f"  owner_setting.{name}: {before!r} -> {after!r}")
    return lines


def _items_diff(old: tuple[SettingItem, ...], new: tuple[SettingItem, ...]) -> list[str]:
    before = {item.privacy_key: item.privacy_text for item in old}
    after = {item.privacy_key: item.privacy_text for item in new}
    lines = [f"  + {k}: {v}" for k, v in after.items() if k not in before]
    lines += [f"  ~ {k}: {before[k]!r} -> {v!r}" for k, v in after.items() if before.get(k, v) != v]
    lines += [f"  - {k}" for k in before if k not in after]
    return lines


def _sdk_diff(old: tuple[SdkPrivacyInfo, ...], new: tuple[SdkPrivacyInfo, ...]) -> list[str]:
    def shape(sdk: SdkPrivacyInfo) -> tuple[str, tuple[tuple[str, str], ...]]:
        return sdk.sdk_biz_name, tuple((i.privacy_key, i.privacy_text) for i in sdk.sdk_list)

    before = {sdk.sdk_name: sdk for sdk in old}
    after = {sdk.sdk_name: sdk for sdk in new}
    lines = [
        f"  + sdk {name}: {', '.join(i.privacy_key for i in sdk.sdk_list)}"
        for name, sdk in after.items()
        if name not in before
    ]
    lines += [
        f"  ~ sdk {name}: {', '.join(i.privacy_key for i in sdk.sdk_list)}"
        for name, sdk in after.items()
        if name in before and shape(before[name]) != shape(sdk)
    ]
    lines += [f"  - sdk {name}" for name in before if name not in after]
    return lines


@attrs.frozen
class Plan:
    """What ``apply-template`` would write for one authorizer."""

    owner_setting: OwnerSetting
    setting_list: tuple[SettingItem, ...]
    diff: tuple[str, ...]
    missing_purpose: tuple[str, ...]


def plan_template(
    setting: PrivacySetting, template: Template, *, keep_existing: bool = False
) -> Plan:
    """Compute the new development guideline for one authorizer from the template.

    Every key in ``privacy_list`` that the template has a purpose for is declared with that
    purpose (already declared keys keep their text when ``keep_existing``); other declarations
    are kept. Empty ``owner_setting`` fields are filled from the template.
    """
    items = list(setting.setting_list)
    index = {item.privacy_key: i for i, item in enumerate(items)}
    missing = []
    for key in dict.fromkeys(setting.privacy_list):
        purpose = template.purposes.get(key)
        if purpose is None:
            if key not in index:
                missing.append(key)
            continue
        if key in index:
            if not keep_existing:
                items[index[key]] = attrs.evolve(items[index[key]], privacy_text=purpose)
        else:
            index[key] = len(items)
            items.append(SettingItem(privacy_key=key, privacy_text=purpose))
    current = setting.owner_setting or OwnerSetting()
    fill = {k: v for k, v in template.owner_defaults.items() if not getattr(current, k)}
    owner = attrs.evolve(current, **fill)
    diff = _owner_diff(setting.owner_setting, owner) + _items_diff(
        setting.setting_list, tuple(items)
    )
    return Plan(owner, tuple(items), tuple(diff), tuple(missing))


@attrs.define
class ApplyResult:
    """Counts from one ``apply-template`` run (``changed`` are written only with ``yes``)."""

    total: int = 0
    changed: int = 0
    unchanged: int = 0
    written: int = 0
    errors: dict[str, str] = attrs.field(factory=dict)
    missing_purpose: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    """Authorizers whose code uses keys the template has no purpose for (left undeclared)."""


def guideline_diff(current: PrivacySetting | None, guideline: Guideline) -> list[str]:
    """The lines that say how writing ``guideline`` changes ``current`` (empty: no change).

    ``current`` is the guideline of the same version (``None`` when there is none yet). For
    ``privacy_ver=1`` only ``owner_setting`` is compared, without ``ext_file_media_id`` (the live
    version's file cannot change, and ``set_privacy_setting`` never sends it).
    """
    ver = guideline.privacy_ver
    skip = ("ext_file_media_id",) if ver == 1 else ()
    owner = current.owner_setting if current else None
    diff = _owner_diff(owner, guideline.owner_setting, skip=skip)
    if ver == 2:
        diff += _items_diff(current.setting_list if current else (), guideline.setting_list)
        old_sdks = current.sdk_privacy_info_list if current else ()
        diff += _sdk_diff(old_sdks, guideline.sdk_privacy_info_list)
    return diff


class NotAnAuthorizerError(WxPrivacyError):
    """The appid is not in the platform's authorizer list (``api_get_authorizer_list``)."""


async def ensure_refresh_token(client: ComponentClient, authorizer_appid: str) -> None:
    """Make sure the token store has the authorizer's refresh token.

    When it has none, page through ``api_get_authorizer_list`` until the authorizer, storing the
    listed tokens by :meth:`ComponentClient.store_listed_refresh_tokens`. An authorizer listed
    without a token is left to fail on its first call (``MissingRefreshTokenError``).

    Raises:
        NotAnAuthorizerError: the appid is not listed.
        WxPrivacyError: the list could not be read (credentials, ticket, network).
    """
    comp = client.component_appid
    if await client.token_store.get_refresh_token(comp, authorizer_appid):
        return
    async for item in client.iter_authorizers(store_refresh_tokens=True):
        if item.authorizer_appid == authorizer_appid:
            return
    raise NotAnAuthorizerError(
        f"{authorizer_appid} is not an authorizer of component {comp} "
        "(not in api_get_authorizer_list)"
    )


async def read_guideline(
    client: ComponentClient, authorizer_appid: str, privacy_ver: int = 2
) -> PrivacySetting | None:
    """Read the guideline that ``write_guideline`` would replace; ``None`` when there is none.

    Wraps ``getprivacysetting``; its 86074 (no live version yet, ``privacy_ver=1``) is ``None``.
    """
    try:
        return await client.get_privacy_setting(authorizer_appid, privacy_ver)
    except WeChatAPIError as exc:
        if exc.errcode != 86074:
            raise
        return None


async def write_guideline(
    client: ComponentClient,
    authorizer_appid: str,
    guideline: Guideline,
    *,
    custom_keys: Collection[str] = (),
) -> None:
    """Write ``guideline`` for one authorizer (``setprivacysetting``); ``custom_keys`` as for
    :meth:`ComponentClient.set_privacy_setting`.

    Raises:
        InvalidArgumentError: as :func:`check_guideline`. WeChatAPIError, TransportError: as
            for any call.
    """
    await client.set_privacy_setting(
        authorizer_appid,
        owner_setting=guideline.owner_setting,
        setting_list=guideline.setting_list,
        sdk_privacy_info_list=guideline.sdk_privacy_info_list,
        privacy_ver=guideline.privacy_ver,
        custom_keys=custom_keys,
    )


def check_guideline(
    client: ComponentClient, guideline: Guideline, *, custom_keys: Collection[str] = ()
) -> None:
    """Run every local check :func:`write_guideline` would, without sending anything (a dry
    run flags what a write would refuse, e.g. ``"Userinfo"`` for WeChat's ``UserInfo``).

    Raises:
        InvalidArgumentError: naming the field path, e.g. ``setting_list[0].privacy_key``.
    """
    set_privacy_body(
        owner_setting=guideline.owner_setting,
        setting_list=guideline.setting_list,
        sdk_privacy_info_list=guideline.sdk_privacy_info_list,
        privacy_ver=guideline.privacy_ver,
        official_keys=client.official_privacy_keys,
        custom_keys=frozenset(custom_keys),
    )


async def run_apply_template(
    client: ComponentClient,
    template: Template,
    *,
    yes: bool = False,
    keep_existing: bool = False,
    concurrency: int = 16,
    echo: Callable[[str], object] | None = None,
) -> ApplyResult:
    """Apply ``template`` to every authorizer's development version.

    Lists the authorizers (their listed refresh tokens stored by
    :meth:`ComponentClient.store_listed_refresh_tokens`), reads with ``getprivacysetting``
    (``privacy_ver=2``) concurrently and, with ``yes``, writes with ``setprivacysetting``.
    Authorizers that cannot be read, whose new guideline would be invalid, or whose write fails
    are listed in ``errors``.

    Args:
        client: the platform's client.
        template: from :func:`load_template`.
        yes: write the changes (else only plan them).
        keep_existing: keep the purposes already declared.
        concurrency: reads in flight.
        echo: called with each line of the report (each authorizer's diff, the keys the
            template has no purpose for); nothing is reported when ``None``.

    Raises:
        WxPrivacyError: the authorizers could not be listed (credentials, ticket, network).
    """
    say = echo if echo is not None else (lambda line: None)
    result = ApplyResult()

    async def appids() -> AsyncIterator[str]:
        async for item in client.iter_authorizers(store_refresh_tokens=True):
            yield item.authorizer_appid

    results = client.iter_privacy_settings(appids(), 2, concurrency=concurrency)
    async for appid, setting in results:
        result.total += 1
        if isinstance(setting, WxPrivacyError):
            result.errors[appid] = f"read failed: {setting}"
            continue
        plan = plan_template(setting, template, keep_existing=keep_existing)
        if plan.missing_purpose:
            result.missing_purpose[appid] = plan.missing_purpose
            say(f"{appid}: no purpose in the template for {', '.join(plan.missing_purpose)}")
        if not plan.diff:
            result.unchanged += 1
            continue
        say(f"{appid}:")
        for line in plan.diff:
            say(line)
        try:
            set_privacy_body(
                owner_setting=plan.owner_setting,
                setting_list=plan.setting_list,
                sdk_privacy_info_list=setting.sdk_privacy_info_list,
                privacy_ver=2,
            )
        except InvalidArgumentError as exc:
            result.errors[appid] = f"cannot write: {exc}"
            continue
        result.changed += 1
        if yes:
            try:
                await client.set_privacy_setting(
                    appid,
                    owner_setting=plan.owner_setting,
                    setting_list=plan.setting_list,
                    sdk_privacy_info_list=setting.sdk_privacy_info_list,
                )
            except WxPrivacyError as exc:
                result.errors[appid] = f"write failed: {exc}"
                continue
            result.written += 1
    return result
