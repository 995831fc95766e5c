"""The CLI runs on uvloop's event loop when uvloop is installed, and on asyncio's otherwise."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest

from wxprivacy.cli import _output


class _Loop(asyncio.SelectorEventLoop):
    """Stands in for uvloop's loop (uvloop is an optional extra, not installed for the tests)."""


def _fake_uvloop() -> types.ModuleType:
    module = types.ModuleType("uvloop")
    module.new_event_loop = _Loop  # type: ignore[attr-defined]
    return module


async def _loop_class() -> type:
    return type(asyncio.get_running_loop())


def test_uvloop_is_used_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", _fake_uvloop())
    monkeypatch.delenv("WXPRIVACY_UVLOOP", raising=False)
    assert _output.run(_loop_class()) is _Loop


def test_uvloop_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", _fake_uvloop())
    monkeypatch.setenv("WXPRIVACY_UVLOOP", "0")
    assert _output.run(_loop_class()) is not _Loop


def test_without_uvloop_asyncio_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import fails: not installed
    monkeypatch.delenv("WXPRIVACY_UVLOOP", raising=False)
    assert _output.loop_factory() is None
    assert issubclass(_output.run(_loop_class()), asyncio.AbstractEventLoop)
