"""The one cattrs converter: JSON values <-> :mod:`wxprivacy.models`, by the rules they declare.

The converter knows no model by name. It reads each model's declaration (see
:mod:`wxprivacy._coerce`): a field's :class:`~wxprivacy._coerce.Wire` rule, or else the rule of
its type; the ``extras`` field; the :class:`~wxprivacy._coerce.ResponseBody` marker. So a new
model needs no change here. The rules every model shares:

* keys match case-insensitively and ignoring surrounding white space (``privacy_Desc``,
  ``"contact_qq "``), and a field's aliases name it too (``contact_WeChat`` means
  ``contact_weixin``). When two keys name the same field, the exact official spelling wins and
  the other is kept in ``extras``;
* keys a model does not know are kept, with their raw values, in its ``extras``; the envelope
  (``errcode``/``errmsg``) at the top level of a response body is dropped;
* ``null`` or a missing key gives the field's default, computed by the model's own constructor
  (a plain value, an ``attrs.Factory``, one that takes ``self``); for a required field it is an
  error. Hooks never take ``null``: they refuse it, and the object is structured again without
  its null keys (so bodies without nulls, the usual case, pay nothing for the rule);
* anything of the wrong type raises :class:`~wxprivacy._keys.WireError` (a
  :class:`ResponseFormatError`) whose ``field_path`` names the field, e.g.
  ``setting_list[2].privacy_key``.

Speed: each model gets one generated structure function, which sets the fields of a bare
instance as the attrs constructor would (cattrs' generated function, which calls the constructor
with a dict of keywords, for models whose constructor does more). When every key of an object is
already canonical (the usual case) it runs directly on the decoded dict; only otherwise are the
keys folded first. A list of plain string records that repeats (``privacy_desc_list``, WeChat's
catalogue) is remembered; a list of usual ones (every field given, each a plain string) is built
in one generated loop (:class:`_Records`, :func:`_shared_tuples`). Equal records, equal tuples
of them and of strings, and the SDK's models made of such values are one shared instance across
answers (:func:`_interned`, :func:`_shared_tuples`, ``keyed`` in :func:`_direct_structure_fns`;
never a caller's model): fewer objects for the garbage collector while a batch keeps its
answers. Errors are located after the fact, so the happy path carries no bookkeeping.

Request bodies come from the same ``unstructure``, kept to the fields a request sends
(:class:`Send`, :func:`unstructure_request`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import chain
from operator import attrgetter
from types import MemberDescriptorType
from typing import Any, Final, TypeVar, cast

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._coerce import (
    Hook,
    ResponseBody,
    as_tuple,
    int_in,
    model_tuple_hook,
    optional_int_in,
    optional_model_hook,
    required_int_in,
    rule_of,
    str_in,
    str_tuple_in,
)
from ._errors import ResponseFormatError
from ._keys import EXTRAS_KEY, KeyFolder, WireError, describe, fold_key

__all__ = [
    "Send",
    "build_converter",
    "converter",
    "structure",
    "structure_response",
    "unstructure",
    "unstructure_request",
]

T = TypeVar("T")
Batch = Callable[[Any], "tuple[Any, ...] | None"]

#: Hooks of the field types that need no rule of their own.
_TYPE_HOOKS: Final[Mapping[Any, Hook]] = {
    str: str_in,
    int: int_in,
    int | None: optional_int_in,
    tuple[str, ...]: str_tuple_in,
}
_JUST_DICT: Final = frozenset({dict})
_JUST_STR: Final = frozenset({str})
#: The class of ``attrs.Factory`` defaults (typed as a function by attrs).
_FACTORY: Final = cast(type, attrs.Factory)
#: The shortest list of string records worth remembering.
_BATCH_MIN: Final = 4
#: Distinct records of one string-record model remembered at most (:func:`_interned`).
_INTERNED_MAX: Final = 4096


def _fields(cls: Any) -> tuple[attrs.Attribute[Any], ...]:
    """The attrs fields of ``cls`` with their annotations resolved to types."""
    attrs.resolve_types(cls)
    return tuple(attrs.fields(cls))


def _optional_of(typ: Any) -> Any:
    args: tuple[Any, ...] = getattr(typ, "__args__", ())
    if len(args) == 2 and type(None) in args:
        return args[0] if args[1] is type(None) else args[1]
    return None


def _tuple_item(typ: Any) -> Any:
    """The model of a ``tuple[Model, ...]`` type, else ``None``."""
    args: tuple[Any, ...] = getattr(typ, "__args__", ())
    if getattr(typ, "__origin__", None) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0] if attrs.has(args[0]) else None
    return None


def _keep(value: Any, _: Any) -> Any:
    return value


def _plain_hook(conv: cattrs.Converter, typ: Any) -> Hook:
    """cattrs' structuring of ``typ`` (a caller's field: nested model, list, dict, number...),
    its refusals turned into :class:`WireError` so the caller gets a ResponseFormatError naming
    the field."""
    if attrs.has(typ):
        return conv.get_structure_hook(typ)  # keys folded, extras kept, like the SDK's models

    def plain(value: Any, _: Any = None) -> Any:
        try:
            return conv.structure(value, typ)
        except (ValueError, TypeError, KeyError, cattrs.BaseValidationError):
            name = getattr(typ, "__name__", None) or str(typ)
            raise WireError(f"expected {name}, got {describe(value)}") from None

    return plain


class _HookFactory:
    """The structure and unstructure hook factories of one converter.

    Args:
        conv: the converter the hooks are registered on.
        fast: use the fast paths (canonical keys, whole string-record lists, the remembered
            list); ``False`` gives the reference converter the tests compare against.
    """

    def __init__(self, conv: cattrs.Converter, *, fast: bool) -> None:
        self._conv = conv
        self._fast = fast
        # The remembered list of each string-record model, for the hooks of its lists.
        self._batches: dict[type, Batch] = {}
        # Models whose equal instances are one shared instance (_interned, or keyed): the
        # tuples of their items can be shared by identity too.
        self._shareable: set[type] = set()
        # The shared records of each string-record model (_interned).
        self._records: dict[type, _Records] = {}

    # ------------------------------------------------------------------------- structure

    def _field_hook(self, cls: type, field: attrs.Attribute[Any]) -> Hook:
        """The field's own rule, else the rule of its type."""
        rule = rule_of(field)
        if rule.structure is not None:
            return rule.structure
        typ = field.type
        if typ is int and field.default is attrs.NOTHING:
            return required_int_in  # blank is 0 only in a field with a default
        hook = _TYPE_HOOKS.get(typ)
        if hook is not None:
            return (
                _shared_tuples(hook, of_items=False)
                if self._fast and hook is str_tuple_in
                else hook
            )
        item = _tuple_item(typ)
        if item is not None:
            item_hook = self._conv.get_structure_hook(item)  # registers its batch, if any
            if item not in self._shareable:
                return model_tuple_hook(item_hook, item)
            # equal items are one instance (_interned, or keyed): so can their tuples be
            batch = self._batches.get(item)
            return _shared_tuples(
                model_tuple_hook(item_hook, item),
                of_items=True,
                batch=batch,
                records=self._records.get(item),
            )
        inner = _optional_of(typ)
        if inner is not None and attrs.has(inner):
            nested = self._conv.get_structure_hook(inner)
            # the fast hooks ignore their type argument: called directly, one call fewer
            return nested if self._fast else optional_model_hook(nested, inner)
        if cls.__module__.split(".", 1)[0] != "wxprivacy":
            # a caller's model (ComponentClient.call(model=...)): cattrs' own rules for the type
            return _plain_hook(self._conv, typ)
        raise TypeError(
            f"{cls.__name__}.{field.name}: no wire rule for {typ!r}; give the field one "
            "with attrs.field(metadata=wire(...))"
        )

    def structure_hook(self, cls: type[T]) -> Callable[[Any, Any], T]:
        """Build the structure hook of one model: fast path, key folding, error location."""
        fields = _fields(cls)
        extras = next((f.name for f in fields if rule_of(f).extras), None)
        hooks = {f.name: self._field_hook(cls, f) for f in fields if f.name != extras}
        overrides = {name: override(struct_hook=hook) for name, hook in hooks.items()}
        if extras is not None:
            overrides[extras] = override(rename=EXTRAS_KEY, struct_hook=_keep)
        drop = cls.envelope if issubclass(cls, ResponseBody) else frozenset()
        aliases = {alias: f.name for f in fields for alias in rule_of(f).aliases}
        folder = KeyFolder(hooks, aliases=aliases, drop=drop)
        fast_keys = frozenset(hooks) | drop if self._fast else frozenset()
        direct = None
        shareable = self._fast and _may_share(cls, fields, extras)
        records = (  # a model of string fields: its records are shared as read (_interned)
            shareable and bool(hooks) and not aliases and all(h is str_in for h in hooks.values())
        )
        if self._fast:
            listed = [f for f in fields if f.name != extras]
            keyed = None if records or not shareable else self._keyed(listed, hooks)
            direct = _direct_structure_fns(cls, fields, hooks, extras, fast_keys, keyed=keyed)
            if direct is not None and keyed is not None:
                self._shareable.add(cls)
        gen = (
            direct[0]
            if direct is not None
            else make_dict_structure_fn(
                cls,
                self._conv,
                _cattrs_forbid_extra_keys=False,
                _cattrs_detailed_validation=False,
                **cast("dict[str, Any]", overrides),
            )
        )
        required = frozenset(f.name for f in fields if f.default is attrs.NOTHING)
        bare_list = next((f.name for f in fields if rule_of(f).bare_list), None)

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
                if bare_list is not None and type(obj) in (list, tuple):
                    obj = {bare_list: obj}
                elif isinstance(obj, Mapping):
                    obj = dict(obj)
                else:
                    raise WireError(f"expected an object, got {describe(obj)}")
            data = obj if obj.keys() <= fast_keys else folder.fold(obj)
            try:
                return gen(data)
            except (WireError, KeyError):
                pass  # a hook refused a null, a required key is missing, or a value is wrong
            if None in data.values():  # null means the default: leave it to the constructor
                data = {k: v for k, v in data.items() if v is not None or k in required}
            try:
                return gen(data)
            except WireError:
                raise locate(data) from None
            except KeyError as exc:
                raise WireError("required key is missing", [exc.args[0]]) from None

        structure_model.__name__ = f"structure_{cls.__name__}"
        entry: Callable[[Any, Any], T] = structure_model
        if direct is not None:
            # the usual case in one call: a dict with canonical keys, built at once; anything
            # else (or any failure) goes to structure_model, which starts over
            entry = direct[1]
            entry.__globals__["__slow"] = structure_model
        if records:
            records_of = _interned(cls, tuple(hooks), entry, structure_model, folder.fold)
            self._records[cls] = records_of
            entry = records_of.one
            self._batches[cls] = _list_memo(cls, entry)
            self._shareable.add(cls)
        return entry

    def _keyed(
        self, listed: list[attrs.Attribute[Any]], hooks: Mapping[str, Hook]
    ) -> tuple[bool, ...] | None:
        """How to key a frozen model's instances for sharing (:func:`_direct_structure_fns`):
        per field, ``False`` by value (a string field) or ``True`` by identity (a tuple of
        shared items); ``None`` (not shared) when any field is of another kind, or when no
        field is such a tuple (a model of strings alone is shared as read: :func:`_interned`)."""
        kinds = []
        for field in listed:
            if hooks[field.name] is str_in:
                kinds.append(False)
            elif _tuple_item(field.type) in self._shareable:
                kinds.append(True)
            else:
                return None
        return tuple(kinds) if any(kinds) else None

    # ------------------------------------------------------------------------- unstructure

    def unstructure_hook(self, cls: type[Any]) -> Callable[[Any], Any]:
        """Build the unstructure hook of one model: official keys, wire forms, extras merged."""
        overrides: dict[str, Any] = {}
        extras = None
        for field in _fields(cls):
            rule = rule_of(field)
            if rule.extras:
                overrides[field.name] = override(omit=True)
                extras = attrgetter(field.name)
            elif rule.unstructure is not None:
                overrides[field.name] = override(unstruct_hook=rule.unstructure)
        gen = make_dict_unstructure_fn(cls, self._conv, **overrides)

        def unstructure_model(obj: Any) -> dict[str, Any]:
            out: dict[str, Any] = gen(obj)
            if None in out.values():
                out = {key: value for key, value in out.items() if value is not None}
            if extras is not None:
                for key, value in extras(obj).items():
                    out.setdefault(key, value)
            return out

        unstructure_model.__name__ = f"unstructure_{cls.__name__}"
        return unstructure_model


def _may_share(cls: type, fields: tuple[attrs.Attribute[Any], ...], extras: str | None) -> bool:
    """Whether equal instances of ``cls`` may be one shared instance: only the SDK's own
    models, frozen and compared by value, whose fields hold what their hooks give (no converter
    but :func:`as_tuple`) and whose ``extras`` default is a value. A caller's model
    (``ComponentClient.call(model=...)``) is never shared: it may compare by identity, or
    convert a string into something mutable."""
    if cls.__module__.split(".", 1)[0] != "wxprivacy" or "__eq__" not in vars(cls):
        return False
    if not attrs.inspect(cls).is_frozen:
        return False
    for field in fields:
        convert: object = field.converter
        if convert is not None and convert is not as_tuple:
            return False
        if field.name == extras and isinstance(field.default, _FACTORY):
            return False
    return True


class _Shared(dict[tuple[Any, ...], T]):
    """A table of shared values by key: at most :data:`_INTERNED_MAX`, and it starts over when
    full (a fleet's repeated values are found again at once; distinct ones never pile up)."""

    __slots__ = ()

    def keep(self, key: tuple[Any, ...], value: T) -> T:
        """Remember ``value`` under ``key`` and return it."""
        if len(self) >= _INTERNED_MAX:
            self.clear()
        self[key] = value
        return value


def _interned(
    cls: type[T],
    names: tuple[str, ...],
    hook: Callable[[Any, Any], T],
    slow: Callable[[Any, Any], T],
    fold: Callable[[dict[str, Any]], dict[str, Any]],
) -> _Records:
    """Share the records of a frozen model of string fields (``SettingItem``...): equal records
    give one shared instance.

    A fleet's guidelines repeat the same records (a provider sets one template on many Mini
    Programs; ``setting_list`` items differ in a few dozen ways over thousands of answers).
    Every instance a batch keeps is one more object for the garbage collector to walk, each
    time it runs, for as long as the batch lasts; a shared one costs nothing more.

    A record is remembered by its values in field order (``None`` for an absent key: the
    field's default) when its values are all plain strings and its keys are the fields' names,
    as given or once folded (``fold``: one other spelling per field). The instance is then a
    function of those values alone, frozen, with the shared empty ``extras``: sharing it is
    invisible but to ``is``. Anything else is built every time: by ``hook`` for other values
    (nulls, numbers, ``str`` subclasses), by ``slow`` (the model's ``structure_model``) for
    unknown keys or a field spelled twice. At most :data:`_INTERNED_MAX` records are remembered
    per model; the table starts over when full.

    Returns the model's :class:`_Records`: its hook (``one``) and the code that recognises a
    record whose keys are exactly the fields' names, each a plain string (``match``), which
    :func:`_shared_tuples` inlines in its loop over a list.
    """
    fields = frozenset(names)
    table: _Shared[T] = _Shared()
    remembered = table.get

    def interned(obj: Any, _: Any = None) -> T:
        if type(obj) is not dict:
            return slow(obj, cls)
        if not obj.keys() <= fields:
            folded = fold(obj)  # other spellings (a whole list has one: the fold is planned)
            if not folded.keys() <= fields:
                return slow(obj, cls)  # unknown keys, or a field spelled twice: extras
            obj = folded
        if not _JUST_STR.issuperset(map(type, obj.values())):
            return hook(obj, cls)  # nulls, numbers, str subclasses...: built (and checked)
        key = tuple(map(obj.get, names))
        shared = remembered(key)
        return table.keep(key, hook(obj, cls)) if shared is None else shared

    records = _Records(cls, names, hook, table)
    # the usual record (every field given, plain strings) without a call per check
    source = [
        "def one(o, _=None):",
        *records.match("    ", "return s"),
        "    return __general(o, _)",
    ]
    scope = records.scope(__general=interned)
    exec(compile("\n".join(source), f"<wxprivacy record {cls.__qualname__}>", "exec"), scope)  # noqa: S102 - generated from the model's own declaration
    records.one = scope["one"]
    records.one.__name__ = f"interned_{cls.__name__}"
    return records


class _Records:
    """The shared instances of one frozen model of string fields (:func:`_interned`).

    Attributes:
        cls: the model.
        names: its fields but ``extras``, in order: a record's key is its values in this order.
        table: the shared instances by key.
        one: the model's structure hook (set by :func:`_interned`).
    """

    def __init__(
        self,
        cls: type,
        names: tuple[str, ...],
        hook: Callable[[Any, Any], Any],
        table: _Shared[Any],
    ) -> None:
        self.cls, self.names, self.table = cls, names, table
        self._hook = hook
        self.one: Hook = hook

    def scope(self, **more: Any) -> dict[str, Any]:
        """The names :meth:`match`'s lines use, with ``more``."""
        return {
            "__rget": self.table.get,
            "__rkeep": self.table.keep,
            "__rbuild": self._hook,
            "__rcls": self.cls,
            **more,
        }

    def match(self, indent: str, then: str) -> list[str]:
        """Lines (at ``indent``) that, when ``o`` is a dict whose keys are exactly the fields'
        names and whose values are plain strings, bind ``s`` to its shared instance and run
        ``then``; otherwise they fall through."""
        values = [f"v{i}" for i in range(len(self.names))]
        checks = " and ".join(f"type({v}) is str" for v in values)
        return [
            f"{indent}if type(o) is dict and len(o) == {len(self.names)}:",
            *(
                f"{indent}    {v} = o.get({name!r})"
                for v, name in zip(values, self.names, strict=True)
            ),
            f"{indent}    if {checks}:",
            f"{indent}        k = ({', '.join(values)},)",
            f"{indent}        s = __rget(k)",
            f"{indent}        if s is None:",
            f"{indent}            s = __rkeep(k, __rbuild(o, __rcls))",
            f"{indent}        {then}",
        ]


def _shared_tuples(
    hook: Hook, *, of_items: bool, batch: Batch | None = None, records: _Records | None = None
) -> Hook:
    """Wrap the hook of a tuple field so that equal tuples give one shared tuple.

    For the same reason as :func:`_interned`: ``privacy_list`` and ``setting_list`` repeat
    across a fleet's answers, and a tuple a batch keeps is one more object for the garbage
    collector. ``of_items=False``: a tuple of strings (``privacy_list``), remembered by its
    value. ``of_items=True``: a tuple of string-record instances (``setting_list``), remembered
    by the identities of its items, which :func:`_interned` shares; the table holds the tuple,
    so an identity it is keyed by cannot be reused while the entry lasts, and a tuple of items
    built anew (unknown keys...) is simply not found; ``batch`` (the model's remembered list,
    :func:`_list_memo`) is tried first. With ``records`` (the items' :class:`_Records`), a list
    whose every item is a usual record is built in one loop, without a call per item; any
    other list goes to ``hook``. At most :data:`_INTERNED_MAX` tuples per field; the table
    starts over when full.
    """
    table: _Shared[tuple[Any, ...]] = _Shared()
    remembered = table.get

    def shared(value: Any, _: Any = None) -> tuple[Any, ...]:
        if batch is not None and type(value) is list:
            done = batch(value)
            if done is not None:
                return done  # the remembered list's tuple: shared already
        built: tuple[Any, ...] = hook(value, _)
        key = tuple(map(id, built)) if of_items else built
        kept = remembered(key)
        return table.keep(key, built) if kept is None else kept

    shared.__name__ = f"shared_{getattr(hook, '__name__', 'tuple')}"
    if records is None or not of_items:
        return shared
    source = [
        "def shared(value, _=None):",
        "    if type(value) is list:",
        *(
            []
            if batch is None
            else [
                f"        if len(value) >= {_BATCH_MIN}:",
                "            done = __batch(value)",
                "            if done is not None:",
                "                return done",
            ]
        ),
        "        out = []",
        "        for o in value:",
        *records.match("            ", "out.append(s); continue"),
        "            break",
        "        else:",
        "            built = tuple(out)",
        "            key = tuple(map(__id, built))",
        "            kept = __tget(key)",
        "            return __tkeep(key, built) if kept is None else kept",
        "    built = __hook(value, _)",  # other items (or not a list): one by one, errors located
        "    key = tuple(map(__id, built))",
        "    kept = __tget(key)",
        "    return __tkeep(key, built) if kept is None else kept",
    ]
    scope = records.scope(
        __batch=batch, __hook=hook, __id=id, __tget=remembered, __tkeep=table.keep
    )
    name = f"<wxprivacy records {records.cls.__qualname__}>"
    exec(compile("\n".join(source), name, "exec"), scope)  # noqa: S102 - generated from the model's own declaration
    fast: Hook = scope["shared"]
    fast.__name__ = shared.__name__
    return fast


def _list_memo(cls: type[T], item_hook: Hook) -> Batch:
    """Build the remembered list of a frozen model of string fields (``PrivacyDescItem``...).

    ``privacy_desc_list`` is WeChat's fixed catalogue of privacy keys, the same in every
    getprivacysetting answer: comparing it with the last one (in C) is cheaper than building it
    again. The memo keeps a shallow copy of the raw items and the instances built from them
    (frozen, so shared safely), as one tuple, so a reader never sees a copy paired with
    another's result. A list is remembered the second time in a row it is seen (the first
    sighting is only noted, uncopied): lists that differ every time (``setting_list``) then
    pay one failed comparison, not a copy. Only lists of objects whose values are all strings
    and whose items have no two keys of one folded spelling are remembered (nor models with
    aliases): an equal list (dict equality ignores key order) then has the same keys in every
    item and always builds the same instances, where two spellings of one field would fold by
    their order. ``None`` means
    "not remembered": the items are built one by one by the model's own hook.
    """
    memo: tuple[list[Any] | None, tuple[T, ...]] = (None, ())
    noted: list[Any] | None = None  # the last list not remembered (only compared with)

    def batch(items: Any) -> tuple[T, ...] | None:
        nonlocal memo, noted
        if len(items) < _BATCH_MIN:
            return None  # its fixed cost does not pay for a few items
        seen, built = memo
        if items == seen:
            return built
        if items != noted:
            noted = items  # seen once: remembered if the next list equals it
            return None
        noted = None
        if not set(map(type, items)) <= _JUST_DICT:
            return None
        if not set(map(type, chain.from_iterable(map(dict.values, items)))) <= _JUST_STR:
            return None
        for item in items:  # two spellings of one field fold by key order, which list
            if len(set(map(fold_key, item))) != len(item):  # equality ignores: not remembered
                return None
        copy = list(map(dict, items))  # the raw items: a mixed-case list matches too
        try:
            result = tuple([item_hook(item, cls) for item in copy])
        except WireError:
            return None  # the items one by one raise it again, with the index
        memo = (copy, result)
        return result

    return batch


def _direct_structure_fns(
    cls: type[T],
    fields: tuple[attrs.Attribute[Any], ...],
    hooks: Mapping[str, Hook],
    extras: str | None,
    fast_keys: frozenset[str],
    *,
    keyed: tuple[bool, ...] | None = None,
) -> tuple[Callable[[Mapping[str, Any]], T], Callable[[Any, Any], T]] | None:
    """Build what cattrs' generated function does for ``cls`` — each present key through its
    hook, then the constructor — without the constructor's keyword dict: a bare instance whose
    fields are set one by one as attrs' ``__init__`` sets them (defaults, ``attrs.Factory``
    defaults that do not take ``self``, and converters applied alike). A ``str_in`` field takes
    a string without a call. ``None`` for a class whose constructor does more than that
    (validators, ``__attrs_pre_init__``/``__attrs_post_init__``, a cached hash, ``init=False``
    fields, a converter or factory that takes ``self``, its own ``__setattr__``): cattrs'
    function is used then.

    Returns ``(build, hook)``. ``build(data)``, like cattrs' function, raises ``KeyError`` for
    a missing required key and lets a hook's :class:`WireError` through (``structure_model``
    handles both). ``hook(obj, type)`` is the model's structure hook: the same code inlined for
    a dict whose keys are all in ``fast_keys``, and for anything else, or on any failure, the
    global ``__slow`` (the caller sets it to ``structure_model``, which starts over).

    With ``keyed`` (per field other than ``extras``: ``False`` a string, ``True`` a tuple of
    shared items; ``SdkPrivacyInfo``, and ``PrivacyDesc``, which holds WeChat's catalogue: the
    same remembered tuple in every answer), an instance without ``extras`` of its own is remembered
    by its field values, the tuples by identity (the table holds them, so an identity cannot be
    reused while the entry lasts): an equal one later gives that instance back. At most
    :data:`_INTERNED_MAX` per model; the table starts over when full.
    """
    props = attrs.inspect(cls)
    if (
        not props.added_init
        or props.hashability is attrs.ClassProps.Hashability.HASHABLE_CACHED
        or hasattr(cls, "__attrs_pre_init__")
        or hasattr(cls, "__attrs_post_init__")
        or not (props.is_frozen or cls.__setattr__ is object.__setattr__)
    ):
        return None
    names: dict[str, Any] = {"__new": object.__new__, "__cl": cls}
    lines = ["def build(o):"]
    for index, field in enumerate(fields):
        if field.validator is not None or not field.init:
            return None
        convert = field.converter
        if convert is not None and (isinstance(convert, attrs.Converter) or not callable(convert)):
            return None
        default: Any = field.default
        is_factory = isinstance(default, _FACTORY)
        if is_factory and default.takes_self:
            return None
        key = EXTRAS_KEY if field.name == extras else field.name
        hook = _keep if field.name == extras else hooks[field.name]
        names[f"__h{index}"], names[f"__t{index}"] = hook, field.type
        names[f"__s{index}"] = _setter(cls, field.name)
        if hook is str_in:
            value = f"v if type(v) is str else __h{index}(v, __t{index})"
        else:
            value = f"__h{index}(v, __t{index})"
        if default is attrs.NOTHING:
            fallback = None
        elif is_factory:
            names[f"__f{index}"] = default.factory
            fallback = f"__f{index}()"
        else:
            names[f"__d{index}"] = default
            fallback = f"__d{index}"
        if convert is as_tuple:  # a tuple as is (what the tuple hooks give): no call
            names[f"__c{index}"] = convert
            value = f"t if type(t := {value}) is tuple else __c{index}(t)"
            fallback = None if fallback is None else f"__c{index}({fallback})"
        elif convert is not None:
            names[f"__c{index}"] = convert
            value = f"__c{index}({value})"
            fallback = None if fallback is None else f"__c{index}({fallback})"
        if fallback is None:  # required: a missing key raises KeyError, as cattrs' function
            lines += [f"    v = o[{key!r}]", f"    x{index} = {value}"]
        else:
            lines += [
                f"    if {key!r} in o:",
                f"        v = o[{key!r}]",
                f"        x{index} = {value}",
                "    else:",
                f"        x{index} = {fallback}",
            ]
    if keyed is not None:
        listed = [i for i, f in enumerate(fields) if f.name != extras]
        parts = [
            f"__id(x{i})" if by_id else f"x{i}" for i, by_id in zip(listed, keyed, strict=True)
        ]
        own = [i for i, f in enumerate(fields) if f.name == extras]
        names.update(__id=id, __table=_Shared())
        lines.append(f"    if {f'x{own[0]} is __d{own[0]}' if own else 'True'}:")
        lines += [f"        key = ({', '.join(parts)},)", "        kept = __table.get(key)"]
        lines += ["        if kept is not None:", "            return kept", "    else:"]
        lines.append("        key = None")
    lines.append("    inst = __new(__cl)")
    lines += [f"    __s{index}(inst, x{index})" for index in range(len(fields))]
    if keyed is not None:
        lines += ["    if key is not None:", "        __table.keep(key, inst)"]
    lines.append("    return inst")
    names["__fast"], names["__WireError"] = fast_keys, WireError
    lines += [
        "def hook(o, _=None):",
        "    if type(o) is dict and o.keys() <= __fast:",
        "        try:",
        *("        " + line for line in lines[1:]),
        "        except (__WireError, KeyError):",
        "            pass",
        "    return __slow(o, _)",
    ]
    source = "\n".join(lines)
    exec(compile(source, f"<wxprivacy structure {cls.__qualname__}>", "exec"), names)  # noqa: S102 - generated from the model's own declaration
    return names["build"], names["hook"]


def _setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """Set attribute ``name`` of a ``cls`` instance past a frozen ``__setattr__``, as attrs'
    constructor does: through the slot's descriptor (one C call), else ``object.__setattr__``."""
    for klass in cls.__mro__:
        slot = klass.__dict__.get(name)
        if isinstance(slot, MemberDescriptorType):
            return slot.__set__
    set_attr = object.__setattr__
    return lambda instance, value: set_attr(instance, name, value)


def build_converter(*, fast: bool = True) -> cattrs.Converter:
    """Build a converter whose hooks follow the models' wire rules.

    Args:
        fast: use the fast paths; ``False`` builds the reference converter of the tests.
    """
    conv = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)
    factory = _HookFactory(conv, fast=fast)
    conv.register_structure_hook_factory(attrs.has, factory.structure_hook)
    conv.register_unstructure_hook_factory(attrs.has, factory.unstructure_hook)
    return conv


#: The one converter, built at import time. Hooks are generated on first use of each model.
converter: Final[cattrs.Converter] = build_converter()


def structure(data: Any, cls: type[T]) -> T:
    """Turn decoded JSON (from :func:`wxprivacy._json.loads`) into a model by its wire rules.

    Args:
        data: a JSON object (any mapping) for the model; a list for a model with a
            ``bare_list`` field (:class:`~wxprivacy.models.PrivacyDesc`).
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
    """Turn a model back into JSON values with the official keys.

    ``extras`` are merged back in, fields with a rule are written in their wire form
    (``update_time`` as Unix seconds, 0 when ``None``; ``code_exist`` as 1/0), fields that are
    ``None`` are left out and tuples become lists. ``structure(unstructure(x), type(x)) == x``
    for every model from :func:`structure`.

    Args:
        model: an instance of one of :mod:`wxprivacy.models`.

    Returns:
        A new dict of JSON values.
    """
    result: dict[str, Any] = converter.unstructure(model)
    return result


@attrs.frozen
class Send:
    """The fields of one model that a request body holds, in the order they are written.

    Attributes:
        always: written whenever they are not ``None``.
        when_set: written only when not empty (not ``None``, ``""``, 0 or an empty list): for
            WeChat an empty value there means "leave unchanged".
    """

    always: tuple[str, ...]
    when_set: tuple[str, ...] = ()


def unstructure_request(model: Any, fields: Mapping[type, Send]) -> dict[str, Any]:
    """Write ``model`` as a request body: :func:`unstructure`, kept to the fields it sends.

    ``extras`` and fields not listed (response-only ones such as ``privacy_label``) are never
    sent; nested models are kept to their own lists.

    Args:
        model: the request, an attrs instance.
        fields: for the request's class and every model nested in it, what it sends.

    Raises:
        TypeError: a model inside the request has no entry in ``fields``.
    """
    return _keep_fields(model, unstructure(model), fields)


def _keep_fields(model: Any, data: dict[str, Any], fields: Mapping[type, Send]) -> dict[str, Any]:
    send = fields.get(type(model))
    if send is None:
        raise TypeError(f"{type(model).__name__} is not part of this request")
    out: dict[str, Any] = {}
    for name in send.always + send.when_set:
        value = data.get(name)
        if value is None or (not value and name in send.when_set):
            continue
        inner = getattr(model, name)
        if attrs.has(type(inner)):
            value = _keep_fields(inner, value, fields)
        elif isinstance(inner, tuple) and any(attrs.has(type(item)) for item in inner):
            value = [
                _keep_fields(item, sub, fields) for item, sub in zip(inner, value, strict=True)
            ]
        out[name] = value
    return out
