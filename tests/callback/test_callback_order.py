"""Issue 9 §3: callback pushes replayed, duplicated, late and out of order.

A real ComponentClient and CallbackHandler against the emulator (which signs and encrypts its
pushes with its own clock). The store keeps, per authorizer, the CreateTime of the newest event
applied and the ids of applied pushes, so the outcome is that of WeChat's order, whatever the
delivery order.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from clock import FakeClock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wxprivacy import ComponentClient, MemoryTokenStore, WeChatAPIError
from wxprivacy.callback import DEFAULT_MAX_AGE, CallbackHandler, StaleMessageError
from wxprivacy.emulator import CallbackPush, Emulator

QA = "/cgi-bin/component/api_query_auth"
APPID = "wx1234567890abcdef"
DAY = 86_400.0


class Setup:
    """An emulator, a client on a memory store, and a handler, all on one settable clock."""

    def __init__(self, emu: Emulator, client: ComponentClient, clock: FakeClock) -> None:
        self.emu, self.client, self.clock = emu, client, clock
        self.store = client.token_store
        self.handler = CallbackHandler(client, emu.callback_crypto, clock=clock)

    async def deliver(self, push: CallbackPush) -> str:
        return await self.handler.handle(push.query, push.body)

    def push_at(self, at: float, make: Any, *args: Any, **kwargs: Any) -> CallbackPush:
        """Build a push as WeChat would have at time ``at``."""
        now, self.clock.now = self.clock.now, at
        try:
            return make(*args, **kwargs)  # type: ignore[no-any-return]
        finally:
            self.clock.now = now

    def fail_once(self, method: str) -> None:
        """Make the store's ``method`` raise once (the endpoint then answers HTTP 500)."""
        real = getattr(self.store, method)

        async def fails_once(*args: Any, **kwargs: Any) -> bool:
            setattr(self.store, method, real)
            raise RuntimeError("simulated store outage: the endpoint answers HTTP 500")

        setattr(self.store, method, fails_once)

    async def stored_refresh(self) -> str | None:
        return await self.store.get_refresh_token(self.emu.component_appid, APPID)


async def _setup() -> AsyncIterator[Setup]:
    clock = FakeClock(1_800_000_000.0)
    emu = Emulator(clock=clock, seed=5)
    http = httpx.AsyncClient(transport=emu.transport())
    client = ComponentClient(
        emu.component_appid,
        emu.component_appsecret,
        http_client=http,
        token_store=MemoryTokenStore(clock=clock),
        clock=clock,
    )
    await client.set_component_verify_ticket(emu.component_verify_ticket)
    try:
        yield Setup(emu, client, clock)
    finally:
        await client.aclose()
        await http.aclose()


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    async for made in _setup():
        yield made


async def test_the_replay_window_is_on_by_default(setup: Setup) -> None:
    assert setup.handler.max_age == DEFAULT_MAX_AGE == 300
    assert await setup.deliver(setup.emu.authorized_push(APPID)) == "success"
    current = await setup.stored_refresh()
    assert current == setup.emu.refresh_token(APPID)
    # a genuine unauthorized push signed a day ago: refused, and the refresh token survives
    old_unauthorized = setup.push_at(setup.clock.now - DAY, setup.emu.push_event, "unauthorized")
    with pytest.raises(StaleMessageError):
        await setup.deliver(old_unauthorized)
    assert await setup.stored_refresh() == current
    # a ticket push two days old never replaces the current ticket
    ticket = await setup.store.get_verify_ticket(setup.emu.component_appid)
    old_ticket = setup.push_at(setup.clock.now - 2 * DAY, setup.emu.ticket_push)
    with pytest.raises(StaleMessageError):
        await setup.deliver(old_ticket)
    assert await setup.store.get_verify_ticket(setup.emu.component_appid) == ticket


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(age=st.floats(min_value=-3 * DAY, max_value=3 * DAY, allow_nan=False))
async def test_any_push_outside_the_window_changes_nothing(age: float) -> None:
    async for setup in _setup():
        # stored without an event, so no watermark makes the push below stale
        setup.emu.authorize(APPID)
        await setup.client.set_authorizer_refresh_token(APPID, setup.emu.refresh_token(APPID))
        current = await setup.stored_refresh()
        assert current is not None
        push = setup.push_at(
            setup.clock.now - age, setup.emu.push_event, "unauthorized", AuthorizerAppid=APPID
        )
        if abs(round(age)) > DEFAULT_MAX_AGE + 1:
            with pytest.raises(StaleMessageError):
                await setup.deliver(push)
            assert await setup.stored_refresh() == current
        elif abs(age) < DEFAULT_MAX_AGE - 1:
            assert await setup.deliver(push) == "success"
            assert await setup.stored_refresh() is None


async def test_a_late_retry_of_an_older_revocation_is_ignored(setup: Setup) -> None:
    """The issue's case: unauthorized (t-30) fails once with HTTP 500; authorized (t-10) stores
    new tokens; WeChat's retry of the t-30 unauthorized arrives last and changes nothing."""
    t = setup.clock.now
    await setup.deliver(setup.push_at(t - 60, setup.emu.authorized_push, APPID))
    revoke = setup.push_at(t - 30, setup.emu.unauthorized_push, APPID)
    setup.fail_once("delete_authorizer")
    with pytest.raises(RuntimeError):
        await setup.deliver(revoke)
    await setup.deliver(setup.push_at(t - 10, setup.emu.authorized_push, APPID))
    fresh = await setup.stored_refresh()
    assert fresh == setup.emu.refresh_token(APPID)
    assert await setup.deliver(revoke) == "success"  # acknowledged ...
    assert await setup.stored_refresh() == fresh  # ... and ignored
    setup.emu.expire_tokens()
    assert await setup.client.authorizer_access_token(APPID)  # the chain still works


async def test_a_repeated_authorized_push_is_acknowledged_and_not_applied_twice(
    setup: Setup,
) -> None:
    push = setup.emu.authorized_push(APPID)
    assert await setup.deliver(push) == "success"
    stored = await setup.stored_refresh()
    for _ in range(3):  # WeChat re-sends it (its code is used by now)
        assert await setup.deliver(push) == "success"
    assert setup.emu.calls[QA] == 1
    assert await setup.stored_refresh() == stored == setup.emu.refresh_token(APPID)


async def test_events_of_the_same_second_apply_in_arrival_order(setup: Setup) -> None:
    t = setup.clock.now
    await setup.deliver(setup.push_at(t, setup.emu.authorized_push, APPID))
    await setup.deliver(setup.push_at(t, setup.emu.unauthorized_push, APPID))
    assert await setup.stored_refresh() is None
    await setup.deliver(setup.push_at(t, setup.emu.authorized_push, APPID))
    assert await setup.stored_refresh() == setup.emu.refresh_token(APPID)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(["authorized", "unauthorized"]), min_size=0, max_size=5).map(
        lambda rest: ["authorized", *rest]
    ),
    copies=st.lists(st.integers(min_value=1, max_value=3), min_size=6, max_size=6),
    order_seed=st.integers(min_value=0, max_value=2**32 - 1),
)
async def test_any_delivery_order_ends_as_wechat_ordered_it(
    kinds: list[str], copies: list[int], order_seed: int
) -> None:
    """Events at increasing CreateTimes, each delivered 1-3 times, in a random order, a push the
    endpoint failed (HTTP 500) being delivered again later as WeChat does: the store ends as the
    newest event left it."""
    async for setup in _setup():
        t = setup.clock.now - 100
        pushes = []
        for i, kind in enumerate(kinds):
            make = (
                setup.emu.authorized_push if kind == "authorized" else setup.emu.unauthorized_push
            )
            pushes.append(setup.push_at(t + 10 * i, make, APPID))
        last_refresh = setup.emu.refresh_token(APPID)
        deliveries = [p for p, n in zip(pushes, copies, strict=False) for _ in range(n)]
        random.Random(order_seed).shuffle(deliveries)
        failures = 0
        while deliveries:
            push = deliveries.pop(0)
            try:
                assert await setup.deliver(push) == "success"
            except WeChatAPIError:
                # e.g. the code of an authorization the owner has revoked since: HTTP 500, and
                # WeChat delivers it again later
                failures += 1
                assert failures < 50
                deliveries.append(push)
        if kinds[-1] == "authorized":
            assert await setup.stored_refresh() == last_refresh
        else:
            assert await setup.stored_refresh() is None


@pytest.mark.parametrize("fails", ["set_authorizer_tokens", "event_seen_after"])
async def test_a_push_whose_tokens_were_not_stored_is_recovered_on_redelivery(
    setup: Setup, fails: str
) -> None:
    """Found by the randomized schedules: the code exchange worked but the store failed, so the
    push was answered 500; WeChat re-sends it, but its code is used now (61010). The re-delivery
    stores the current refresh token from api_get_authorizer_info instead of failing forever."""
    push = setup.emu.authorized_push(APPID)
    setup.fail_once("set_authorizer_tokens")
    with pytest.raises(RuntimeError):
        await setup.deliver(push)
    assert await setup.stored_refresh() is None
    assert await setup.deliver(push) == "success"
    assert await setup.stored_refresh() == setup.emu.refresh_token(APPID)
    assert await setup.deliver(push) == "success"  # and once applied, it is just acknowledged
    if fails == "event_seen_after":
        # an older push's code is used too, but a newer event was applied: nothing is stored
        older = setup.push_at(setup.clock.now - 60, setup.emu.authorized_push, APPID)
        current = setup.emu.refresh_token(APPID)
        assert await setup.deliver(setup.emu.authorized_push(APPID)) == "success"
        newest = await setup.stored_refresh()
        assert newest == setup.emu.refresh_token(APPID) != current
        assert await setup.deliver(older) == "success"
        assert await setup.stored_refresh() == newest
