"""The errcode table maps codes onto the exception tree and messages never lose the rid."""

from __future__ import annotations

import pickle

import pytest

from wxprivacy import (
    MinuteQuotaExceededError,
    PrivacyConfigError,
    ReauthorizationRequiredError,
    TokenInvalidError,
    WeChatAPIError,
    WxPrivacyError,
)
from wxprivacy._errors import ERRCODES, error_for


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
    assert err.retry_at.timestamp() == 1_700_000_040
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
