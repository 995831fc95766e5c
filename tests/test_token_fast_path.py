"""A plain MemoryTokenStore is read without an await (the warm-token fast path of issue 10); a
subclass, like any other store, is awaited. Both must give the same results, errors and requests
whatever the state of the tokens and whatever WeChat answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from clock import FakeClock
from fakes import APPSECRET, COMPONENT_APPID, TICKET, FakeWeChat, errcode, no_sleep
from hypothesis import given, settings
from hypothesis import strategies as st

from wxprivacy import ComponentClient, MemoryTokenStore, PrivacySetting, WxPrivacyError
from wxprivacy._stores import AccessToken, Fence

APPID = "wxa000000000000000"
GP = "/cgi-bin/component/getprivacysetting"


class AwaitedStore(MemoryTokenStore):
    """The same store, but a subclass: the token manager awaits its reads (the slow path)."""

    reads = 0

    async def get_authorizer_token(self, component_appid: str, authorizer_appid: str) -> Any:
        self.reads += 1
        return await super().get_authorizer_token(component_appid, authorizer_appid)


TOKEN_STATES = ["absent", "fresh", "in_margin", "expired"]
ANSWERS = ["ok", "40001_once", "40001_twice", "61007", "no_refresh_token"]


async def scenario(
    store: MemoryTokenStore, token_state: str, answers: list[str], calls: int
) -> list[Any]:
    clock = FakeClock()
    store._clock = clock  # the store's ticket validity follows the same clock
    fake = FakeWeChat()
    client = ComponentClient(
        COMPONENT_APPID, APPSECRET, **fake.wire(), clock=clock, sleep=no_sleep, token_store=store
    )
    outcome: list[Any] = []
    async with client:
        await client.set_component_verify_ticket(TICKET)
        if "no_refresh_token" not in answers:
            await client.set_authorizer_refresh_token(APPID, "refresh-0")
        if token_state != "absent":
            expires = {"fresh": 7200.0, "in_margin": 100.0, "expired": -10.0}[token_state]
            async with store.lock(COMPONENT_APPID, f"authorizer:{APPID}") as fence:
                assert isinstance(fence, Fence)
                await store.set_authorizer_tokens(
                    COMPONENT_APPID,
                    APPID,
                    AccessToken("seeded", clock() + expires),
                    "refresh-0",
                    fence=fence,
                )
        for answer in answers:
            if answer == "40001_once":
                fake.script.setdefault(GP, []).append(errcode(40001))
            elif answer == "40001_twice":
                fake.script.setdefault(GP, []).extend([errcode(40001), errcode(40014)])
            elif answer == "61007":
                fake.script.setdefault(GP, []).append(errcode(61007))
        for _ in range(calls):
            try:
                result: Any = await client.get_privacy_setting(APPID)
                assert isinstance(result, PrivacySetting)
                outcome.append(("ok", result.update_time))
            except WxPrivacyError as exc:
                outcome.append((type(exc).__name__, getattr(exc, "errcode", None)))
            token = await store.get_authorizer_token(COMPONENT_APPID, APPID)
            outcome.append(None if token is None else token.value)
            clock.advance(3000)  # the next call may find the token inside the margin
    outcome.append(dict(fake.calls))
    return outcome


@settings(max_examples=60, deadline=None)
@given(
    token_state=st.sampled_from(TOKEN_STATES),
    answers=st.lists(st.sampled_from(ANSWERS), max_size=3),
    calls=st.integers(1, 4),
)
def test_the_fast_path_gives_what_the_awaited_store_gives(
    token_state: str, answers: list[str], calls: int
) -> None:
    awaited = AwaitedStore()
    fast = asyncio.run(scenario(MemoryTokenStore(), token_state, answers, calls))
    slow = asyncio.run(scenario(awaited, token_state, answers, calls))
    assert fast == slow
    assert awaited.reads >= calls  # the subclass really was read through its own method


def test_the_fast_path_is_taken_only_for_a_plain_memory_store() -> None:
    plain = ComponentClient(COMPONENT_APPID, APPSECRET, token_store=MemoryTokenStore())
    sub = ComponentClient(COMPONENT_APPID, APPSECRET, token_store=AwaitedStore())
    assert plain._tokens._memory is plain.token_store
    assert sub._tokens._memory is None


def test_a_warm_token_is_peeked_not_awaited() -> None:
    store = MemoryTokenStore()
    seen: list[str] = []
    peek = store._peek_authorizer_token

    def counting(component_appid: str, authorizer_appid: str) -> AccessToken | None:
        seen.append(authorizer_appid)
        return peek(component_appid, authorizer_appid)

    store._peek_authorizer_token = counting  # type: ignore[method-assign]
    outcome = asyncio.run(scenario(store, "fresh", [], 3))
    assert outcome[-1] == {GP: 3}  # no token request: the seeded token served every call
    assert seen == [APPID] * 3


@pytest.mark.parametrize("where", ["instance", "class"])
async def test_a_patched_read_of_a_plain_memory_store_is_called(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (trial of issue 10): the synchronous read took a plain MemoryTokenStore's
    token even when a test had patched ``get_authorizer_token`` (mock.patch.object), so the
    patch was never called; patched after the client was made too."""
    store = MemoryTokenStore()
    fake = FakeWeChat()
    client = ComponentClient(COMPONENT_APPID, APPSECRET, **fake.wire(), token_store=store)
    async with client:
        await client.set_component_verify_ticket(TICKET)
        await client.set_authorizer_refresh_token(APPID, "refresh-0")
        await client.get_privacy_setting(APPID)  # warm: the fast path would take it
        seen: list[str] = []
        original = MemoryTokenStore.get_authorizer_token

        async def spy(self_or_comp: Any, *args: Any) -> AccessToken | None:
            seen.append(where)
            if where == "class":
                return await original(self_or_comp, *args)
            return await original(store, self_or_comp, *args)

        if where == "instance":
            monkeypatch.setattr(store, "get_authorizer_token", spy)
        else:
            monkeypatch.setattr(MemoryTokenStore, "get_authorizer_token", spy)
        await client.get_privacy_setting(APPID)
        assert seen == [where]
        monkeypatch.undo()
        await client.get_privacy_setting(APPID)  # unpatched again: the fast path, no call
        assert seen == [where]
