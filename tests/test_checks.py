"""``wxprivacy._checks``: integer arguments are refused by name, and a refused value is quoted
bounded whatever it is (regression: ints past 4,300 digits made the message itself raise a bare
``ValueError``)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wxprivacy import ComponentClient, InvalidArgumentError, MemoryQuotaStore
from wxprivacy._checks import check_int, shown


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@given(st.integers(0, 20_000), st.booleans())
def test_shown_never_raises_and_stays_short(digits: int, negative: bool) -> None:
    value = (-1 if negative else 1) * (10**digits)
    text = shown(value)
    assert len(text) <= 60
    if value.bit_length() > 256:  # past what a message should print (and Python can, at 4,300)
        assert text == f"an int of {value.bit_length():,} bits"
    else:
        whole = repr(value)
        assert text == (whole if len(whole) <= 60 else whole[:57] + "...")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(10**4300, "an int of 14,285 bits", id="10**4300"),
        ("x" * 100, "'" + "x" * 56 + "..."),
        (BadRepr(), "a BadRepr"),
        (True, "True"),
        (1.5, "1.5"),
    ],
)
def test_shown_names_what_it_cannot_print(value: Any, expected: str) -> None:
    assert shown(value) == expected


@pytest.mark.parametrize(("sign", "digits"), [(1, 4300), (-1, 4301), (1, 100_000)])
def test_check_int_refuses_a_huge_int_with_a_typed_error(sign: int, digits: int) -> None:
    value = sign * 10**digits
    with pytest.raises(InvalidArgumentError, match="count must be an int from 1 to 500"):
        check_int("count", value, low=1, high=500)


async def test_public_arguments_refuse_huge_ints_by_name() -> None:
    """The trial's inputs: each raised ``ValueError: Exceeds the limit (4300 digits)``."""
    client = ComponentClient("wx0000000000000000", "secret")
    try:
        with pytest.raises(InvalidArgumentError, match="count"):
            await client.list_authorizers(count=10**4300)
    finally:
        await client.aclose()
    with pytest.raises(InvalidArgumentError, match="until"):
        await MemoryQuotaStore(clock=time.time).hold("wx0000000000000000", "k", 10**4300)
    with pytest.raises(InvalidArgumentError, match="max_connections .* to 65535"):
        ComponentClient("wx0000000000000000", "secret", max_connections=10**4300)


_HUGE = [("10**4300", 10**4300), ("-10**4300", -(10**4300)), ("inf", float("inf")),
         ("nan", float("nan")), ("True", True), ("1e308", 1e308), ("str", "5")]  # fmt: skip


@pytest.mark.parametrize(("label", "value"), _HUGE, ids=[label for label, _ in _HUGE])
def test_check_seconds_refuses_what_is_no_duration(label: str, value: Any) -> None:
    from wxprivacy._checks import check_seconds

    with pytest.raises(InvalidArgumentError, match="lease must be a number of seconds"):
        check_seconds("lease", value, low=0.001)


@given(st.floats(0.001, 366 * 86_400) | st.integers(1, 366 * 86_400))
def test_check_seconds_passes_every_duration_in_range(value: float) -> None:
    from wxprivacy._checks import check_seconds

    assert check_seconds("lease", value, low=0.001) == float(value)


@pytest.mark.parametrize(("label", "value"), _HUGE, ids=[label for label, _ in _HUGE])
def test_numeric_arguments_refuse_absurd_values_by_name(label: str, value: Any) -> None:
    """Re-check of the issue-12 trial: each raised a bare OverflowError/ValueError, or was
    accepted and failed later (tenacity, Redis, the emulator)."""
    from wxprivacy import RetryPolicy
    from wxprivacy.emulator import Emulator

    for build, name in [
        (lambda: RetryPolicy(initial_backoff=value), "initial_backoff"),
        (lambda: RetryPolicy(max_backoff=value), "max_backoff"),
        (lambda: RetryPolicy(max_attempts=value), "max_attempts"),
        (lambda: Emulator(authorizers=value), "authorizers"),
        (lambda: Emulator(seed=value), "seed"),
        (lambda: Emulator(token_ttl=value), "token_ttl"),
        (lambda: Emulator(grace=value), "grace"),
        (lambda: Emulator(latency=value), "latency"),
    ]:
        with pytest.raises(InvalidArgumentError, match=name):
            build()


async def test_paging_arguments_are_named_and_bounded() -> None:
    client = ComponentClient("wx0000000000000000", "secret")
    try:
        with pytest.raises(InvalidArgumentError, match="offset"):
            await client.list_authorizers(offset=10**4300)
        with pytest.raises(InvalidArgumentError, match="page_size"):
            await client.reload_refresh_tokens(page_size=0)
        with pytest.raises(InvalidArgumentError, match="concurrency"):
            await client.get_privacy_settings(["wx1111111111111111"], concurrency=10**4300)
    finally:
        await client.aclose()


@pytest.mark.parametrize("option", ["lock_lease", "lock_wait", "local_cache_ttl", "timeout"])
@pytest.mark.parametrize(
    "value", [1e308, 10**400, -(10**400), float("inf")], ids=["1e308", "10**400", "-10**400", "inf"]
)
def test_redis_store_durations_are_bounded(option: str, value: float) -> None:
    """Re-check of the issue-12 trial: ±10**400 raised OverflowError; lock_lease=1e308 was taken
    and overflowed at the first lock."""
    from wxprivacy.redis import RedisTokenStore

    with pytest.raises(InvalidArgumentError, match=option):
        RedisTokenStore.from_url("redis://127.0.0.1:1/0", **{option: value})
    with pytest.raises(InvalidArgumentError, match="max_connections"):
        RedisTokenStore.from_url("redis://127.0.0.1:1/0", max_connections=10**4300)
