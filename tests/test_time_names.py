"""One rule for times across the public surface (``docs/concepts.md``, "Times").

- ``*_at`` and ``*_until`` are instants on the SDK's clock: ``float`` Unix seconds.
- ``*_time`` fields are instants WeChat reports: aware UTC ``datetime`` (``None`` for "never").
- Where WeChat's ``*_time`` value goes on to a token store (``EventStamp``) or onto the wire (the
  emulator's arguments), it stays WeChat's ``int`` Unix seconds.

The test reads the annotations of every public class, attrs field, method and function, so a new
name that breaks the rule fails here with its place.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import inspect
import sys
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest

MODULES = [
    "wxprivacy",
    "wxprivacy.models",
    "wxprivacy.callback",
    "wxprivacy.doctor",
    "wxprivacy.redis",
    "wxprivacy.report",
    "wxprivacy.audit",
    "wxprivacy.guidelines",
    "wxprivacy.paths",
    "wxprivacy.emulator",
]

FLOAT = {float, float | None}
DATETIME = {dt.datetime, dt.datetime | None}
WIRE_INT = {int, int | None}
#: Where WeChat's ``*_time`` value is handed on as WeChat sent it: to a token store, which
#: persists and compares it (``EventStamp``), or onto the wire (the emulator's arguments).
WIRE_SIDE = ("wxprivacy.EventStamp", "wxprivacy.emulator")


def _public(module_name: str) -> Iterator[tuple[str, Any]]:
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", []):
        yield f"{module_name}.{name}", getattr(module, name)


def _hints(obj: Callable[..., Any] | type) -> dict[str, Any]:
    """The resolved annotations of ``obj``. Where one cannot be resolved at run time (a name
    imported under ``TYPE_CHECKING``), the others are resolved one by one; the unresolvable one
    is kept as its string, so a time-like name there still fails the rule."""
    try:
        return typing.get_type_hints(obj)
    except NameError:
        pass
    return _resolved(getattr(obj, "__annotations__", {}), sys.modules[obj.__module__])


def _resolved(annotations: dict[str, Any], module: Any) -> dict[str, Any]:
    """Each annotation evaluated in ``module``, or kept as its string when a name is missing."""
    hints: dict[str, Any] = {}
    for name, text in annotations.items():
        try:
            hints[name] = eval(text, vars(module)) if isinstance(text, str) else text  # noqa: S307
        except NameError:
            hints[name] = text
    return hints


def _module_constants() -> Iterator[tuple[str, str, Any]]:
    """(module, name, annotation) of every annotated public module-level name."""
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        public = set(getattr(module, "__all__", []))
        for name, hint in _hints_of_module(module).items():
            if name in public:
                yield module_name, name, hint


def _hints_of_module(module: Any) -> dict[str, Any]:
    hints = _resolved(getattr(module, "__annotations__", {}), module)
    return {name: _final_inner(hint) for name, hint in hints.items()}


def _final_inner(hint: Any) -> Any:
    """``Final[int]`` is an ``int`` for the rule."""
    if typing.get_origin(hint) is typing.Final:
        return typing.get_args(hint)[0]
    return hint


def _named_times() -> Iterator[tuple[str, str, Any]]:
    """(place, name, annotation) of every time-like name on the public surface: fields,
    class annotations, parameters, and a method's or property's return under its own name."""
    yield from _module_constants()
    seen: set[int] = set()
    for module_name in MODULES:
        for place, obj in _public(module_name):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isclass(obj):
                for klass in obj.__mro__:
                    if klass.__module__.startswith("wxprivacy"):
                        for name, hint in _hints(klass).items():
                            yield place, name, hint
                for attr, member in inspect.getmembers(obj):
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if isinstance(member, property):
                        function = member.fget
                    elif isinstance(member, functools.cached_property):
                        function = member.func
                    elif inspect.ismethod(member):  # a classmethod, bound to the class
                        function = member.__func__
                    else:
                        function = member
                    if not inspect.isfunction(function) or not function.__module__.startswith(
                        "wxprivacy"
                    ):
                        continue
                    if (inspect.getdoc(function) or "").startswith("Deprecated"):
                        continue  # an old name kept working, pointing to the new one
                    hints = _hints(function)
                    for name, hint in hints.items():
                        if name != "return":
                            yield f"{place}.{attr}", name, hint
                    if "return" in hints:
                        yield f"{place}.{attr}", attr, hints["return"]
            elif inspect.isfunction(obj) or inspect.ismethod(obj):
                hints = _hints(obj)
                for name, hint in hints.items():
                    yield place, name if name != "return" else obj.__name__, hint


def _is_instant(name: str) -> bool:
    name = name.lower()  # a constant too: LAST_FETCHED_AT
    return name.endswith(("_at", "_until")) or name == "until"


def test_the_rule_sees_the_names_it_is_about() -> None:
    names = {(place.removeprefix("wxprivacy."), name) for place, name, _ in _named_times()}
    for owner, name in [
        ("AccessToken", "expires_at"),
        ("AccessToken", "refresh_at"),
        ("PrivacySetting", "update_time"),
        ("AuthorizerListItem", "auth_time"),
        ("PrivacyInterface", "apply_time"),
        ("ComponentVerifyTicketEvent", "create_time"),
        ("QuotaStore.hold", "until"),
        ("QuotaStore.held_until", "held_until"),
        ("MinuteQuotaExceededError", "retry_at"),
        ("emulator.Emulator.add_authorizer", "auth_time"),
    ]:
        assert any(place.endswith(owner) and n == name for place, n in names), (owner, name)


def test_every_public_time_follows_the_rule() -> None:
    broken = []
    for place, name, hint in _named_times():
        if _is_instant(name) and hint not in FLOAT:
            broken.append(f"{place}: {name}: {hint} (an instant on the clock is float seconds)")
        elif name.lower().endswith("_time"):
            wanted = WIRE_INT if place.startswith(WIRE_SIDE) else DATETIME
            if hint not in wanted:
                broken.append(f"{place}: {name}: {hint} (wanted {wanted})")
    assert broken == []


@pytest.mark.parametrize("now", [0.0, 1_700_000_030.0, 1_700_000_059.999, 4_102_444_800.5])
def test_minute_quota_retry_at_is_float_seconds_on_the_same_clock(now: float) -> None:
    from wxprivacy import MinuteQuotaExceededError
    from wxprivacy._errors import error_for

    err = error_for(45011, "api minute-quota reach limit", rid=None, endpoint="/x", now=now)
    assert isinstance(err, MinuteQuotaExceededError)
    assert type(err.retry_at) is float
    assert err.retry_at % 60 == 0 and now < err.retry_at <= now + 60
    assert err.retry_at == pytest.approx(now + err.retry_after)


def test_the_old_refresh_name_still_works_with_a_warning() -> None:
    from wxprivacy import AccessToken

    token = AccessToken("value", 1_000.0)
    with pytest.warns(DeprecationWarning, match="with_refresh_margin"):
        old = token.with_refresh_time(0.0, 300.0)
    assert old == token.with_refresh_margin(0.0, 300.0)
    assert old.refresh_at == 700.0
