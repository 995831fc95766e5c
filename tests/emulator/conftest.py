"""Fixtures for the emulator tests: a fake clock, a seeded emulator, and a by-hand caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from wxprivacy.emulator import Emulator

from ._support import BASE_URL, FakeClock, WeChat


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Emulator:
    return Emulator(authorizers=40, seed=7, clock=clock)


@pytest.fixture
async def wx(emu: Emulator) -> AsyncIterator[WeChat]:
    async with httpx.AsyncClient(transport=emu.transport(), base_url=BASE_URL) as http:
        yield WeChat(emu, http)


@pytest.fixture
def pick(emu: Emulator) -> Callable[[str], str]:
    """``pick(profile)``: the first seeded authorizer with that seeding profile."""

    def first(profile: str) -> str:
        return next(a for a in emu.authorizer_appids if emu.profile(a) == profile)

    return first
