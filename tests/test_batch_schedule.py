"""The batch runner under random schedules: every key once, bounded, nothing lost or leaked.

``as_completed_bounded`` runs keys on a few workers instead of one task per key (the speed issue);
these properties hold for any input, any concurrency, any mix of results, slow consumers and
early closes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

from hypothesis import given, settings
from hypothesis import strategies as st

from wxprivacy import MinuteQuotaExceededError, WxPrivacyError
from wxprivacy._batch import DEFAULT_MAX_REQUEUES, as_completed_bounded, gather_bounded

OUTCOMES = ("ok", "error", "quota_once", "quota_always", "crash")


class Work:
    """The work of a scheduled batch: each key's outcome is in its name (``k3-quota_once``), its
    duration random (a few loop steps, sometimes a short sleep); counts what the batch did."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.attempts: dict[str, int] = {}
        self.running = 0
        self.peak = 0
        self.cancelled: list[str] = []

    async def delay(self) -> None:
        for _ in range(self.rng.randrange(3)):
            await asyncio.sleep(0)
        if self.rng.random() < 0.2:
            await asyncio.sleep(self.rng.uniform(0, 0.002))

    async def __call__(self, key: str) -> str:
        self.attempts[key] = self.attempts.get(key, 0) + 1
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await self.delay()
            kind = key.split("-", 1)[1]
            if kind == "error":
                raise WxPrivacyError(f"failed {key}")
            if kind == "crash":
                raise ValueError(f"bug {key}")
            if kind == "quota_always" or (kind == "quota_once" and self.attempts[key] == 1):
                raise MinuteQuotaExceededError(45011, "minute quota", now=0.0)
            return f"value of {key}"
        except asyncio.CancelledError:
            self.cancelled.append(key)
            raise
        finally:
            self.running -= 1

    def check(self, key: str, value: object) -> None:
        """Assert the result the batch gave for ``key``."""
        kind = key.split("-", 1)[1]
        if kind in ("ok", "quota_once"):
            assert value == f"value of {key}"
        elif kind == "quota_always":
            assert isinstance(value, MinuteQuotaExceededError)
            assert self.attempts[key] == DEFAULT_MAX_REQUEUES + 1
        else:  # a bug in work is wrapped, not raised
            assert isinstance(value, WxPrivacyError)


@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(st.sampled_from(OUTCOMES), max_size=40),
    concurrency=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    async_input=st.booleans(),
    stop_after=st.one_of(st.none(), st.integers(0, 40)),
)
def test_every_key_once_never_more_than_concurrency(
    keys: list[str], concurrency: int, seed: int, async_input: bool, stop_after: int | None
) -> None:
    asyncio.run(_schedule(keys, concurrency, seed, async_input, stop_after))


async def _schedule(
    outcomes: list[str], concurrency: int, seed: int, async_input: bool, stop_after: int | None
) -> None:
    rng = random.Random(seed)
    names = [f"k{i}-{o}" for i, o in enumerate(outcomes)]
    pulled: list[str] = []
    work = Work(rng)

    def plain():  # type: ignore[no-untyped-def]
        for name in names:
            pulled.append(name)
            yield name

    async def stream() -> AsyncIterator[str]:
        for name in names:
            await work.delay()
            pulled.append(name)
            yield name

    source = stream() if async_input else plain()
    seen: dict[str, object] = {}
    batch = as_completed_bounded(source, work, concurrency)
    async for key, value in batch:
        assert key not in seen  # each key exactly once
        seen[key] = value
        assert len(pulled) <= len(seen) + concurrency  # never more than `concurrency` ahead
        if stop_after is not None and len(seen) >= stop_after:
            break
        if rng.random() < 0.3:
            await work.delay()  # a slow consumer
    await batch.aclose()
    assert work.running == 0  # closing left nothing running
    assert work.peak <= concurrency
    if stop_after is None or stop_after >= len(names):
        assert set(seen) == set(names)
        assert not work.cancelled
    for key, value in seen.items():
        work.check(key, value)
    assert set(work.cancelled) <= set(pulled) - set(seen)  # only unfinished keys were cancelled


async def test_an_error_raised_by_the_input_is_raised_by_the_batch() -> None:
    def broken():  # type: ignore[no-untyped-def]
        yield "a"
        raise OSError("the appid file went away")

    async def work(key: str) -> str:
        await asyncio.sleep(0)
        return key

    results = []
    try:
        async for item in as_completed_bounded(broken(), work, 4):
            results.append(item)
    except OSError as exc:
        assert "went away" in str(exc)
    else:
        raise AssertionError("the input's error was swallowed")


@settings(max_examples=100, deadline=None)
@given(
    keys=st.lists(st.sampled_from(OUTCOMES), max_size=40),
    repeats=st.lists(st.integers(0, 39), max_size=5),
    concurrency=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_gather_returns_every_key_in_input_order(
    keys: list[str], repeats: list[int], concurrency: int, seed: int
) -> None:
    asyncio.run(_gather(keys, repeats, concurrency, seed))


async def _gather(outcomes: list[str], repeats: list[int], concurrency: int, seed: int) -> None:
    rng = random.Random(seed)
    names = [f"k{i}-{o}" for i, o in enumerate(outcomes)]
    given_keys = names + [names[i] for i in repeats if i < len(names)]  # repeated appids
    work = Work(rng)

    results = await gather_bounded(given_keys, work, concurrency)
    assert list(results) == names  # input order, a repeated key once
    assert work.running == 0 and work.peak <= concurrency
    for key, value in results.items():
        work.check(key, value)
