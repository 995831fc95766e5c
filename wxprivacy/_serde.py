"""The one cattrs converter: WeChat JSON values <-> :mod:`wxprivacy.models`, and the wire rules.

``loads``/``dumps`` (from :mod:`wxprivacy._json`) turn bytes into JSON values and back;
``structure``/``unstructure`` turn JSON values into models and back. The wire rules all live
here, not in the models:

* keys match case-insensitively and ignoring surrounding white space (``privacy_Desc``,
  ``"contact_qq "``); ``contact_wechat`` in any case means ``contact_weixin``. When two keys name
  the same field, the exact official spelling wins and the other is kept in ``extras``;
* keys a model does not know are kept, with their raw values, in its ``extras``;
  ``errcode``/``errmsg`` at the top level of a response model (``PrivacySetting``,
  ``PrivacyInterfaceList``, ``PreAuthCode``, ``AuthorizerDetails``, ``AuthorizationInfo``) are
  dropped (the client has read them already);
* ``null`` means "use the default"; a missing object is ``None``, a missing list ``()``;
* numbers sent as strings and the reverse are coerced where the meaning is clear
  (``"store_region": "1017"``, ``"status": "3"``, ``"audit_id": "42"``,
  ``"contact_qq": 11111111``, ``code_exist`` as 0/1/"0"/"1"/bools,
  ``update_time`` as int or numeric string); ``update_time`` 0 means never (``None``);
* ``privacy_desc`` may be a bare list of items;
* anything else of the wrong type raises :class:`ResponseFormatError` whose ``field_path`` names
  the field, e.g. ``setting_list[2].privacy_key``.

Speed: each model gets one cattrs-generated structure function. When every key of an object is
already canonical (the usual case) it runs directly on the decoded dict; only otherwise are the
keys folded first. Errors are located after the fact, so the happy path carries no bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import chain, repeat
from operator import contains, or_
from typing import Any, Final, TypeVar, cast

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import _json
from ._coerce import (
    code_exist_in,
    model_tuple_hook,
    optional_int_in,
    optional_model_hook,
    required_str_in,
    str_in,
    str_tuple_in,
    unix_seconds_in,
    unix_seconds_out,
)
from ._errors import ResponseFormatError
from ._json import loads
from ._keys import EXTRAS_KEY, KeyFolder, WireError, describe
from .models import (
    AuthorizationInfo,
    AuthorizerDetails,
    PreAuthCode,
    PrivacyDesc,
    PrivacyInterfaceList,
    PrivacySetting,
)

__all__ = [
    "converter",
    "dumps",
    "loads",
    "structure",
    "structure_response",
    "unstructure",
]

T = TypeVar("T")

#: Top-level keys of the response envelope: read by the client, never stored.
_ENVELOPE: Final = frozenset({"errcode", "errmsg"})
#: Models that are whole response bodies: their envelope keys are dropped, not kept in extras.
_RESPONSE_MODELS: Final = frozenset(
    {PrivacySetting, PrivacyInterfaceList, PreAuthCode, AuthorizerDetails, AuthorizationInfo}
)
#: Models that may arrive as a bare list, and the field that list fills.
_BARE_LIST_FIELD: Final[Mapping[type, str]] = {PrivacyDesc: "privacy_desc_list"}
_JUST_DICT: Final = frozenset({dict})
#: The shortest list of string-only records worth the whole-list fast path.
_BATCH_MIN: Final = 4
_JUST_STR: Final = frozenset({str})
#: The class of ``attrs.Factory`` defaults (typed as a function by attrs).
_FACTORY: Final = cast(type, attrs.Factory)

_Hook = Callable[[Any, Any], Any]


def _model_to_json(obj: Any) -> Any:
    if attrs.has(type(obj)):
        return unstructure(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` (JSON values, models, or a mix) as compact raw UTF-8 JSON.

    Models are written with :func:`unstructure`; see :func:`wxprivacy._json.dumps`.

    Raises:
        TypeError: ``obj`` holds something JSON cannot represent.
        InvalidArgumentError: a string holds a lone UTF-16 surrogate (the message names its path).
    """
    return _json.dumps(obj, default=_model_to_json)


# ----------------------------------------------------------------------------- the converter


def _field_hooks(cls: type, conv: cattrs.Converter) -> dict[str, _Hook]:
    """Pick the wire hook of every field of ``cls`` (except ``extras``) from its type."""
    hooks: dict[str, _Hook] = {}
    for field in _fields(cls):
        name, typ = field.name, cast(Any, field.type)
        if name == "extras":
            continue
        if typ is str:
            hooks[name] = str_in if field.default is not attrs.NOTHING else required_str_in
        elif name == "code_exist":
            hooks[name] = code_exist_in
        elif name == "update_time":
            hooks[name] = unix_seconds_in
        elif typ == (int | None):
            hooks[name] = optional_int_in
        elif typ is int:
            hooks[name] = _int_in
        elif typ == tuple[str, ...]:
            hooks[name] = str_tuple_in
        elif getattr(typ, "__origin__", None) is tuple and attrs.has(typ.__args__[0]):
            item = typ.__args__[0]
            hooks[name] = model_tuple_hook(conv.get_structure_hook(item), item)
        elif attrs.has(_optional_of(typ)):
            inner = _optional_of(typ)
            hooks[name] = optional_model_hook(conv.get_structure_hook(inner), inner)
        else:
            hooks[name] = conv.get_structure_hook(typ)
    return hooks


def _int_in(value: Any, _: Any = None) -> int:
    """An integer with a default (``status``, ``expires_in``): as ``optional_int_in``; null is 0."""
    number = optional_int_in(value)
    return 0 if number is None else number


def _fields(cls: Any) -> tuple[attrs.Attribute[Any], ...]:
    """The attrs fields of ``cls`` with their annotations resolved to types."""
    attrs.resolve_types(cls)
    return tuple(attrs.fields(cls))


def _optional_of(typ: Any) -> Any:
    args: tuple[Any, ...] = getattr(typ, "__args__", ())
    if len(args) == 2 and type(None) in args:
        return args[0] if args[1] is type(None) else args[1]
    return None


def _keep_extras(value: Any, _: Any) -> Any:
    return value


def _is_string_record(cls: type, hooks: Mapping[str, _Hook]) -> bool:
    """Whether ``cls`` is a leaf model of plain string fields built like a dict class."""
    fields = [field for field in _fields(cls) if field.name != "extras"]
    return (
        "__slots__" not in cls.__dict__
        and all(hook is str_in or hook is required_str_in for hook in hooks.values())
        and all(field.converter is None and field.validator is None for field in fields)
    )


def _string_record_batch(
    cls: type[T], fast_keys: frozenset[str], folder: KeyFolder
) -> Callable[[Any], tuple[T, ...] | None]:
    """Build the whole-list fast path of a string-only leaf model (``PrivacyDescItem``...).

    ``privacy_desc_list`` repeats the same two-string record a few dozen times, and per item the
    generated function costs more than the record itself. When every item is an object whose
    (folded) keys are canonical, whose values are all strings and which has every required key,
    there is nothing to convert or check, so the instances are built the way attrs' own
    ``__init__`` builds a frozen dict class: by filling ``__dict__`` with defaults and values.
    Only defaults that are plain values are filled in: when an item lacks a key whose default is
    an ``attrs.Factory``, the list declines too. Anything else declines (returns ``None``) and
    goes item by item through the generated function, which also reports errors.
    """
    fields = _fields(cls)
    # Only defaults that are values; an ``attrs.Factory`` (taking ``self`` or not) is computed
    # by the constructor, so a list missing such a key is declined.
    defaults = {
        f.name: f.default
        for f in fields
        if f.default is not attrs.NOTHING and not isinstance(f.default, _FACTORY)
    }
    computed = [f.name for f in fields if isinstance(f.default, _FACTORY)]
    required = [f.name for f in fields if f.default is attrs.NOTHING]
    new = object.__new__
    set_attr = object.__setattr__

    # The last list built, as a shallow copy of its raw items, and its instances (frozen, so
    # shared safely). ``privacy_desc_list`` is WeChat's fixed catalogue of privacy keys, the same
    # in every getprivacysetting answer: comparing it with the last one (in C) is cheaper than
    # building it again. One tuple, so a reader never sees a copy paired with another's result.
    memo: tuple[list[Any] | None, tuple[T, ...]] = (None, ())

    def batch(items: Any) -> tuple[T, ...] | None:
        nonlocal memo
        if len(items) < _BATCH_MIN:
            return None  # its fixed cost does not pay for a few items
        seen, built = memo
        if items == seen:
            return built
        if not set(map(type, items)) <= _JUST_DICT:
            return None
        raw = items
        if not set(chain.from_iterable(items)) <= fast_keys:
            items = folder.rename_all(items)
            if items is None:
                return None
        if not set(map(type, chain.from_iterable(map(dict.values, items)))) <= _JUST_STR:
            return None
        for name in chain(required, computed):
            if not all(map(contains, items, repeat(name))):
                return None
        # What attrs' __init__ does for a frozen dict class, for all items at once and in C:
        # a new instance each, whose __dict__ is the defaults updated with the item.
        instances = list(map(new, repeat(cls, len(items))))
        any(map(set_attr, instances, repeat("__dict__"), map(or_, repeat(defaults), items)))
        result = tuple(instances)
        memo = (list(map(dict, raw)), result)  # the raw items: a mixed-case list matches too
        return result

    return batch


def _make_structure_hook(cls: type[T], conv: cattrs.Converter) -> Callable[[Any, Any], T]:
    """Build the structure hook of one model: fast path, key folding, error location."""
    hooks = _field_hooks(cls, conv)
    gen = make_dict_structure_fn(
        cls,
        conv,
        _cattrs_forbid_extra_keys=False,
        _cattrs_detailed_validation=False,
        extras=override(rename=EXTRAS_KEY, struct_hook=_keep_extras),
        **cast(
            "dict[str, Any]", {name: override(struct_hook=hook) for name, hook in hooks.items()}
        ),
    )
    drop = _ENVELOPE if cls in _RESPONSE_MODELS else frozenset()
    folder = KeyFolder(hooks, drop=drop)
    fast_keys = frozenset(hooks) | drop
    bare_list_field = _BARE_LIST_FIELD.get(cls)

    def locate(data: Mapping[str, Any]) -> WireError:
        for name, hook in hooks.items():
            if name in data:
                try:
                    hook(data[name], None)
                except WireError as err:
                    err.path.insert(0, name)
                    return err
        return WireError(f"cannot structure {cls.__name__}")  # pragma: no cover

    def structure_model(obj: Any, _: Any) -> T:
        if type(obj) is not dict:
            if bare_list_field is not None and type(obj) in (list, tuple):
                obj = {bare_list_field: obj}
            elif isinstance(obj, Mapping):
                obj = dict(obj)
            else:
                raise WireError(f"expected an object, got {describe(obj)}")
        data = obj if obj.keys() <= fast_keys else folder.fold(obj)
        try:
            return gen(data)
        except WireError:
            raise locate(data) from None
        except KeyError as exc:
            raise WireError("required key is missing", [exc.args[0]]) from None

    structure_model.__name__ = f"structure_{cls.__name__}"
    if _is_string_record(cls, hooks):
        structure_model.batch = _string_record_batch(  # type: ignore[attr-defined]
            cls, fast_keys, folder
        )
    return structure_model


def _make_unstructure_hook(cls: type[Any], conv: cattrs.Converter) -> Callable[[Any], Any]:
    """Build the unstructure hook of one model: official keys, wire forms, extras merged back."""
    overrides = {"extras": override(omit=True)}
    names = {field.name for field in _fields(cls)}
    if "code_exist" in names:
        overrides["code_exist"] = override(unstruct_hook=int)
    if "update_time" in names:
        overrides["update_time"] = override(unstruct_hook=unix_seconds_out)
    gen = make_dict_unstructure_fn(cls, conv, **cast("dict[str, Any]", overrides))

    def unstructure_model(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = gen(obj)
        if None in out.values():
            out = {key: value for key, value in out.items() if value is not None}
        if obj.extras:
            for key, value in obj.extras.items():
                out.setdefault(key, value)
        return out

    unstructure_model.__name__ = f"unstructure_{cls.__name__}"
    return unstructure_model


def _build_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    conv.register_structure_hook_factory(attrs.has, _make_structure_hook)
    conv.register_unstructure_hook_factory(attrs.has, _make_unstructure_hook)
    return conv


#: The one converter, built at import time. Hooks are generated on first use of each model.
converter: Final[cattrs.Converter] = _build_converter()


def structure(data: Any, cls: type[T]) -> T:
    """Turn decoded JSON (from :func:`loads`) into a model, applying the wire rules.

    Args:
        data: a JSON object (any mapping) for the model; for :class:`PrivacyDesc` also a list.
        cls: the model class, e.g. :class:`~wxprivacy.models.PrivacySetting`.

    Returns:
        The model instance. Unknown keys are in ``extras`` at every level.

    Raises:
        ResponseFormatError: a value has the wrong type or a required key is missing;
            ``field_path`` names it (``setting_list[2].privacy_key``), or is ``None`` when the
            value itself is not an object.
    """
    try:
        return converter.structure(data, cls)
    except WireError as err:
        raise ResponseFormatError(str(err), field_path=err.field_path) from None


def structure_response(data: Any, cls: type[T], *, endpoint: str) -> T:
    """:func:`structure` a response from ``endpoint``; errors name the endpoint as well.

    Raises:
        ResponseFormatError: as :func:`structure`, with ``endpoint`` set.
    """
    try:
        return converter.structure(data, cls)
    except WireError as err:
        raise ResponseFormatError(
            f"{err} in the response from {endpoint}", endpoint=endpoint, field_path=err.field_path
        ) from None


def unstructure(model: Any) -> dict[str, Any]:
    """Turn a model back into JSON values with the official keys, ready for :func:`dumps`.

    ``extras`` are merged back in, ``update_time`` becomes Unix seconds (0 when ``None``),
    ``code_exist`` becomes 1/0, fields that are ``None`` are left out and tuples become lists.
    ``structure(unstructure(x), type(x)) == x`` for every model from :func:`structure`.

    Args:
        model: an instance of one of :mod:`wxprivacy.models`.

    Returns:
        A new dict of JSON values.
    """
    result: dict[str, Any] = converter.unstructure(model)
    return result
