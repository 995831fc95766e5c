"""The errcode table is the one source of retry semantics: the errors page, ``is_retryable``, the
raised class and its ``retryable`` flag all say the same thing for every row."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import get_args

import pytest

import wxprivacy
from scripts import docsgen
from wxprivacy import (
    ComponentCredentialError,
    MinuteQuotaExceededError,
    PrivacyInterfaceError,
    SystemBusyError,
    TokenInvalidError,
    WeChatAPIError,
)
from wxprivacy._errcodes import RETRY_CLASSES, ROWS, RetryClass
from wxprivacy._errors import ERRCODES, error_for, retry_class_of
from wxprivacy._retry import is_retryable

ERRORS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
CELL_SEPARATOR = re.compile(r"(?<!\\)\|")


def _documented_rows() -> dict[int, list[str]]:
    """The errcode table of the generated errors page: errcode -> its cells."""
    rows = {}
    for line in docsgen.render(ERRORS_PAGE.read_text("utf-8")).splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in CELL_SEPARATOR.split(line)[1:-1]]
            rows[int(cells[0].strip("`"))] = cells
    return rows


DOCUMENTED = _documented_rows()


@pytest.mark.parametrize("errcode", [row[0] for row in ROWS])
def test_docs_retry_semantics_and_raised_class_agree(errcode: int) -> None:
    err = error_for(errcode, "text", rid="r", endpoint="/cgi-bin/x", now=1_700_000_030.0)
    name = type(err).__name__
    _, exception, client, retryable, *_ = DOCUMENTED[errcode]

    # The raised class is the documented one, and a public name.
    assert exception == f"[`{name}`][wxprivacy.{name}]"
    assert getattr(wxprivacy, name) is type(err)
    # "Retried by the client" says yes exactly when the client re-sends it (even for calls that
    # create something: an errcode it re-sends is one WeChat did not act on).
    assert client.startswith("yes") is is_retryable(err) is is_retryable(err, idempotent=False)
    # The other things the client does: the token layer catches TokenInvalidError, batches
    # re-run MinuteQuotaExceededError.
    assert ("token refresh" in client) is isinstance(err, TokenInvalidError)
    assert ("get_privacy_settings" in client) is isinstance(err, MinuteQuotaExceededError)
    # The `retryable` column is the error's flag, and the flag survives pickling.
    assert retryable == ("yes" if err.retryable else "no")
    assert pickle.loads(pickle.dumps(err)).retryable is err.retryable


def test_every_row_is_documented_once() -> None:
    codes = [row[0] for row in ROWS]
    assert len(codes) == len(set(codes))
    assert set(DOCUMENTED) == set(codes) == set(ERRCODES)


def test_every_retry_class_has_a_rule_and_a_row() -> None:
    assert set(RETRY_CLASSES) == set(get_args(RetryClass))
    assert {row[2] for row in ROWS} == set(RETRY_CLASSES)


def test_exact_flags_of_the_cases_the_issue_names() -> None:
    assert error_for(61039, "x", rid=None, endpoint="").retryable is True
    assert error_for(61038, "x", rid=None, endpoint="").retryable is False
    assert error_for(45011, "x", rid=None, endpoint="").retryable is True
    assert error_for(45009, "x", rid=None, endpoint="").retryable is False
    assert is_retryable(error_for(-1, "system error", rid=None, endpoint=""), idempotent=False)
    assert not is_retryable(error_for(42001, "expired", rid=None, endpoint=""))
    assert not is_retryable(error_for(99999, "new", rid=None, endpoint=""))


def test_a_class_takes_the_retry_class_its_rows_share() -> None:
    # Errors built by hand with a code outside the table keep their class's semantics.
    assert (SystemBusyError.retryable, TokenInvalidError.retryable) == (True, True)
    assert MinuteQuotaExceededError.retryable is True
    assert is_retryable(SystemBusyError(-2, "busy"))
    assert TokenInvalidError(40002, "x").retryable is True
    # A class whose rows differ (61039 is "later", the rest "permanent") has no shared class.
    assert PrivacyInterfaceError.retryable is False
    assert retry_class_of(PrivacyInterfaceError(61099, "x")) is None
    assert WeChatAPIError.retryable is False


def test_built_by_hand_an_error_gets_its_row_too() -> None:
    assert PrivacyInterfaceError(61039, "privacy check task unfinished").retryable is True
    # The most derived class the table names decides: 45009's row names QuotaExceededError.
    assert MinuteQuotaExceededError(45009, "x", now=0.0).retryable is True


def test_a_row_applies_only_to_its_own_class() -> None:
    # 40001 at api_component_token is raised as ComponentCredentialError: a wrong appsecret.
    err = ComponentCredentialError(40001, "invalid credential (check component_appsecret)")
    assert retry_class_of(err) == "permanent"
    assert err.retryable is False
    assert not is_retryable(err)


# -- regressions from the issue-4 trial (each with the exact input that failed) -------------------


def test_61038_is_a_privacy_interface_error() -> None:
    err = error_for(61038, "x", rid=None, endpoint="/wxa/security/apply_privacy_interface")
    assert isinstance(err, PrivacyInterfaceError)
