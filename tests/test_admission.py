"""The admission line (issue 11 §1): at most ``4 × max_connections`` calls inside a client, the
rest waiting first come first served within ``call_timeout``; cancellation at random moments
leaves no slot taken. Random schedules: how many calls, when each is cancelled, how long WeChat
takes."""

from __future__ import annotations

import asyncio
import gc
import random
from collections import Counter

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from wxprivacy import AccessToken, ComponentClient, MemoryTokenStore, PrivacySetting, TransportError

C = "wx0000000000000000"
APPIDS = [f"wx{i:016x}" for i in range(8)]
BODY = {"errcode": 0, "errmsg": "ok", "code_exist": 1}


async def _client(delay: float, *, call_timeout: float = 30.0) -> tuple[ComponentClient, list[int]]:
    inside = [0, 0]  # now, peak (requests the server is answering)

    async def answer(_request: httpx.Request) -> httpx.Response:
        inside[0] += 1
        inside[1] = max(inside[1], inside[0])
        try:
            await asyncio.sleep(delay)
        finally:
            inside[0] -= 1
        return httpx.Response(200, json=BODY)

    store = MemoryTokenStore()
    for appid in APPIDS:
        await store.set_authorizer_tokens(C, appid, AccessToken("token-" + appid, 4e9), "r")
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = ComponentClient(C, "secret", http_client=http, token_store=store,
                             max_connections=1, call_timeout=call_timeout)  # fmt: skip
    return client, inside


@settings(max_examples=40, deadline=None)
@given(
    calls=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    delay=st.sampled_from([0.0, 0.001, 0.005]),
)
def test_random_cancellations_leave_no_slot_taken(calls: int, seed: int, delay: float) -> None:
    async def run() -> None:
        rng = random.Random(seed)
        client, inside = await _client(delay)
        tasks = [asyncio.create_task(client.get_privacy_setting(rng.choice(APPIDS)))
                 for _ in range(calls)]  # fmt: skip
        for task in tasks:
            if rng.random() < 0.5:
                for _ in range(rng.randrange(4)):
                    await asyncio.sleep(0)
                task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(o, PrivacySetting | asyncio.CancelledError) for o in outcomes)
        assert inside[1] <= 4  # never more than 4 x max_connections inside the client
        assert client._admission.in_use == 0 and client._admission.waiting == 0
        assert isinstance(await client.get_privacy_setting(APPIDS[0]), PrivacySetting)
        await client.aclose()

    asyncio.run(run())


async def test_calls_in_line_past_their_deadline_fail_typed_and_unsent() -> None:
    client, inside = await _client(5.0, call_timeout=0.2)
    started = asyncio.get_running_loop().time()
    outcomes = await asyncio.gather(
        *(client.get_privacy_setting(APPIDS[i % 8]) for i in range(20)), return_exceptions=True
    )
    assert asyncio.get_running_loop().time() - started < 3.0  # nobody waited past its deadline
    assert all(isinstance(o, TransportError) for o in outcomes), outcomes
    in_line = [o for o in outcomes if "waiting for a free connection" in str(o)]
    assert len(in_line) >= 12  # 4 admitted at most; a slot freed at the deadline may admit one
    assert all(o.maybe_sent is False for o in in_line)  # type: ignore[union-attr]
    assert inside[1] <= 4
    assert client._admission.in_use == 0 and inside[0] == 0
    await client.aclose()


async def test_a_call_waiting_in_line_holds_few_objects_and_then_completes() -> None:
    """What the garbage collector walks for each call in line (a burst of 100,000 walks it
    100,000 times at every full collection): its task, the two coroutines and the future it
    waits on; no closure cells (a frame defining a closure holds one per captured variable from
    its first line). Counted, not timed; the calls then complete with their own results."""
    client, _ = await _client(0.0)
    taken = 0
    while client._admission.try_take():  # every slot is busy: the next calls wait in line
        taken += 1
    calls = 200
    gc.collect()
    before = Counter(type(o).__name__ for o in gc.get_objects())
    tasks = [asyncio.create_task(client.get_privacy_setting(APPIDS[i % 8])) for i in range(calls)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert client._admission.waiting == calls
    gc.collect()
    held = Counter(type(o).__name__ for o in gc.get_objects()) - before
    assert held["cell"] == 0, held
    # the task (with its context and its weak reference in asyncio's registry), the coroutines
    # of get_privacy_setting and of the call, the future in line, its iterator and the wake-up
    assert sum(held.values()) <= 9 * calls, held
    for _ in range(taken):
        client._admission.release()
    results = await asyncio.gather(*tasks)
    assert all(r == PrivacySetting(code_exist=True) for r in results)
    assert len({id(r) for r in results}) == calls  # each call its own result
    assert client._admission.in_use == 0 and client._admission.waiting == 0
    await client.aclose()


async def test_a_call_in_flight_holds_no_closure_cells_and_each_gets_its_answer() -> None:
    """What a call holds while WeChat answers lives through collections of the young
    generations and is promoted to the oldest one, whose growth starts full collections: the
    admitted call carries its arguments in one object, not a closure (a cell per captured
    variable, a function and a coroutine of its own). Counted, not timed."""
    gate = asyncio.Event()
    gate.set()

    async def answer(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        appid = "wx" + request.url.params["access_token"].removeprefix("token-wx")
        return httpx.Response(200, json={**BODY, "privacy_list": [appid]})

    store = MemoryTokenStore()
    for appid in APPIDS:
        await store.set_authorizer_tokens(C, appid, AccessToken("token-" + appid, 4e9), "r")
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = ComponentClient(C, "secret", http_client=http, token_store=store)
    await client.get_privacy_setting(APPIDS[0])  # warm: nothing created once stays behind
    gate.clear()
    gc.collect()
    before = Counter(type(o).__name__ for o in gc.get_objects())
    tasks = [asyncio.create_task(client.get_privacy_setting(APPIDS[i % 8])) for i in range(40)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert client._admission.in_use == 40  # every call is in flight, none in line
    gc.collect()
    held = Counter(type(o).__name__ for o in gc.get_objects()) - before
    assert held["cell"] == 0, held
    gate.set()
    results = await asyncio.gather(*tasks)
    assert [r.privacy_list for r in results] == [(APPIDS[i % 8],) for i in range(40)]
    await client.aclose()
    await http.aclose()
