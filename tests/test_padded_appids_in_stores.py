"""Issue 13 §2, the stores: an appid with white space anywhere is refused on every write, with
its ``repr`` in the message (before: ``MemoryTokenStore`` stored ``" wx0123456789abcdef"``
silently, under a key nobody looks up)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wxprivacy import AccessToken, InvalidArgumentError, MemoryTokenStore

GOOD = "wx0123456789abcdef"
SPACES = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()] + ["\x00", "\u200b"]


def padded() -> st.SearchStrategy[str]:
    """``GOOD`` with white space (or an invisible character) before, inside or after it."""
    return st.tuples(st.sampled_from(SPACES), st.integers(0, len(GOOD))).map(
        lambda pair: GOOD[: pair[1]] + pair[0] + GOOD[pair[1] :]
    )


async def writes(store: Any, component: str, authorizer: str) -> None:
    token = AccessToken("t", 4e9)
    if component != GOOD:
        with pytest.raises(InvalidArgumentError) as caught:
            await store.set_verify_ticket(component, "ticket", 43200)
        assert repr(component) in str(caught.value)
    for write in (
        lambda: store.set_refresh_token(component, authorizer, "r"),
        lambda: store.set_authorizer_tokens(component, authorizer, token, "r"),
    ):
        with pytest.raises(InvalidArgumentError) as caught:
            await write()
        bad = component if component != GOOD else authorizer
        assert repr(bad) in str(caught.value)


@settings(max_examples=60, deadline=None)
@given(appid=padded(), which=st.sampled_from(["component", "authorizer"]))
async def test_the_memory_store_refuses_padded_appids(appid: str, which: str) -> None:
    store = MemoryTokenStore()
    if which == "component":
        await writes(store, appid, GOOD)
    else:
        await writes(store, GOOD, appid)
    assert await store.export_refresh_tokens(GOOD) == {}


@settings(max_examples=30, deadline=None)
@given(appid=padded())
async def test_the_redis_store_refuses_padded_appids(appid: str) -> None:
    from wxprivacy.redis import RedisTokenStore

    class NoRedis:  # never reached: the check comes first
        def register_script(self, script: str) -> Any:
            return None

        connection_pool = None

    store = RedisTokenStore(NoRedis())  # type: ignore[arg-type]
    for call in (
        lambda: store.set_refresh_token(GOOD, appid, "r"),
        lambda: store.set_verify_ticket(appid, "ticket", 43200),
    ):
        with pytest.raises(InvalidArgumentError) as caught:
            await call()
        assert repr(appid) in str(caught.value)
