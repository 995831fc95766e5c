"""``wxprivacy audit`` interrupted by SIGINT keeps a valid JSONL; ``--resume`` finishes the rest.

Two real processes: the emulator (``python -m wxprivacy.emulator``, 20 ms per answer) and the
command line auditing it over HTTP. The audit is interrupted once its file holds some records;
the resumed audit must fetch exactly the authorizers not yet read successfully (the emulator
counts).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import orjson
import pytest

ROOT = str(Path(__file__).resolve().parent.parent)
GP = "/cgi-bin/component/getprivacysetting"
N = 1500


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=ROOT, WXPRIVACY_COMPONENT_APPSECRET="emulator-secret")


@asynccontextmanager
async def emulator(*args: str) -> AsyncIterator[str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "wxprivacy.emulator", "--port", "0", *args),
        env=env(),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode()
        yield line.split()[-1]
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), timeout=10)


def audit_args(url: str, ticket: str, out: Path, *extra: str) -> list[str]:
    return [
        *("-c", "from wxprivacy.cli import main; main()", "audit"),
        *("--out", str(out), "--base-url", url, "--ticket", ticket),
        *("--component-appid", "wx0000000000000000", "--no-progress", "--concurrency", "16"),
        *extra,
    ]


def records(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "torn last line"
    return [orjson.loads(line) for line in data.splitlines()]


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_sigint_leaves_valid_jsonl_and_resume_fetches_only_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    async with emulator("--authorizers", str(N), "--latency", "0.02") as url:
        async with httpx.AsyncClient(base_url=url) as http:
            ticket = (await http.get("/_emulator/state")).json()["component_verify_ticket"]
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *audit_args(url, ticket, out),
                env=env(),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            while lines_in(out) < 200:
                assert proc.returncode is None, "the audit finished before it was interrupted"
                await asyncio.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
            assert proc.returncode == 130, stderr.decode(errors="replace")
            assert b"--resume" in stderr

            first = records(out)  # every line parses: nothing torn
            written = Counter(str(r["authorizer_appid"]) for r in first)
            assert 200 <= len(written) < N and max(written.values()) == 1
            done = {str(r["authorizer_appid"]) for r in first if r["ok"]}
            fetched_before = (await http.get("/_emulator/calls")).json()["calls"][GP]
            assert fetched_before >= len(written)  # in flight at SIGINT: fetched, not written

            await http.post("/_emulator/reset_calls")
            resumed = await asyncio.create_subprocess_exec(
                sys.executable,
                *audit_args(url, ticket, out, "--resume"),
                env=env(),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, stderr = await asyncio.wait_for(resumed.communicate(), timeout=60)
            assert resumed.returncode in (0, 1), stderr.decode(errors="replace")
            calls = (await http.get("/_emulator/calls")).json()["calls"]

    final = Counter(str(r["authorizer_appid"]) for r in records(out))
    assert len(final) == N and max(final.values()) == 1  # all of them, each once
    # the guidelines already read were not fetched again (failed ones are retried on resume)
    assert calls[GP] == N - len(done)
