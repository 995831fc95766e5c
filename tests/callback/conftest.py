"""Fixtures for the callback tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from callback_helpers import AES_KEY, APPID, TOKEN, VECTOR_NOW, VECTOR_WINDOW, FakeTarget

from wxprivacy.callback import CallbackHandler, MessageCrypto


@pytest.fixture
def crypto() -> MessageCrypto:
    return MessageCrypto(TOKEN, AES_KEY, APPID)


@pytest.fixture
def target() -> FakeTarget:
    return FakeTarget()


@pytest.fixture
def make_handler(target: FakeTarget, crypto: MessageCrypto) -> Callable[..., CallbackHandler]:
    def make(**kwargs: Any) -> CallbackHandler:
        kwargs.setdefault("crypto", crypto)
        # the recorded vectors are signed between 1700000000 and 1700003600
        kwargs.setdefault("clock", lambda: VECTOR_NOW)
        kwargs.setdefault("max_age", VECTOR_WINDOW)
        return CallbackHandler(target, **kwargs)

    return make
