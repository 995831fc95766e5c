"""Regressions from a new user's trial of issue 13 (a fresh clone, the README, then breaking it).

Each test holds the exact input that failed, and varies it where the kind is wider.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from wxprivacy import ClientClosedError, ComponentClient, InvalidArgumentError, MemoryTokenStore
from wxprivacy.audit import run_audit
from wxprivacy.callback import CallbackHandler, MessageCrypto
from wxprivacy.cli import app
from wxprivacy.doctor import CheckStatus, diagnose
from wxprivacy.emulator import Emulator
from wxprivacy.emulator._serve import start_server

runner = CliRunner()
PASS, WARN, FAIL, SKIP = CheckStatus.PASS, CheckStatus.WARN, CheckStatus.FAIL, CheckStatus.SKIP


async def started(emu: Emulator, http: httpx.AsyncClient, **kwargs: Any) -> ComponentClient:
    client = ComponentClient(
        emu.component_appid, emu.component_appsecret, http_client=http, **kwargs
    )
    await client.set_component_verify_ticket(emu.component_verify_ticket)
    return client


# -- doctor ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("own_http", [True, False])
async def test_diagnose_on_a_closed_client_is_a_typed_error(own_http: bool) -> None:
    """Was: a raw RuntimeError (own HTTP client), or a run that still sent requests."""
    emu = Emulator(authorizers=1)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        if own_http:
            client = ComponentClient(emu.component_appid, "s", base_url="http://127.0.0.1:9")
        else:
            client = await started(emu, http)
        await client.aclose()
        emu.reset_calls()
        with pytest.raises(ClientClosedError):
            await diagnose(client)
    assert sum(emu.calls.values()) == 0


class BrokenStore(MemoryTokenStore):
    """A store of a user's own that raises what it should have wrapped."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def get_verify_ticket(self, component_appid: str) -> str | None:
        raise self.error


@pytest.mark.parametrize("error", [KeyError("boom"), TypeError("x"), ValueError("token=abc")])
async def test_a_store_that_raises_anything_fails_its_line_not_the_checklist(
    error: Exception,
) -> None:
    """Was: ``KeyError: 'boom'`` out of diagnose()."""
    emu = Emulator(authorizers=1)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(
            emu.component_appid, emu.component_appsecret, http_client=http,
            token_store=BrokenStore(error),
        )  # fmt: skip
        diagnosis = await diagnose(client)
        await client.aclose()
    line = diagnosis["token_store"]
    assert line.status is FAIL and type(error).__name__ in line.summary
    assert "TokenStoreError" in line.fix
    assert diagnosis["clock"].status is PASS  # the others still ran
    assert len(diagnosis.checks) == 7


async def test_an_audit_file_of_another_fleet_is_read_for_the_current_fleet_only(
    tmp_path: Path,
) -> None:
    """Was: 25 of 500 authorizers lacking set 18, all from another fleet's audit.jsonl."""
    other = Emulator(authorizers=40, seed=1)
    async with httpx.AsyncClient(transport=other.transport()) as http:
        client = await started(other, http)
        await run_audit(client, tmp_path / "audit.jsonl")
        await client.aclose()
    emu = Emulator(authorizers=12, seed=2)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        await client.reload_refresh_tokens()
        line = (await diagnose(client, audit_file=tmp_path / "audit.jsonl"))["permissions"]
        await client.aclose()
    assert line.status is WARN
    assert "no record of an authorizer WeChat lists now" in line.summary
    assert line.data["not_listed"] == 40


@pytest.mark.parametrize(
    ("content", "status", "said"),
    [
        (b"", WARN, "no record"),
        (b"[1,2,3]\n", WARN, "1 unreadable"),
        (b"\x00\xff garbage\n{not json\n", WARN, "2 unreadable"),
    ],
)
async def test_an_audit_file_without_records_is_not_a_pass(
    content: bytes, status: CheckStatus, said: str, tmp_path: Path
) -> None:
    """Was: ``✓ none of 0 authorizers lacks permission set 18`` for /dev/null or garbage."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(content)
    emu = Emulator(authorizers=3)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        line = (await diagnose(client, audit_file=path))["permissions"]
        await client.aclose()
    assert line.status is status and said in line.summary


async def test_audit_file_given_but_missing_or_a_directory_fails(tmp_path: Path) -> None:
    emu = Emulator(authorizers=2)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        missing = (await diagnose(client, audit_file=tmp_path / "typo.jsonl"))["permissions"]
        directory = (await diagnose(client, audit_file=tmp_path))["permissions"]
        with pytest.raises(InvalidArgumentError, match="audit_file"):
            await diagnose(client, audit_file=5)  # type: ignore[arg-type]
        await client.aclose()
    assert missing.status is FAIL and "typo.jsonl" in missing.summary
    assert directory.status is FAIL and directory.fix


@pytest.mark.parametrize("latency", [1.5, 3.0])
async def test_a_slow_answer_is_not_read_as_clock_skew(latency: float) -> None:
    """Was: ``4 s behind WeChat's`` against an emulator answering in 8 s."""
    emu = Emulator(authorizers=1, latency=latency)
    async with httpx.AsyncClient(transport=emu.transport(), timeout=30) as http:
        client = await started(emu, http)
        line = (await diagnose(client))["clock"]
        await client.aclose()
    assert line.status is PASS
    assert line.data["uncertainty_s"] >= latency / 2


async def test_a_wrong_appsecret_says_so_not_refreshed_once() -> None:
    emu = Emulator(authorizers=1)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, "wrong", http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        line = (await diagnose(client))["credentials"]
        await client.aclose()
    assert "component_appsecret" in line.fix and "refreshed once" not in line.fix


# -- the command line -----------------------------------------------------------------------------


@pytest.mark.parametrize("count", ["99999999999999999999", "200001"])
@pytest.mark.parametrize("command", [["audit", "--emulator"], ["doctor", "--emulator"]])
def test_an_emulator_too_large_is_a_usage_error(count: str, command: list[str]) -> None:
    """Was: ``OverflowError`` (and 1.8 GB seeding 3,000,000)."""
    result = runner.invoke(app, [*command, count])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ('[owner_setting]\ncontact_email = "隐私@例子.com"\n'.encode("gbk"), "not UTF-8"),
        (b"\xef\xbb\xbf" + b'[owner_setting]\ncontact_email = "a@b.c"\n', "byte order mark"),
    ],
)
@pytest.mark.parametrize("command", ["set", "apply-template"])
def test_a_toml_file_that_is_not_plain_utf8_is_a_usage_error(
    data: bytes, said: str, command: str, tmp_path: Path
) -> None:
    """Was: a 61-line UnicodeDecodeError traceback, exit 1 (GBK); no hint for a BOM."""
    path = tmp_path / "file.toml"
    path.write_bytes(data)
    args = (
        ["set", "wx1111111111111111", "--from", str(path)]
        if command == "set"
        else ["apply-template", str(path)]
    )
    result = runner.invoke(app, [*args, "--emulator", "1"])
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_redis_url_without_the_redis_extra_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: a 119-line traceback ending ``RedisTokenStore needs the redis package``."""
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    monkeypatch.delitem(sys.modules, "wxprivacy.redis", raising=False)
    env = {
        "WXPRIVACY_COMPONENT_APPID": "wx0000000000000000",
        "WXPRIVACY_COMPONENT_APPSECRET": "s",
        "WXPRIVACY_REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    result = runner.invoke(app, ["get", "wx1111111111111111"], env=env)
    assert result.exit_code == 2
    assert "wxprivacy[redis]" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2


# -- callback --------------------------------------------------------------------------------


def test_a_handler_whose_crypto_is_for_another_component_is_refused() -> None:
    """Was: accepted; a ticket push for wx0000… was stored under wx1111…."""
    emu = Emulator(authorizers=1, component_appid="wx1111111111111111")
    client = ComponentClient("wx1111111111111111", "s")
    crypto = MessageCrypto("token", emu.encoding_aes_key, "wx0000000000000000")
    with pytest.raises(InvalidArgumentError, match="wx0000000000000000"):
        CallbackHandler(client, crypto)
    with pytest.raises(InvalidArgumentError, match="CallbackHandler\\(target, crypto\\)"):
        CallbackHandler(emu.callback_crypto, client)  # type: ignore[arg-type]


@pytest.mark.parametrize("appid", ["wx0000000000000000 ", " wx0000000000000000", "wx00\t00"])
def test_message_crypto_refuses_a_padded_component_appid(appid: str) -> None:
    emu = Emulator(authorizers=0)
    with pytest.raises(InvalidArgumentError, match=repr(appid).replace("\\", "\\\\")):
        MessageCrypto("token", emu.encoding_aes_key, appid)


# -- the emulator and the generic call ------------------------------------------------------------


@pytest.mark.parametrize("appid", [" wx1", "wx" + "1" * 5000, "wx1111111111111111\n"])
async def test_the_emulator_refuses_to_push_for_what_is_not_an_appid(appid: str) -> None:
    """Was: accepted, and the malformed appid joined the fleet (and stopped later audits)."""
    emu = Emulator(authorizers=1)
    async with await start_server(emu) as server, httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            "/_emulator/push", params={"kind": "authorized", "authorizer_appid": appid}
        )
    assert answer.status_code == 400
    assert "not an appid" in orjson.loads(answer.content)["error"]
    assert len(emu.authorizer_appids) == 1


async def test_a_404_says_to_check_the_path_and_not_that_it_carries_credentials() -> None:
    """Was: ``unexpected HTTP 404 from /wxa/memberauth: 13 bytes, not quoted (answers from this
    endpoint carry credentials)``."""
    from wxprivacy import ResponseFormatError

    emu = Emulator(authorizers=1)
    appid = emu.authorizer_appids[0]
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        await client.set_authorizer_refresh_token(appid, emu.refresh_token(appid))
        with pytest.raises(ResponseFormatError) as caught:
            await client.call("/wxa/getprivacysettin", authorizer_appid=appid, idempotent=True)
        await client.aclose()
    assert "is the endpoint path right?" in str(caught.value)
    assert "carry credentials" not in str(caught.value)


@pytest.mark.parametrize("bad", [" wx1", "wx1111111111111111 ", "wx\u3000x", "x" * 100])
async def test_a_malformed_appid_in_wechats_list_fails_alone(bad: str, tmp_path: Path) -> None:
    """Was: ``error: authorizer_appid must be ...`` and an audit that wrote nothing (exit 2)."""
    emu = Emulator(authorizers=5, seed=1)
    emu.add_authorizer(bad)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        summary = await run_audit(client, tmp_path / "a.jsonl")
        await client.aclose()
    assert (summary.total, summary.failed) == (6, 1)
    failed = [r for r in map(orjson.loads, (tmp_path / "a.jsonl").read_bytes().splitlines())]
    assert [r["authorizer_appid"] for r in failed if not r["ok"]] == [bad]
