"""``wxprivacy audit --out FILE`` never destroys an earlier audit (issue 9, section 4).

- A non-empty FILE without --force or --resume is refused before anything else: exit 2, the
  message names --force, FILE is byte for byte as it was.
- With --force or --resume, a run that fails at once (no ticket, wrong secret, unreachable host)
  leaves FILE byte for byte as it was.
- A run stopped at each of its file operations (an exception in-process; SIGKILL in a child
  process, no cleanup at all) leaves every authorizer that had a record with that record or a
  newer one, in whole lines; a --force run leaves the old file or only new records.
- A complete --resume replaces failure records with successes, one line per authorizer.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from audit_faults import CountingOs, Stopped
from typer.testing import CliRunner

from wxprivacy import ComponentClient, _audit_file
from wxprivacy.audit import dumps_line, latest_records, parse_line, run_audit, summarize
from wxprivacy.cli import app
from wxprivacy.emulator import Emulator, EmulatorServer, start_server

runner = CliRunner()
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
GP = "/cgi-bin/component/getprivacysetting"
N = 40
SEED = 3
OLD = b'{"authorizer_appid":"wx00000000000000aa","privacy_ver":2,"ok":true}\n' * 3


@pytest.fixture(autouse=True)
def no_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("WXPRIVACY_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def wechat_url() -> Iterator[str]:
    """An emulator served over HTTP from a thread, for runs with (wrong) real credentials."""
    emu = Emulator(authorizers=5, seed=SEED)
    loop = asyncio.new_event_loop()
    started: queue.Queue[EmulatorServer] = queue.Queue()

    def serve() -> None:
        server = loop.run_until_complete(start_server(emu))
        started.put(server)
        loop.run_forever()
        loop.run_until_complete(server.aclose())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = started.get(timeout=10).url
    yield url
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def failing_run(kind: str, wechat_url: str) -> list[str]:
    """Options of an audit that can do nothing at all."""
    emu = Emulator(authorizers=0)
    if kind == "no-ticket":
        return ["--component-appid", emu.component_appid, "--component-appsecret", "s3cret"]
    if kind == "wrong-secret":
        creds = ["--component-appid", emu.component_appid, "--component-appsecret", "wrong"]
        return [*creds, "--ticket", "ticket@@@x", "--base-url", wechat_url]
    assert kind == "unreachable"
    creds = ["--component-appid", emu.component_appid, "--component-appsecret", "s3cret"]
    return [*creds, "--ticket", "ticket@@@x", "--base-url", closed_port_url()]


def said(output: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(output.split())


def listing(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


@pytest.mark.parametrize("kind", ["emulator", "no-ticket", "wrong-secret", "unreachable", "demo"])
def test_a_non_empty_out_is_refused_without_force(
    kind: str, tmp_path: Path, wechat_url: str
) -> None:
    out = tmp_path / "audit.jsonl"
    out.write_bytes(OLD + b'{"torn')
    before = listing(tmp_path)
    if kind == "demo":
        args = ["demo", "--authorizers", "5", "--out", str(out)]
    else:
        run = ["--emulator", "5"] if kind == "emulator" else failing_run(kind, wechat_url)
        args = ["audit", "--out", str(out), "--no-progress", *run]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--force" in said(result.output) and "--resume" in said(result.output)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("kind", ["no-ticket", "wrong-secret", "unreachable"])
@pytest.mark.parametrize("flag", ["--force", "--resume"])
def test_a_run_that_fails_at_once_leaves_the_old_audit(
    flag: str, kind: str, tmp_path: Path, wechat_url: str
) -> None:
    out = tmp_path / "audit.jsonl"
    out.write_bytes(OLD + b'{"torn')  # even a torn last line stays until a record comes
    before = listing(tmp_path)
    args = ["audit", "--out", str(out), "--no-progress", flag, *failing_run(kind, wechat_url)]
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output
    assert f"{out} was not changed" in said(result.output)
    assert listing(tmp_path) == before  # no temporary file left behind either


def test_resume_and_force_together_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    out.write_bytes(OLD)
    result = runner.invoke(
        app, ["audit", "--emulator", "3", "--out", str(out), "--resume", "--force"]
    )
    assert result.exit_code == 2
    assert out.read_bytes() == OLD


@asynccontextmanager
async def emulated(emu: Emulator) -> AsyncIterator[ComponentClient]:
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        async with ComponentClient(
            emu.component_appid, emu.component_appsecret, http_client=http
        ) as client:
            await client.set_component_verify_ticket(emu.component_verify_ticket)
            yield client


def failure(appid: str) -> dict[str, Any]:
    error = {"type": "QuotaExceededError", "message": "[45009] quota", "errcode": 45009}
    return {"authorizer_appid": appid, "privacy_ver": 2, "ok": False, "error": error}


async def audit_with_failures(path: Path, client: ComponentClient) -> set[str]:
    """Audit the fleet into ``path``, then :func:`make_failures` in it."""
    await run_audit(client, path)
    return make_failures(path)


def make_failures(path: Path) -> set[str]:
    """Turn every third success in the audit at ``path`` into a failure record.

    Also puts a stale failure line before the first success kept (as an interrupted resume
    leaves them). Returns the appids whose last record is now a (made-up) failure.
    """
    records = [parse_line(line) for line in path.read_bytes().splitlines(keepends=True)]
    lines: list[bytes] = []
    made_up: set[str] = set()
    for i, record in enumerate(r for r in records if r is not None):
        appid = record["authorizer_appid"]
        if record["ok"] and i % 3 == 0:
            made_up.add(appid)
            record = failure(appid)
        elif record["ok"] and not lines:
            lines.append(dumps_line(failure(appid)))  # replaced by the success after it
        lines.append(dumps_line(record))
    path.write_bytes(b"".join(lines))
    assert made_up
    return made_up


def files_in(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def assert_nothing_lost(before: dict[str, dict[str, Any]], path: Path, context: object) -> None:
    """Whole lines, each a record; every authorizer in ``before`` has that record or a newer one.

    A success is never fetched again, so it must be there unchanged.
    """
    data = path.read_bytes()
    assert data.endswith(b"\n"), context
    assert all(parse_line(line) for line in data.splitlines(keepends=True)), context
    after = latest_records(path)
    assert set(before) <= set(after), (context, set(before) - set(after))
    for appid, record in before.items():
        if record["ok"]:
            assert after[appid] == record, (context, appid)


def assert_complete(path: Path, emu: Emulator, made_up: set[str]) -> None:
    """One line per authorizer of the fleet; only the genuine failures (61007) are left."""
    lines = path.read_bytes().splitlines(keepends=True)
    records = [parse_line(line) for line in lines]
    appids = [r["authorizer_appid"] for r in records if r is not None]
    assert sorted(appids) == sorted(emu.authorizer_appids)  # each once
    failed = {r["authorizer_appid"] for r in records if r is not None and not r["ok"]}
    assert failed == {a for a in emu.authorizer_appids if emu.profile(a) == "no_permission"}
    assert not failed & made_up


async def test_resume_replaces_failure_records_with_successes(tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    emu = Emulator(authorizers=N, seed=SEED)
    async with emulated(emu) as client:
        made_up = await audit_with_failures(out, client)
        before = latest_records(out)
        to_fetch = {a for a, r in before.items() if not r["ok"]}
        assert made_up < to_fetch  # the genuine failures are fetched again too
        emu.reset_calls()
        summary = await run_audit(client, out, resume=True)
    assert emu.calls[GP] == len(to_fetch)
    assert_nothing_lost(before, out, "complete")
    assert_complete(out, emu, made_up)
    assert summary.as_dict() == summarize(latest_records(out).values()).as_dict()
    assert summary.total == N
    assert files_in(tmp_path) == [out]


async def test_resume_reads_the_last_record_of_each_authorizer(tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    emu = Emulator(authorizers=N, seed=SEED)
    async with emulated(emu) as client:
        await run_audit(client, out)
        lines = out.read_bytes().splitlines(keepends=True)
        ok = [line for line in lines if parse_line(line)["ok"]]  # type: ignore[index]
        first, second = (parse_line(line)["authorizer_appid"] for line in ok[:2])  # type: ignore[index]
        # first: a success, then a failure (fetched again); second: the reverse (not fetched)
        out.write_bytes(
            b"".join(lines) + dumps_line(failure(first)) + dumps_line(failure(second)) + ok[1]
        )
        emu.reset_calls()
        await run_audit(client, out, resume=True)
    genuine = sum(emu.profile(a) == "no_permission" for a in emu.authorizer_appids)
    assert emu.calls[GP] == genuine + 1
    assert_complete(out, emu, {first})


async def stop_every_step(tmp_path: Path, *, resume: bool, torn: bool = False) -> list[str]:
    """Run an audit stopped at file operation k, for every k, checking what the file holds.

    With ``resume``: a file with failure records (and a ``torn`` last line) is resumed; every
    authorizer keeps its record or a newer one, and a complete resume afterwards finishes the
    job. Without: a ``--force`` run over an unrelated old file leaves that file or only records
    of the new run. Returns the file operations of an unstopped run.
    """
    out = tmp_path / "audit.jsonl"
    emu = Emulator(authorizers=N, seed=SEED)
    async with emulated(emu) as client:
        if resume:
            made_up = await audit_with_failures(out, client)
            if torn:
                out.write_bytes(out.read_bytes() + dumps_line(failure("wx00000000000000ff"))[:20])
        else:
            out.write_bytes(OLD)
        start = out.read_bytes()
        before = latest_records(out)
        counting = CountingOs()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_audit_file, "os", counting)
            await run_audit(client, out, resume=resume, force=not resume)
        for at in range(1, counting.count + 1):
            for when in ("before", "after"):
                context = (at, when, counting.ops[at - 1])
                out.write_bytes(start)
                with pytest.MonkeyPatch.context() as patch:
                    patch.setattr(_audit_file, "os", CountingOs(at, when=when))
                    with pytest.raises(Stopped):
                        await run_audit(client, out, resume=resume, force=not resume)
                assert files_in(tmp_path) == [out], context  # the temporary file is gone
                if out.read_bytes() == start:
                    continue  # untouched (stopped before the first record was in place)
                if resume:
                    assert_nothing_lost(before, out, context)
                    await run_audit(client, out, resume=True)
                    assert_complete(out, emu, made_up)
                else:
                    records = [parse_line(x) for x in out.read_bytes().splitlines(keepends=True)]
                    assert records and all(records), context
                    appids = {r["authorizer_appid"] for r in records if r is not None}
                    assert appids <= set(emu.authorizer_appids), context
    return counting.ops


@pytest.mark.parametrize("torn", [False, True], ids=["whole", "torn-last-line"])
async def test_a_resume_stopped_at_any_file_operation_loses_no_record(
    torn: bool, tmp_path: Path
) -> None:
    ops = await stop_every_step(tmp_path, resume=True, torn=torn)
    # one append per authorizer fetched again, then the rewrite to one line each
    assert ops[-4:] == ["open", "chmod", "fsync", "replace"]
    first = ["truncate", "open"] if torn else ["open"]
    assert ops[: len(first)] == first
    assert ops.count("write") > N // 3


async def test_force_keeps_the_old_file_until_the_new_run_has_a_record(tmp_path: Path) -> None:
    ops = await stop_every_step(tmp_path, resume=False)
    # the first record goes to a temporary file renamed over the old one; the rest is appended
    assert ops == ["open", "chmod", "write", "fsync", "replace", *["write"] * (N - 1)]


def kill_points(total: int, count: int, seed: int) -> list[tuple[int, str]]:
    """The first and last operations, and a seeded sample of the others, before or after."""
    rng = random.Random(seed)
    middle = rng.sample(range(2, total), min(count, total - 2))
    return [
        (1, "before"),
        *((k, rng.choice(["before", "after"])) for k in middle),
        (total, "after"),
    ]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_sigkilled_resume_loses_no_record(tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    emu = Emulator(authorizers=N, seed=SEED)  # the fleet of --emulator N --seed SEED
    counting = CountingOs()

    async def prepare() -> set[str]:
        async with emulated(emu) as client:
            made_up = await audit_with_failures(out, client)
            copy = out.with_name("copy.jsonl")
            copy.write_bytes(out.read_bytes())
            with pytest.MonkeyPatch.context() as patch:  # count the operations of a resume
                patch.setattr(_audit_file, "os", counting)
                await run_audit(client, copy, resume=True)
            copy.unlink()
            return made_up

    made_up = asyncio.run(prepare())
    start = out.read_bytes()
    before = latest_records(out)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]))
    cli = ["--emulator", str(N), "--seed", str(SEED), "--out", str(out), "--no-progress"]
    for at, when in kill_points(counting.count, 8, seed=9):
        context = (at, when, counting.ops[at - 1])
        out.write_bytes(start)
        child = subprocess.run(
            [
                sys.executable,
                *("-c", "from audit_faults import main; main()"),
                *(str(at), when, "--", "audit", *cli, "--resume"),
            ],
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert child.returncode == -9, (context, child.stderr.decode(errors="replace"))
        for leftover in set(tmp_path.iterdir()) - {out}:  # no cleanup ran: a temp may remain
            assert leftover.name.endswith(".tmp"), context
            leftover.unlink()
        assert_nothing_lost(before, out, context)
        result = runner.invoke(app, ["audit", *cli, "--resume"])
        assert result.exit_code == 1, (context, result.output)  # 61007 is left
        assert_complete(out, emu, made_up)


def test_force_replaces_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "audits" / "2024-w1.jsonl"
    target.parent.mkdir()
    target.write_bytes(OLD)
    link = tmp_path / "latest.jsonl"
    link.symlink_to(target)
    result = runner.invoke(app, ["audit", "--emulator", "5", "--out", str(link), "--force"])
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert len(latest_records(target)) == 5


def test_out_may_be_dev_null() -> None:
    result = runner.invoke(app, ["audit", "--emulator", "5", "--out", os.devnull])
    assert result.exit_code == 0, result.output
    assert "Audited 5 authorizers" in result.output
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()


def test_the_demo_replaces_its_own_file_but_never_one_you_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the README trial: a second ``wxprivacy demo`` exited 2 on its own file."""
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        result = runner.invoke(app, ["demo", "--authorizers", "5"])
        assert result.exit_code in (0, 1), result.output  # 1: emulated 61007s
    assert (tmp_path / "audit-demo.jsonl").read_bytes().count(b"\n") == 5
    mine = tmp_path / "mine.jsonl"
    mine.write_bytes(OLD)
    result = runner.invoke(app, ["demo", "--authorizers", "5", "--out", str(mine)])
    assert result.exit_code == 2 and mine.read_bytes() == OLD
