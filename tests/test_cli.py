"""The command line: audit on the emulator (summary, JSONL, exit status, resume), get, config."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from wxprivacy import ComponentClient
from wxprivacy.audit import run_audit, summarize
from wxprivacy.cli import app
from wxprivacy.emulator import Emulator

runner = CliRunner()
GP = "/cgi-bin/component/getprivacysetting"


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_audit_on_500_emulated_authorizers(tmp_path: Path) -> None:
    out, summary_path = tmp_path / "audit.jsonl", tmp_path / "summary.json"
    result = runner.invoke(
        app,
        [
            "audit",
            "--emulator",
            "500",
            "--out",
            str(out),
            "--summary-json",
            str(summary_path),
            "--no-progress",
        ],
    )
    assert result.exit_code == 1, result.output  # some emulated Mini Programs lack permission 18
    records = read_jsonl(out)
    assert len(records) == 500
    assert len({r["authorizer_appid"] for r in records}) == 500
    emu = Emulator(authorizers=500, seed=0)  # same seed: the same fleet
    expected_undeclared = {a: sorted(emu.expected_undeclared(a)) for a in emu.authorizer_appids}
    expected_undeclared = {a: k for a, k in expected_undeclared.items() if k}
    summary = json.loads(summary_path.read_text())
    no_permission = [a for a in emu.authorizer_appids if emu.profile(a) == "no_permission"]
    assert summary["total"] == 500
    assert summary["errors_by_errcode"] == {"61007": len(no_permission)}
    got = {a: sorted(k) for a, k in summary["undeclared"].items()}
    assert got == {a: k for a, k in expected_undeclared.items() if a not in no_permission}
    assert "Audited 500 authorizers" in result.stdout
    assert "Undeclared privacy keys" in result.stdout
    assert "61007" in result.stdout


async def test_resume_skips_finished_authorizers(tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    emu = Emulator(authorizers=120, seed=1)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        await run_audit(client, out)
        lines = out.read_bytes().splitlines(keepends=True)
        out.write_bytes(b"".join(lines[:50]) + lines[50][:20])  # interrupted mid-line
        ok_before = sum(json.loads(line)["ok"] for line in lines[:50])
        assert ok_before < 50  # some failures among them: those are fetched again
        emu.reset_calls()
        summary = await run_audit(client, out, resume=True)
    records = read_jsonl(out)
    assert len(records) == 120
    assert len({r["authorizer_appid"] for r in records}) == 120
    assert emu.calls[GP] == 120 - ok_before
    assert summary.total == 120
    assert summarize(records).as_dict() == summary.as_dict()


def test_get_prints_one_guideline(tmp_path: Path) -> None:
    emu = Emulator(authorizers=10, seed=0)
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) != "no_permission")
    result = runner.invoke(app, ["get", appid, "--emulator", "10"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["code_exist"] in (0, 1)
    assert "owner_setting" in data


def test_get_rejects_bad_version() -> None:
    result = runner.invoke(app, ["get", "wx1", "--emulator", "1", "--ver", "3"])
    assert result.exit_code == 2


def test_audit_without_credentials_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WXPRIVACY_COMPONENT_APPID", raising=False)
    monkeypatch.delenv("WXPRIVACY_COMPONENT_APPSECRET", raising=False)
    result = runner.invoke(app, ["audit", "--out", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
    assert "WXPRIVACY_COMPONENT_APPSECRET" in result.output


def test_audit_without_ticket_explains_where_it_comes_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPID", "wx0000000000000000")
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPSECRET", "secret-value-xyz")
    result = runner.invoke(app, ["audit", "--out", str(tmp_path / "x.jsonl"), "--no-progress"])
    assert result.exit_code == 3
    assert "component_verify_ticket" in result.output
    assert "secret-value-xyz" not in result.output


def test_audit_output_path_problem_is_a_clean_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["audit", "--emulator", "3", "--out", str(tmp_path), "--no-progress"]
    )
    assert result.exit_code == 3
    assert "cannot write" in result.output
    assert "Traceback" not in result.output


def test_tracebacks_never_show_locals() -> None:
    # typer's pretty tracebacks would print local variables: the appsecret, tokens.
    assert app.pretty_exceptions_show_locals is False


def test_get_finds_the_refresh_token_in_the_authorizer_list() -> None:
    emu = Emulator(authorizers=10, seed=0)
    appid = next(a for a in emu.authorizer_appids if emu.profile(a) != "no_permission")
    result = runner.invoke(app, ["get", appid, "--emulator", "10"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["code_exist"] in (0, 1)


def test_get_for_an_appid_that_is_not_an_authorizer_says_so() -> None:
    result = runner.invoke(app, ["get", "wx00000000000000ff", "--emulator", "10"])
    assert result.exit_code == 1
    assert "is not an authorizer of component" in result.output


async def test_ticket_flag_never_replaces_the_stored_ticket(
    redis_client: object, redis_prefix: str
) -> None:
    from redis_support import REDIS_URL

    from wxprivacy import RedisTokenStore
    from wxprivacy.cli._options import ClientOptions, open_client

    comp = "wx0000000000000000"
    async with RedisTokenStore.from_url(REDIS_URL, key_prefix=redis_prefix) as store:
        await store.set_verify_ticket(comp, "ticket@@@from-callback", 12 * 3600)
    settings = ClientOptions(
        component_appid=comp,
        component_appsecret="secret-value",
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
        ticket="ticket@@@stale-from-env",
    )
    async with open_client(settings) as client:
        assert await client.token_store.get_verify_ticket(comp) == "ticket@@@from-callback"


# -- regressions from the issue-13 trial (a fresh clone, the README, then breaking it) -----------


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


# -- found by the re-check of the trials --------------------------------------------------


@pytest.mark.parametrize("url", ["redis://:pw@[::1:6379/0", "http://x/", "redis://h:notaport/0"])
def test_a_redis_url_redis_py_cannot_read_is_one_line(url: str) -> None:
    env = {
        "WXPRIVACY_COMPONENT_APPID": "wx0000000000000000",
        "WXPRIVACY_COMPONENT_APPSECRET": "s",
        "WXPRIVACY_REDIS_URL": url,
    }
    result = runner.invoke(app, ["get", "wx1111111111111111"], env=env)
    assert result.exit_code == 2, result.output
    assert "--redis-url" in result.output and "Traceback" not in result.output
    assert "pw" not in result.output.replace("password", "")


def test_a_guideline_nested_too_deeply_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text("a = " + "[" * 600 + "]" * 600 + "\n")
    result = runner.invoke(
        app, ["set", "wx1111111111111111", "--from", str(path), "--emulator", "1"]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output


@pytest.mark.parametrize(
    "args", [["--port", "99999"], ["--port", "-1"], ["--token-ttl", "nan"], ["--latency", "inf"],
             ["--token-ttl", "-5"], ["--grace", "nan"]]
)  # fmt: skip
def test_emulator_options_out_of_range_are_usage_errors(args: list[str]) -> None:
    result = runner.invoke(app, ["emulator", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output
