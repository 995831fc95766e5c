"""The errcode table maps codes onto the exception tree, messages never lose the rid, and every
error survives pickle and copy unchanged."""

from __future__ import annotations

import copy
import inspect
import pickle
import types
from collections.abc import Callable
from typing import Any, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wxprivacy
import wxprivacy.callback
from wxprivacy import (
    MinuteQuotaExceededError,
    PrivacyConfigError,
    PrivacyInterfaceError,
    ReauthorizationRequiredError,
    TokenInvalidError,
    TokenStoreError,
    TransportError,
    WeChatAPIError,
    WxPrivacyError,
)
from wxprivacy._errors import ERRCODES, error_for
from wxprivacy.callback import MessageTooLargeError


@pytest.mark.parametrize(
    ("errcode", "cls"),
    [
        (40001, TokenInvalidError),
        (42001, TokenInvalidError),
        (61023, ReauthorizationRequiredError),
        (86072, PrivacyConfigError),
        (87072, PrivacyConfigError),
        (45011, MinuteQuotaExceededError),
    ],
)
def test_error_for_maps_errcode_to_class(errcode: int, cls: type[WeChatAPIError]) -> None:
    err = error_for(errcode, "text", rid="6553f100-1a2b3c4d-5e6f7081", endpoint="/x")
    assert type(err) is cls
    assert isinstance(err, WxPrivacyError)
    assert err.errcode == errcode


def test_unknown_errcode_is_plain_api_error() -> None:
    err = error_for(99999, "new thing", rid=None, endpoint="/cgi-bin/x")
    assert type(err) is WeChatAPIError
    assert str(err) == "[99999] new thing from /cgi-bin/x"


def test_message_reads_like_style_guide() -> None:
    err = error_for(42001, "access_token expired", rid="6553f164-0badc0de-00c0ffee", endpoint="")
    assert str(err) == "[42001] access_token expired (rid: 6553f164-0badc0de-00c0ffee)"


def test_minute_quota_says_when_to_retry() -> None:
    err = error_for(
        45011, "api minute-quota reach limit", rid=None, endpoint="/x", now=1_700_000_030.0
    )
    assert isinstance(err, MinuteQuotaExceededError)
    assert err.retry_after == pytest.approx(10.0)
    assert err.retry_at == 1_700_000_040.0 and type(err.retry_at) is float
    assert "retry after 10.0 s" in str(err)


def test_api_errors_pickle_round_trip() -> None:
    err = error_for(61023, "refresh_token is invalid", rid="r", endpoint="/e")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ReauthorizationRequiredError
    assert (back.errcode, back.errmsg, back.rid, back.endpoint) == (
        61023,
        "refresh_token is invalid",
        "r",
        "/e",
    )


def test_table_rows_are_consistent() -> None:
    for code, info in ERRCODES.items():
        assert info.errcode == code
        assert issubclass(info.exception, WeChatAPIError)


def test_61039_stays_retryable_through_pickle() -> None:
    err = error_for(61039, "privacy check task unfinished", rid="r", endpoint="/wxa/x")
    assert type(err) is PrivacyInterfaceError
    assert err.retryable is True
    back = pickle.loads(pickle.dumps(err))
    assert back.retryable is True
    assert copy.deepcopy(err).retryable is True


def test_minute_quota_retry_at_survives_pickle_unchanged() -> None:
    err = error_for(
        45011, "api minute-quota reach limit", rid=None, endpoint="/x", now=1_700_000_030.0
    )
    assert isinstance(err, MinuteQuotaExceededError)
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, MinuteQuotaExceededError)
    assert back.retry_at == 1_700_000_040.0 == err.retry_at
    assert back.retry_after == err.retry_after == pytest.approx(10.0)
    assert str(back) == str(err)


def test_errors_with_keyword_only_fields_pickle() -> None:
    transport = TransportError("connect refused", endpoint="/cgi-bin/x", maybe_sent=False)
    back = pickle.loads(pickle.dumps(transport))
    assert (back.endpoint, back.status_code, back.maybe_sent) == ("/cgi-bin/x", None, False)
    store = pickle.loads(pickle.dumps(TokenStoreError("timed out", store="RedisTokenStore")))
    assert (store.store, str(store)) == ("RedisTokenStore", "RedisTokenStore: timed out")
    big = pickle.loads(pickle.dumps(MessageTooLargeError(size=2_000_000, limit=1_000_000)))
    assert (big.size, big.limit) == (2_000_000, 1_000_000)


def _error_classes() -> list[type[WxPrivacyError]]:
    """Every exception class wxprivacy defines (the callback package's included)."""
    found: set[type[WxPrivacyError]] = set()
    todo: list[type[WxPrivacyError]] = [WxPrivacyError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("wxprivacy"):
            found.add(cls)
        todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__name__)


ERROR_CLASSES = _error_classes()
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    # A known code half the time, so the table's per-row retryable flag is exercised.
    "errcode": st.sampled_from(sorted(ERRCODES)) | st.integers(-(2**31), 2**31),
    # MinuteQuotaExceededError: a fixed clock, or the wall clock (None) as error_for's default.
    "now": st.none() | st.floats(0, 4e9),
}


def _strategy_for_type(hint: Any) -> st.SearchStrategy[Any]:
    if isinstance(hint, types.UnionType):
        return st.one_of([_strategy_for_type(arg) for arg in hint.__args__])
    if hint is type(None):
        return st.none()
    if hint is float:
        return st.floats(allow_nan=False)  # NaN would never compare equal to itself
    return st.from_type(hint)


def _errors_of(cls: type[WxPrivacyError]) -> st.SearchStrategy[WxPrivacyError]:
    """Instances of ``cls`` built through its own __init__ with random field values."""
    owner = next(klass for klass in cls.__mro__ if "__init__" in vars(klass))
    if not owner.__module__.startswith("wxprivacy"):  # Exception.__init__: a message only
        return st.builds(cls, st.text())
    init = owner.__init__
    hints = get_type_hints(init)
    params = [p for p in inspect.signature(init).parameters.values() if p.name != "self"]
    fields = {p.name: FIELDS.get(p.name, _strategy_for_type(hints[p.name])) for p in params}
    return st.builds(cls, **fields)


def _public(err: BaseException) -> dict[str, Any]:
    names = [name for name in dir(err) if not name.startswith("_")]
    return {name: getattr(err, name) for name in names if not callable(getattr(err, name))}


COPIES: dict[str, Callable[[Any], Any]] = {
    **{
        f"pickle{protocol}": (lambda err, p=protocol: pickle.loads(pickle.dumps(err, p)))
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1)
    },
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


def test_every_public_error_class_is_covered() -> None:
    public = [
        getattr(module, name)
        for module in (wxprivacy, wxprivacy.callback)
        for name in module.__all__
    ]
    errors = {obj for obj in public if isinstance(obj, type) and issubclass(obj, WxPrivacyError)}
    assert errors <= set(ERROR_CLASSES)
    assert len(errors) >= 27


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=40)
@given(data=st.data(), notes=st.lists(st.text(), max_size=2), how=st.sampled_from(sorted(COPIES)))
def test_every_error_survives_pickle_and_copy(
    cls: type[WxPrivacyError], data: st.DataObject, notes: list[str], how: str
) -> None:
    err = data.draw(_errors_of(cls))
    for note in notes:
        err.add_note(note)
    back = COPIES[how](err)
    assert type(back) is cls
    assert _public(back) == _public(err)
    assert vars(back) == vars(err)
    assert str(back) == str(err)
    assert repr(back) == repr(err)
