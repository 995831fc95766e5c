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
