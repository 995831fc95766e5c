"""Key folding for the converter in :mod:`wxprivacy._converter`, its path-carrying error, and
the read-only mapping that holds what folding sets aside.

WeChat's English doc pages spell keys as ``privacy_Desc``, ``Notice_method``, ``contact_WeChat``
or ``"contact_qq "``; the live API uses lower snake_case. :class:`KeyFolder` maps any of these to
the official name and sets aside what it cannot place, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from ._checks import shown
from ._errors import ResponseFormatError
from ._redact import redact

__all__ = [
    "EXTRAS_KEY",
    "KeyFolder",
    "ReadOnlyMapping",
    "WireError",
    "describe",
    "fold_key",
    "format_path",
]

#: The key under which folded data hands ``extras`` to a generated structure function. A JSON
#: key can never collide with it unnoticed: it is not canonical, so such a key lands in extras.
EXTRAS_KEY: Final = "\x00extras"

_MAX_PLANS: Final = 256


def describe(value: Any) -> str:
    """Name the JSON kind of ``value`` for an error message ("object", "array", "string"...).

    A string is quoted (40 characters at most) after :func:`~wxprivacy._redact.redact`; a
    ``str`` subclass (refused where a plain string is expected) is named as such.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {value!r}".lower()
    if isinstance(value, int | float):
        return f"number {shown(value)}"
    if isinstance(value, str):
        text = redact(str.__str__(value))  # before the cut: a token cut in two is still found
        text = text if len(text) <= 40 else text[:37] + "..."
        kind = "string" if type(value) is str else f"{type(value).__name__} (a str subclass)"
        return f"{kind} {text!r}"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def format_path(path: Iterable[str | int]) -> str:
    """Render path segments as ``setting_list[2].privacy_key`` (``""`` for the root)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


class WireError(ResponseFormatError):
    """A value that does not fit its field; the path grows as the error travels up.

    Raised by the converter's hooks. :func:`wxprivacy._converter.structure` re-raises it as a plain
    :class:`ResponseFormatError`; code calling the converter directly still catches it as one.

    Attributes:
        problem: what is wrong, without the path.
        path: the segments leading to the value, outermost first (names and list indices).
    """

    def __init__(self, problem: str, path: Iterable[str | int] = ()) -> None:
        self.problem = problem
        self.path: list[str | int] = list(path)
        super().__init__(problem)

    @property
    def field_path(self) -> str | None:
        """The rendered path, e.g. ``setting_list[2].privacy_key``; ``None`` at the root."""
        return format_path(self.path) or None

    @field_path.setter
    def field_path(self, value: str | None) -> None:
        """Ignore the base class's assignment: the path is kept as segments."""

    def __str__(self) -> str:
        where = self.field_path
        return f"{where}: {self.problem}" if where else self.problem


def fold_key(key: str) -> str:
    """The form keys are compared in: surrounding white space stripped, lower case."""
    return key.strip().lower()


class ReadOnlyMapping(Mapping[str, Any]):
    """A read-only mapping (the type of ``extras`` built by the converter).

    Unlike :class:`types.MappingProxyType` it survives ``pickle`` and ``copy.deepcopy``, so models
    holding it do too. It compares equal to any mapping with the same items and is not hashable.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        self._data: Final[dict[str, Any]] = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReadOnlyMapping):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))


class KeyFolder:
    """Map the keys of one JSON object onto a model's official field names.

    Keys are compared after :func:`fold_key` (white space stripped, lower case), and a field's
    aliases (``contact_WeChat`` for ``contact_weixin``) name it too. When two keys name the same
    field, the exact official spelling wins, else the first one seen; the loser is kept in extras
    under its original key. Keys in ``drop`` (after folding) are removed.

    Args:
        names: the official field names of the model.
        aliases: other spellings of a field's key, mapped to the field's name.
        drop: folded keys to discard (the response envelope at the top level).
    """

    def __init__(
        self,
        names: Iterable[str],
        *,
        aliases: Mapping[str, str] | None = None,
        drop: Iterable[str] = (),
    ) -> None:
        table = {name: name for name in names}
        for name in list(table):
            table.setdefault(fold_key(name), name)
        for alias, target in (aliases or {}).items():
            table.setdefault(fold_key(alias), target)
        self._table: Final[dict[str, str]] = table
        self._drop: Final[frozenset[str]] = frozenset(drop)
        # Key order -> canonical names, for key sets that only need renaming. Odd-case bodies
        # repeat one spelling per list, so a plan is reused for every item.
        self._plans: dict[tuple[Any, ...], tuple[str, ...] | None] = {}

    def plan(self, keys: tuple[Any, ...]) -> tuple[str, ...] | None:
        """Return the canonical name of each key when folding is a pure rename, else ``None``.

        Args:
            keys: the keys of one object, in order.
        """
        try:
            return self._plans[keys]
        except KeyError:
            pass
        plan = self._make_plan(keys)
        if len(self._plans) < _MAX_PLANS:
            self._plans[keys] = plan
        return plan

    def _make_plan(self, keys: tuple[Any, ...]) -> tuple[str, ...] | None:
        names = []
        for key in keys:
            name = self._table.get(key)
            if name is None and type(key) is str:
                name = self._table.get(fold_key(key))
            if name is None:
                return None
            names.append(name)
        return tuple(names) if len(set(names)) == len(names) else None

    def fold(self, obj: Mapping[Any, Any]) -> dict[str, Any]:
        """Return ``obj`` with official keys; unplaced keys go under :data:`EXTRAS_KEY`.

        Args:
            obj: a decoded JSON object.

        Returns:
            A new dict; ``EXTRAS_KEY`` maps to a :class:`ReadOnlyMapping` when anything was set
            aside.
        """
        plan = self.plan(tuple(obj))
        if plan is not None:
            return dict(zip(plan, obj.values()))  # noqa: B905 - same length by construction
        table = self._table
        out: dict[str, Any] = {}
        source: dict[str, Any] = {}
        extras: dict[Any, Any] = {}
        for key, value in obj.items():
            name = table.get(key)
            if name is None and type(key) is str:
                folded = fold_key(key)
                name = table.get(folded)
                if name is None and folded in self._drop:
                    continue
            if name is None:
                extras[key] = value
                continue
            if name not in source:
                out[name] = value
                source[name] = key
            elif key == name:
                extras[source[name]] = out[name]
                out[name] = value
                source[name] = key
            else:
                extras[key] = value
        if extras:
            out[EXTRAS_KEY] = ReadOnlyMapping(extras)
        return out
