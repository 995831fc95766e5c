"""The admission line (issue 11 §1): at most ``4 × max_connections`` calls inside a client, the
rest waiting first come first served within ``call_timeout``; cancellation at random moments
leaves no slot taken. Random schedules: how many calls, when each is cancelled, how long WeChat
takes."""

from __future__ import annotations

import asyncio
import random

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
