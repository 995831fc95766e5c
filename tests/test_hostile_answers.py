"""Issue 11 §4: a hostile or broken answer is one typed error, never a crash.

Mutated ``getprivacysetting`` answers (and error answers) go through the whole client over a
mock transport: the call returns a ``PrivacySetting`` or raises a ``WxPrivacyError``, nothing else
(no ``ValueError`` from 4,301-digit numbers, no ``RecursionError`` from deep nesting, no
``UnicodeError`` from lone surrogates). The cases the fault run found are examples here too.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from fixture_data import fixture_bytes
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wxprivacy import AccessToken, ComponentClient, MemoryTokenStore, PrivacySetting, WxPrivacyError

C = "wx0000000000000000"
A = "wx1111111111111111"
BASE: dict[str, Any] = json.loads(fixture_bytes("getprivacysetting_full.json"))


class Deep:
    """A value nested ``levels`` deep, written into the body as text (json.dumps would refuse)."""

    def __init__(self, levels: int, inner: str, *, as_list: bool) -> None:
        self.levels, self.inner, self.as_list = levels, inner, as_list

    def text(self) -> str:
        opening, closing = ("[", "]") if self.as_list else ('{"k":', "}")
        return opening * self.levels + json.dumps(self.inner) + closing * self.levels


def _deep(levels: int, inner: str, *, as_list: bool) -> Deep:
    return Deep(levels, inner, as_list=as_list)


HOSTILE_VALUES = st.one_of(
    st.integers(),
    st.integers(min_value=10**18, max_value=10**30),
    st.text(alphabet="0123456789", min_size=4300, max_size=4400),  # past int's digit limit
    st.sampled_from(["²", "\ud800", "1e400", "-1", " 7 ", "", "\t", "NaN"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.builds(
        _deep, st.integers(0, 1100), st.sampled_from(["\ud800", "x", "\t"]), as_list=st.booleans()
    ),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)

FIELDS = [
    "update_time",
    "store_region",
    "code_exist",
    "privacy_list",
    "setting_list",
    "owner_setting",
    "privacy_desc",
    "sdk_privacy_info_list",
    "errcode",
    "errmsg",
    "unknown_key",
]


def _body(mutations: list[tuple[str, Any]], raw_tail: bytes) -> bytes:
    body = dict(BASE)
    deep: dict[str, str] = {}
    for field, value in mutations:
        if isinstance(value, Deep):
            deep[f"@@deep-{field}@@"] = value.text()
            value = f"@@deep-{field}@@"
        body[field] = value
    text = json.dumps(body, ensure_ascii=True)
    for marker, nested in deep.items():
        text = text.replace(json.dumps(marker), nested)
    return text.encode() + raw_tail


async def _call(body: bytes) -> object:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    store = MemoryTokenStore()
    await store.set_authorizer_tokens(C, A, AccessToken("token-value", 4e9), "refresh")
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        client = ComponentClient(C, "secret", http_client=http, token_store=store)
        try:
            return await client.get_privacy_setting(A)
        except WxPrivacyError as exc:
            str(exc), repr(exc)  # the message itself must be buildable
            return exc


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    mutations=st.lists(st.tuples(st.sampled_from(FIELDS), HOSTILE_VALUES), max_size=3),
    raw_tail=st.sampled_from([b"", b" ", b"\t", b"x", b"\xff", b"}"]),
)
@example(mutations=[("update_time", "9" * 4301)], raw_tail=b"")
@example(mutations=[("store_region", "9" * 4301)], raw_tail=b"")
@example(mutations=[("unknown_key", _deep(1000, "x", as_list=False))], raw_tail=b"")
@example(mutations=[("errcode", 1), ("errmsg", _deep(1000, "x", as_list=False))], raw_tail=b"")
@example(mutations=[("setting_list", _deep(700, "\ud800", as_list=True))], raw_tail=b"")
def test_any_answer_is_a_model_or_a_typed_error(
    mutations: list[tuple[str, Any]], raw_tail: bytes
) -> None:
    outcome = asyncio.run(_call(_body(mutations, raw_tail)))
    assert isinstance(outcome, PrivacySetting | WxPrivacyError), repr(outcome)[:300]
