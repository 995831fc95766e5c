"""Issue 9 §5: a credential answer cut at ANY position never puts a secret into an error.

Every answer that can carry a credential (component token, authorizer token, query_auth, the
authorizer list and info, the pre-auth code) is built with random 99-character-ish tokens, cut at
every position 0..len(body), and decoded: as the endpoint it comes from (never quoted) and as if it
came from getprivacysetting (quoted after redaction, so the redaction itself is tested at every
cut). No secret may appear, whole or as any 12-character piece, in ``str()``, ``repr()``,
``args``, the attributes or the chained exceptions of the error; a sample goes through a full
client call with ``caplog`` at DEBUG and through the audit's JSONL record.
"""

from __future__ import annotations

import json
import logging
import random
import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx
import pytest
from fakes import APPSECRET, COMPONENT_APPID, TICKET, no_sleep
from hypothesis import given, settings
from hypothesis import strategies as st

from wxprivacy import (
    ComponentClient,
    ReauthorizationRequiredError,
    ResponseFormatError,
    RetryPolicy,
    TransportError,
    WxPrivacyError,
)
from wxprivacy._redact import redact
from wxprivacy._wire import decode_response
from wxprivacy.audit import dumps_line, record_for

APPID = "wxa000000000000000"
CT = "/cgi-bin/component/api_component_token"
AT = "/cgi-bin/component/api_authorizer_token"
QA = "/cgi-bin/component/api_query_auth"
AL = "/cgi-bin/component/api_get_authorizer_list"
AI = "/cgi-bin/component/api_get_authorizer_info"
PC = "/cgi-bin/component/api_create_preauthcode"
GP = "/cgi-bin/component/getprivacysetting"

ALPHABET = string.ascii_letters + string.digits + "_-"
"""Base64url: what WeChat's tokens are made of (plus the ``@@@`` of the prefixed ones)."""
PIECE = 12


def _token(rng: random.Random, prefix: str, size: int) -> str:
    return prefix + "".join(rng.choice(ALPHABET) for _ in range(size - len(prefix)))


_RNG = random.Random(20240905)
COMPONENT_TOKEN = _token(_RNG, "80_", 136)
ACCESS_TOKEN = _token(_RNG, "80_", 99)
REFRESH_TOKEN = _token(_RNG, "refreshtoken@@@", 58)
REFRESH_TOKEN_2 = _token(_RNG, "refreshtoken@@@", 58)
STORED_REFRESH = _token(_RNG, "refreshtoken@@@", 58)
PRE_AUTH_CODE = _token(_RNG, "preauthcode@@@", 60)
AUTH_CODE = _token(_RNG, "queryauthcode@@@", 70)

SECRETS = (
    COMPONENT_TOKEN,
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    REFRESH_TOKEN_2,
    STORED_REFRESH,
    PRE_AUTH_CODE,
    AUTH_CODE,
    APPSECRET,
    TICKET,
)

FUNC_INFO = [{"funcscope_category": {"id": i}} for i in (17, 18, 19)]
ANSWERS: dict[str, dict[str, Any]] = {
    CT: {"component_access_token": COMPONENT_TOKEN, "expires_in": 7200},
    AT: {
        "authorizer_access_token": ACCESS_TOKEN,
        "expires_in": 7200,
        "authorizer_refresh_token": REFRESH_TOKEN,
    },
    QA: {
        "authorization_info": {
            "authorizer_appid": APPID,
            "authorizer_access_token": ACCESS_TOKEN,
            "expires_in": 7200,
            "authorizer_refresh_token": REFRESH_TOKEN,
            "func_info": FUNC_INFO,
        }
    },
    AL: {
        "total_count": 2,
        "list": [
            {"authorizer_appid": APPID, "refresh_token": REFRESH_TOKEN, "auth_time": 1700000000},
            {
                "authorizer_appid": "wxb000000000000000",
                "refresh_token": REFRESH_TOKEN_2,
                "auth_time": 1700000100,
            },
        ],
    },
    AI: {
        "authorizer_info": {
            "nick_name": "小程序000000",
            "head_img": "",
            "service_type_info": {"id": 0},
            "verify_type_info": {"id": -1},
            "user_name": "gh_000000000000",
            "principal_name": "个人",
            "MiniProgramInfo": {"network": {}, "categories": [], "visit_status": 0},
        },
        "authorization_info": {
            "authorizer_appid": APPID,
            "authorizer_refresh_token": REFRESH_TOKEN,
            "func_info": FUNC_INFO,
        },
    },
    PC: {"pre_auth_code": PRE_AUTH_CODE, "expires_in": 1800},
}
LAYOUTS: dict[str, Callable[[Any], bytes]] = {
    # what WeChat sends: compact, raw Chinese
    "compact": lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode(),
    # what a proxy or a pretty-printer might send: spaces, newlines, \u escapes
    "pretty": lambda v: json.dumps(v, indent=2).encode(),
}
BODIES = {
    (path, layout): encode(answer)
    for path, answer in ANSWERS.items()
    for layout, encode in LAYOUTS.items()
}


def pieces_of(secrets: Iterable[str]) -> frozenset[str]:
    """Every 12-character piece of every secret (a secret itself contains its pieces)."""
    return frozenset(s[i : i + PIECE] for s in secrets for i in range(len(s) - PIECE + 1))


PIECES = pieces_of(SECRETS)
# A 12-character piece of a secret can only sit inside a run of its characters.
_RUN = re.compile(rf"[A-Za-z0-9_\-*@]{{{PIECE},}}")


def leaked(text: str, pieces: frozenset[str] = PIECES) -> str | None:
    """The first 12-character piece of a secret found in ``text``, or ``None``."""
    for match in _RUN.finditer(text):
        run = match.group()
        for i in range(len(run) - PIECE + 1):
            if run[i : i + PIECE] in pieces:
                return run[i : i + PIECE]
    return None


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def texts_of(exc: BaseException) -> Iterator[str]:
    """Everything an error shows: str, repr, args, attributes, and the same for its chain."""
    for err in chain(exc):
        yield str(err)
        yield repr(err)
        yield repr(err.args)
        yield repr(vars(err))
        yield str(getattr(err, "doc", ""))  # a JSONDecodeError holds the whole body here


def assert_clean(exc: BaseException, pieces: frozenset[str] = PIECES, *, where: str = "") -> None:
    for text in texts_of(exc):
        piece = leaked(text, pieces)
        assert piece is None, f"{where}: {piece!r} of a secret in {text!r}"


def decode_error(status: int, body: bytes, endpoint: str) -> WxPrivacyError | None:
    try:
        decode_response(status, body, endpoint=endpoint)
    except WxPrivacyError as exc:
        return exc
    return None


def test_the_answers_hold_the_secrets() -> None:
    for (path, layout), body in BODIES.items():
        assert leaked(body.decode()) is not None, (path, layout)
    assert all(set(s) <= set(ALPHABET + "@") for s in SECRETS)  # what leaked() relies on
    assert all(len(s) >= PIECE for s in SECRETS)


# ------------------------------------------------------------------------- every cut, sans-I/O


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("path", sorted(ANSWERS))
def test_every_cut_of_a_credential_answer_is_clean(path: str, layout: str) -> None:
    body = BODIES[path, layout]
    for cut in range(len(body) + 1):
        piece = body[:cut]
        exc = decode_error(200, piece, path)
        if cut == len(body):
            assert exc is None
            continue
        assert isinstance(exc, ResponseFormatError), (cut, exc)
        assert_clean(exc, where=f"{path} {layout} cut {cut}")
        # Never quoted: the length is given instead, and no 16 characters of the body appear.
        assert f"{cut} bytes, not quoted" in str(exc) or "empty response" in str(exc)
        text = piece.decode("utf-8", "replace")
        message = str(exc)
        assert not any(text[i : i + 16] in message for i in range(len(text) - 15)), (cut, message)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("path", sorted(ANSWERS))
def test_every_cut_is_clean_where_bodies_are_quoted(path: str, layout: str) -> None:
    # The same bodies from an endpoint whose errors quote the body: the redaction must hold.
    body = BODIES[path, layout]
    for cut in range(len(body)):
        exc = decode_error(200, body[:cut], GP)
        assert isinstance(exc, ResponseFormatError), (cut, exc)
        assert_clean(exc, where=f"{path} {layout} as {GP} cut {cut}")


@pytest.mark.parametrize("status", [404, 502])
@pytest.mark.parametrize("endpoint", [AT, GP])
def test_every_cut_of_an_error_status_body_is_clean(status: int, endpoint: str) -> None:
    body = BODIES[AT, "compact"]
    for cut in range(len(body) + 1):
        exc = decode_error(status, body[:cut], endpoint)
        assert isinstance(exc, TransportError | ResponseFormatError)
        assert_clean(exc, where=f"HTTP {status} from {endpoint} cut {cut}")


def test_regression_authorizer_token_cut_before_its_closing_brace() -> None:
    """The exact failing case of issue 9 §5: the whole refresh token was in the message."""
    body = BODIES[AT, "compact"][:-1]
    assert body.endswith(f'"{REFRESH_TOKEN}"'.encode())
    exc = decode_error(200, body, AT)
    assert isinstance(exc, ResponseFormatError)
    assert REFRESH_TOKEN not in str(exc) and REFRESH_TOKEN not in repr(exc)
    assert str(exc) == (
        f"response from {AT} (HTTP 200) is not valid JSON (Expecting ',' delimiter at line 1 "
        f"column {len(body) + 1}): {len(body)} bytes, not quoted (answers from this endpoint "
        "may carry credentials)"
    )
    assert exc.__context__ is None and exc.__cause__ is None
    assert_clean(exc)


# ------------------------------------------------------------------------- property: any shape


def _odd_case(draw: st.DrawFn, name: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    cased = "".join(c.upper() if flip else c for c, flip in zip(name, flips, strict=True))
    if draw(st.booleans()):
        cased = cased.replace("_", "\\u005f")  # an escaped key decodes to the same name
    return cased


def _escape_some(draw: st.DrawFn, value: str) -> str:
    every = draw(st.sampled_from([0, 0, 3, 7]))
    if not every:
        return value
    return "".join(f"\\u{ord(c):04x}" if i % every == 1 else c for i, c in enumerate(value))


@st.composite
def credential_bodies(draw: st.DrawFn) -> tuple[bytes, list[str], str]:
    """A token-endpoint-like answer: random tokens under randomly spelled secret keys."""
    names = draw(
        st.lists(
            st.sampled_from(
                [
                    "component_access_token",
                    "authorizer_access_token",
                    "authorizer_refresh_token",
                    "refresh_token",
                    "access_token",
                    "component_verify_ticket",
                    "component_appsecret",
                    "pre_auth_code",
                    "authorization_code",
                    "EncodingAESKey",
                ]
            ),
            min_size=1,
            max_size=4,
        )
    )
    # a secret sharing a 12-character piece with the appid (all zeros, say) would be "found"
    # where only the appid is: not a leak, so such secrets are not drawn
    token = st.text(alphabet=ALPHABET + "@*", min_size=24, max_size=160).filter(
        lambda t: all(t[i : i + PIECE] not in APPID for i in range(len(t) - PIECE + 1))
    )
    secrets = [draw(token) for _ in names]
    space = draw(st.sampled_from(["", " ", "\n  "]))
    fields = [f'"expires_in":{space}7200', f'"authorizer_appid":{space}"{APPID}"']
    for name, secret in zip(names, secrets, strict=True):
        key, value = _odd_case(draw, name), _escape_some(draw, secret)
        fields.insert(draw(st.integers(0, len(fields))), f'"{key}":{space}"{value}"')
    text = "{" + space + ("," + space).join(fields) + space + "}"
    if draw(st.booleans()):
        text = '{"authorization_info":' + space + text + "}"
    endpoint = draw(st.sampled_from([CT, AT, QA, AL, AI, PC, GP]))
    return text.encode(), secrets, endpoint


@settings(max_examples=300, deadline=None)
@given(case=credential_bodies(), data=st.data())
def test_any_cut_of_any_credential_body_is_clean(
    case: tuple[bytes, list[str], str], data: st.DataObject
) -> None:
    body, secrets, endpoint = case
    cut = data.draw(st.integers(0, len(body)), label="cut")
    pieces = pieces_of(secrets)
    exc = decode_error(200, body[:cut], endpoint)
    if exc is not None:
        assert_clean(exc, pieces, where=f"cut {cut}")
    text = redact(body[:cut].decode())
    assert leaked(text, pieces) is None, text


@settings(max_examples=300, deadline=None)
@given(
    token=st.text(alphabet=ALPHABET, min_size=60, max_size=160).map(lambda t: "80_" + t),
    before=st.text(alphabet=string.ascii_letters + " <>/=:", max_size=200),
    data=st.data(),
)
def test_a_token_under_no_key_is_removed_at_any_cut(
    token: str, before: str, data: st.DataObject
) -> None:
    # A page (or any text) holding a token under no known key, cut anywhere: removed by what it
    # is (24+ token characters, or 8+ where the cut stops it).
    body = f"<html><body>{before}{token}</body></html>".encode()
    cut = data.draw(st.integers(0, len(body)), label="cut")
    exc = decode_error(200, body[:cut], GP)
    assert exc is not None
    assert_clean(exc, pieces_of([token]), where=f"cut {cut}")


# ------------------------------------------------------------------------- other shapes


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        # errmsg echoing a token, as text and as an object
        (AT, {"errcode": 61023, "errmsg": f"refresh_token is invalid: {REFRESH_TOKEN}"}),
        (AT, {"errcode": 61023, "errmsg": f"bad {REFRESH_TOKEN} rid: 6553f100-1a2b3c4d-5e6f7081"}),
        (AT, {"errcode": 61023, "errmsg": {"authorizer_refresh_token": "s3"}}),
        (GP, {"errcode": 40001, "errmsg": "x" * 490 + ACCESS_TOKEN}),  # cut at 500 characters
        # wrong types that get described
        (AT, {"errcode": ACCESS_TOKEN}),
        (GP, {"errcode": ACCESS_TOKEN}),
        # a JSON value that is not an object
        (AT, [ACCESS_TOKEN, REFRESH_TOKEN]),
        (GP, [ACCESS_TOKEN, {"refresh_token": "s3"}]),
        (GP, ACCESS_TOKEN),
    ],
)
def test_other_malformed_answers_are_clean(endpoint: str, body: Any) -> None:
    raw = json.dumps(body).encode()
    exc = decode_error(200, raw, endpoint)
    assert exc is not None
    assert_clean(exc)
    assert '"s3"' not in str(exc) and "'s3'" not in str(exc)  # too short to look like a token


@pytest.mark.parametrize(
    "body",
    [
        f"<html><body>502 Bad Gateway {ACCESS_TOKEN}</body></html>",
        f"upstream said: access_token={ACCESS_TOKEN}&x=1",
        f"<xml><ComponentVerifyTicket><![CDATA[{TICKET}]]></ComponentVerifyTicket><AppId>wx1</AppId>",
        f'{{"a": "\xff", "authorizer_refresh_token": "{REFRESH_TOKEN}"}}',
    ],
)
@pytest.mark.parametrize("endpoint", [AT, GP])
def test_non_json_bodies_are_clean(body: str, endpoint: str) -> None:
    raw = body.encode("latin-1") if "\xff" in body else body.encode()
    for status in (200, 404, 502):
        exc = decode_error(status, raw, endpoint)
        assert exc is not None
        assert_clean(exc, where=f"HTTP {status}")


# ------------------------------------------------------------------------- through the client


def _sample_cuts(body: bytes, secrets: Iterable[str]) -> list[int]:
    """Every 23rd cut, the cut before the last byte, and cuts inside every secret it holds."""
    cuts = set(range(0, len(body), 23)) | {len(body) - 1}
    text = body.decode()
    for secret in secrets:
        start = text.find(secret)
        if start >= 0:
            prefix = len(text[:start].encode())
            cuts |= {prefix, prefix + 1, prefix + PIECE, prefix + len(secret) - 1}
    return sorted(cuts)


CALLS: Mapping[str, Callable[[ComponentClient], Any]] = {
    CT: lambda c: c.component_access_token(),
    AT: lambda c: c.authorizer_access_token(APPID),
    QA: lambda c: c.query_auth(AUTH_CODE),
    AL: lambda c: c.list_authorizers(),
    AI: lambda c: c.get_authorizer_info(APPID),
    PC: lambda c: c.create_preauth_code(),
}


async def _client_error(path: str, status: int, answer: bytes) -> WxPrivacyError:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == path:
            return httpx.Response(status, content=answer)
        if request.url.path == CT:
            return httpx.Response(200, content=BODIES[CT, "compact"])
        raise AssertionError(request.url.path)  # pragma: no cover

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = ComponentClient(
            COMPONENT_APPID,
            APPSECRET,
            http_client=http,
            sleep=no_sleep,
            retry=RetryPolicy(max_attempts=2),
        )
        await client.set_component_verify_ticket(TICKET)
        await client.set_authorizer_refresh_token(APPID, STORED_REFRESH)
        try:
            await CALLS[path](client)
        except WxPrivacyError as exc:
            return exc
        finally:
            await client.aclose()
    raise AssertionError("no error")  # pragma: no cover


def _log_texts(records: Iterable[logging.LogRecord]) -> Iterator[str]:
    formatter = logging.Formatter()
    for record in records:
        yield record.getMessage()
        yield repr(record.args)
        if record.exc_info:
            yield formatter.formatException(record.exc_info)


@pytest.mark.parametrize("status", [200, 502])
@pytest.mark.parametrize("path", sorted(ANSWERS))
async def test_cuts_through_a_full_client_call_are_clean(
    path: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    body = BODIES[path, "compact"]
    caplog.set_level(logging.DEBUG)
    for cut in _sample_cuts(body, SECRETS):
        caplog.clear()
        exc = await _client_error(path, status, body[:cut])
        assert isinstance(exc, ResponseFormatError | TransportError), (cut, exc)
        assert_clean(exc, where=f"{path} HTTP {status} cut {cut}")
        for text in _log_texts(caplog.records):
            assert leaked(text) is None, (cut, text)
        # What the CLI's audit writes for a failed authorizer: the error's message only.
        line = dumps_line(record_for(APPID, exc, privacy_ver=2)).decode()
        assert leaked(line) is None, (cut, line)


async def test_errmsg_echoing_the_refresh_token_stays_out_of_the_audit_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = json.dumps(
        {"errcode": 61023, "errmsg": f"refresh_token {STORED_REFRESH} is invalid rid: 1-2-3"}
    ).encode()
    caplog.set_level(logging.DEBUG)
    exc = await _client_error(AT, 200, answer)
    assert isinstance(exc, ReauthorizationRequiredError)
    assert_clean(exc)
    assert leaked(dumps_line(record_for(APPID, exc, privacy_ver=2)).decode()) is None
    assert all(leaked(text) is None for text in _log_texts(caplog.records))


async def test_wrongly_typed_fields_of_credential_answers_are_clean() -> None:
    answers = {
        AT: {"authorizer_access_token": 5, "expires_in": ACCESS_TOKEN},
        CT: {"component_access_token": COMPONENT_TOKEN, "expires_in": REFRESH_TOKEN},
        QA: {"authorization_info": {"authorizer_appid": APPID, "func_info": ACCESS_TOKEN}},
        AL: {"total_count": REFRESH_TOKEN, "list": []},
        AI: {"authorization_info": {"authorizer_appid": APPID, "func_info": REFRESH_TOKEN}},
    }
    for path, answer in answers.items():
        exc = await _client_error(path, 200, json.dumps(answer).encode())
        assert isinstance(exc, ResponseFormatError), (path, exc)
        assert_clean(exc, where=path)


@pytest.mark.parametrize("name", ["httpcore.http11", "httpcore.connection", "httpcore", "httpx"])
def test_httpcore_child_loggers_are_redacted(name: str, caplog: pytest.LogCaptureFixture) -> None:
    """Found by the issue 9 trial: httpcore logs on child loggers, which the filter on the
    ``httpcore`` logger does not reach."""
    import logging

    secret = "AbCdEfGh1234567890AbCdEfGh1234567890"
    with caplog.at_level(logging.DEBUG, logger=name):
        logging.getLogger(name).debug("receive_response_headers access_token=%s", secret)
        logging.getLogger(name).debug(f"GET /x?access_token={secret}")
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)
