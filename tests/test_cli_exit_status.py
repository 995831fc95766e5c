"""Every command exits with the statuses of the table in docs/cli.md, whatever the failure.

Each case runs one command against one failure: no verify ticket, a wrong appsecret, an
unreachable host, missing credentials (against an emulator served over HTTP, here by
``python -m wxprivacy.emulator``), 61007 and an appid that is no authorizer (in-process
emulator), bad input files, an existing ``--out``, Ctrl-C; and the successes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from wxprivacy import ComponentClient
from wxprivacy.cli import app
from wxprivacy.cli._output import ExitStatus
from wxprivacy.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
SECRET = "the-right-secret-value"
GUIDELINE = """
[owner_setting]
contact_email = "privacy@example.com"
notice_method = "弹窗提示"

[[setting_list]]
privacy_key = "UserInfo"
privacy_text = "展示会员头像与昵称"
"""
TEMPLATE = '[purposes]\nUserInfo = "展示会员头像与昵称"\n'
FLEET = Emulator(authorizers=10, seed=0)  # what --emulator 10 serves
READABLE = next(a for a in FLEET.authorizer_appids if FLEET.profile(a) != "no_permission")
NO_PERMISSION = next(a for a in FLEET.authorizer_appids if FLEET.profile(a) == "no_permission")
STRANGER = "wx00000000000000ff"


@dataclass(frozen=True)
class Served:
    """An emulator served over HTTP, and what a test needs to reach it."""

    url: str
    component_appid: str
    ticket: str
    appid: str


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    argv = ["--port", "0", "--authorizers", "3", "--component-appsecret", SECRET]
    with subprocess.Popen(
        [sys.executable, "-m", "wxprivacy.emulator", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("listening on "), line
            url = line.split()[-1]
            state = httpx.get(f"{url}/_emulator/state").json()
            yield Served(
                url,
                state["component_appid"],
                state["component_verify_ticket"],
                state["authorizers"][0]["authorizer_appid"],
            )
        finally:
            proc.terminate()
            assert proc.wait(10) == ExitStatus.OK  # SIGTERM stops the emulator cleanly


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("WXPRIVACY_"):
            monkeypatch.delenv(name)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Files:
    guideline: Path
    bad_guideline: Path
    template: Path
    bad_template: Path
    out: Path
    existing: Path


@pytest.fixture
def files(tmp_path: Path) -> Files:
    paths = Files(*(tmp_path / name for name in ("g.toml", "bad.toml", "t.toml", "badt.toml")),
                  tmp_path / "audit.jsonl", tmp_path / "earlier.jsonl")  # fmt: skip
    paths.guideline.write_text(GUIDELINE, "utf-8")
    paths.bad_guideline.write_text("[owner_setting\n", "utf-8")
    paths.template.write_text(TEMPLATE, "utf-8")
    paths.bad_template.write_text("[purposes]\nUserInfo = 3\n", "utf-8")
    paths.existing.write_text('{"authorizer_appid": "wx1", "ok": true}\n', "utf-8")
    return paths


def command_line(command: str, files: Files, *, appid: str = READABLE) -> list[str]:
    """The command with the arguments it needs before the failure's own options."""
    return {
        "audit": ["audit", "--out", str(files.out), "--no-progress"],
        "get": ["get", appid],
        "set": ["set", appid, "--from", str(files.guideline)],
        "apply-template": ["apply-template", str(files.template)],
    }[command]


Argv = Callable[[str, Files, Served], list[str]]
Value = str | Callable[[Served], str]


def platform(**options: Value) -> Argv:
    """Run against the served emulator with these client options ("" leaves one out)."""

    def argv(command: str, files: Files, served: Served) -> list[str]:
        values: dict[str, Value] = {
            "component-appid": served.component_appid,
            "component-appsecret": SECRET,
            "base-url": served.url,
            **options,
        }
        flags = []
        for name, value in values.items():
            text = value(served) if callable(value) else value
            if text:
                flags += [f"--{name}", text]
        return command_line(command, files, appid=served.appid) + flags

    return argv


def emulated(appid: str, authorizers: int = 10) -> Argv:
    """Run against an in-process emulator (``--emulator N``), for ``appid``."""

    def argv(command: str, files: Files, served: Served) -> list[str]:
        return command_line(command, files, appid=appid) + ["--emulator", str(authorizers)]

    return argv


CLIENT_COMMANDS = ("audit", "get", "set", "apply-template")
# (failure, how to run a command into it, the status every client command exits with)
PLATFORM_FAILURES: list[tuple[str, Argv, ExitStatus]] = [
    ("no_ticket", platform(), ExitStatus.FATAL),
    ("bad_secret",
     platform(**{"component-appsecret": "wrong-secret-xyz", "ticket": lambda s: s.ticket}),
     ExitStatus.FATAL),
    ("unreachable_host",
     platform(**{"base-url": lambda s: f"http://127.0.0.1:{closed_port()}", "ticket": "t-1"}),
     ExitStatus.FATAL),
    ("no_credentials", platform(**{"component-appid": "", "component-appsecret": ""}),
     ExitStatus.USAGE),
]  # fmt: skip


def run(argv: list[str]) -> Any:
    result = runner.invoke(app, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(result.output) from result.exception
    return result


@pytest.mark.parametrize("command", CLIENT_COMMANDS)
@pytest.mark.parametrize(
    ("failure", "make", "status"), PLATFORM_FAILURES, ids=[c[0] for c in PLATFORM_FAILURES]
)
def test_platform_failures_exit_alike_in_every_command(
    command: str,
    failure: str,
    make: Argv,
    status: ExitStatus,
    files: Files,
    served: Served,
) -> None:
    argv = make(command, files, served)
    result = run(argv)
    assert result.exit_code == status, (argv, result.output)
    assert "Traceback" not in result.output
    assert SECRET not in result.output and "wrong-secret-xyz" not in result.output
    expected = {
        "no_ticket": "component_verify_ticket",
        "bad_secret": "40001",
        "unreachable_host": "error:",
        "no_credentials": "WXPRIVACY_COMPONENT_APPSECRET",
    }[failure]
    assert expected in result.output, result.output
    if command == "audit" and status == ExitStatus.FATAL:
        assert "was not changed" in result.output
        assert not files.out.exists()


MINI_PROGRAM_CASES: list[tuple[str, str, Argv, ExitStatus]] = [
    ("get", "ok", emulated(READABLE), ExitStatus.OK),
    ("get", "61007", emulated(NO_PERMISSION), ExitStatus.FAILED),
    ("get", "not_an_authorizer", emulated(STRANGER), ExitStatus.FAILED),
    ("set", "ok_dry_run", lambda c, f, s: [*emulated(READABLE)(c, f, s), "--dry-run"],
     ExitStatus.OK),
    ("set", "ok_written", emulated(READABLE), ExitStatus.OK),
    ("set", "61007", emulated(NO_PERMISSION), ExitStatus.FAILED),
    ("set", "not_an_authorizer", emulated(STRANGER), ExitStatus.FAILED),
    ("audit", "ok_no_authorizers", emulated(READABLE, 0), ExitStatus.OK),
    ("audit", "61007_in_the_fleet", emulated(READABLE), ExitStatus.FAILED),
    ("apply-template", "ok_no_authorizers", emulated(READABLE, 0), ExitStatus.OK),
    ("apply-template", "61007_in_the_fleet", emulated(READABLE), ExitStatus.FAILED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "case", "make", "status"),
    MINI_PROGRAM_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in MINI_PROGRAM_CASES],
)
def test_mini_program_outcomes(
    command: str, case: str, make: Argv, status: ExitStatus, files: Files, served: Served
) -> None:
    result = run(make(command, files, served))
    assert result.exit_code == status, result.output
    if case == "61007" or case == "61007_in_the_fleet":
        assert "61007" in result.output
    if case == "not_an_authorizer":
        assert "is not an authorizer of component" in result.output


def bad_input(command: str, files: Files) -> list[str]:
    return {
        "audit": ["audit", "--out", str(files.existing), "--emulator", "3", "--no-progress"],
        "get": ["get", " ", "--refresh-token", "r", "--emulator", "3"],  # a blank appid
        "set": ["set", READABLE, "--from", str(files.bad_guideline), "--emulator", "3"],
        "apply-template": ["apply-template", str(files.bad_template), "--emulator", "3"],
        "demo": ["demo", "--out", str(files.existing)],
        "emulator": ["emulator", "--port", "0", "--fault-reset", "0.6", "--fault-timeout", "0.6"],
    }[command]


@pytest.mark.parametrize("command", [*CLIENT_COMMANDS, "demo", "emulator"])
def test_bad_input_is_usage_and_sends_nothing(command: str, files: Files) -> None:
    before = files.existing.read_bytes()
    result = run(bad_input(command, files))
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "error:" in result.output
    assert files.existing.read_bytes() == before


@pytest.mark.parametrize("option", ["--ver", "--privacy-ver"])
@pytest.mark.parametrize("command", ["audit", "get"])
def test_an_option_out_of_range_is_usage(command: str, option: str, files: Files) -> None:
    argv = command_line(command, files) + ["--emulator", "1", option, "3"]
    assert run(argv).exit_code == ExitStatus.USAGE


@pytest.mark.parametrize("command", CLIENT_COMMANDS)
def test_ctrl_c_exits_130_in_every_command(
    command: str, files: Files, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def interrupted(self: ComponentClient, *args: object, **kwargs: object) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(ComponentClient, "list_authorizers", interrupted)
    monkeypatch.setattr(ComponentClient, "get_privacy_setting", interrupted)
    result = run(emulated(READABLE)(command, files, served))
    assert result.exit_code == ExitStatus.INTERRUPTED, result.output
    assert "interrupted" in result.output


def test_demo_is_audit_on_an_emulator(files: Files) -> None:
    result = run(["demo", "--authorizers", "20", "--out", str(files.out)])
    assert result.exit_code == ExitStatus.FAILED  # the seeded fleet has 61007s
    assert len(files.out.read_text("utf-8").splitlines()) == 20


def test_emulator_that_cannot_listen_is_fatal() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["emulator", "--port", str(port), "--authorizers", "1"])
    assert result.exit_code == ExitStatus.FATAL, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_emulator_stopped_by_a_signal_exits_0(how: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", "from wxprivacy.cli import main; main()", "emulator"]
        + ["--port", "0", "--authorizers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("listening on http://127.0.0.1:")
            proc.send_signal(getattr(signal, how))
            assert proc.wait(10) == ExitStatus.OK
        finally:
            if proc.poll() is None:
                proc.kill()
