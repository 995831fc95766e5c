"""Fault soak: 10,000 fetches through faults over real HTTP; nothing lost, duplicated or over-tried.

The emulator (served over loopback by uvicorn in the test's loop) injects on getprivacysetting:
5 % errcode -1, 2 % HTTP 5xx, 1 % held-back answers (read timeouts), 1 % connection resets
mid-body and 0.5 % truncated bodies. The audit writes one JSONL line per authorizer. Checked:
every authorizer appears exactly once, with its guideline or a typed error, and the requests the
emulator counted equal exactly what the retry policy allows (see :func:`expected_calls`).
``benchmarks/bench_soak.py`` runs the same check with more authorizers.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import httpx
import orjson
import pytest

from wxprivacy import ComponentClient, RetryPolicy
from wxprivacy.audit import run_audit
from wxprivacy.emulator import Emulator, Faults, start_server

GP = "/cgi-bin/component/getprivacysetting"
FAULTS = Faults(
    system_error=0.05,
    http_5xx=0.02,
    timeout=0.01,
    reset=0.01,
    truncated=0.005,
    paths=[GP],
    timeout_delay=10.0,  # the server stops holding back once the client gives up
)
# fast backoff keeps the test short; the attempt count is the default policy's
POLICY = RetryPolicy(max_attempts=4, initial_backoff=0.02, max_backoff=0.1)
TRANSIENT = {"SystemBusyError", "TransportError"}


@attrs.define
class SoakReport:
    """What one soak run counted."""

    authorizers: int
    records: int
    ok: int
    errors: Counter[str]
    calls: int
    faults: dict[str, int]
    expected_calls: int


def expected_calls(n: int, faults: int, errors: Counter[str]) -> int:
    """Requests the policy allows: one per authorizer, plus one per retried fault.

    Every injected fault is retried except a truncated body (the answer arrived; it is a
    ResponseFormatError) and the last fault of an authorizer that ran out of attempts.
    """
    return n + faults - errors["ResponseFormatError"] - sum(errors[k] for k in TRANSIENT)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL file, parsed (a torn line fails the test)."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def soak(
    n: int, out: Path, *, concurrency: int = 64, transport: str | None = None
) -> SoakReport:
    """Audit ``n`` emulated authorizers through :data:`FAULTS`; return the counts."""
    emu = Emulator(authorizers=n, seed=17)
    async with await start_server(emu) as server:
        async with ComponentClient(
            emu.component_appid,
            emu.component_appsecret,
            base_url=server.url,
            transport=transport,  # type: ignore[arg-type]
            retry=POLICY,
            # a read timeout far above a busy machine's slowest real answer (client and server
            # share this loop): only the held-back answers time out, as the count assumes
            timeout=httpx.Timeout(2.0, connect=5.0),
        ) as client:
            await client.set_component_verify_ticket(emu.component_verify_ticket)
            emu.faults = FAULTS
            summary = await run_audit(client, out, concurrency=concurrency)
    records = read_jsonl(out)
    appids = Counter(r["authorizer_appid"] for r in records)
    assert set(appids) == set(emu.authorizer_appids), "an authorizer is missing"
    assert max(appids.values()) == 1, "an authorizer was written twice"
    errors: Counter[str] = Counter()
    for record in records:
        appid = record["authorizer_appid"]
        if record["ok"]:
            assert sorted(record["undeclared_keys"]) == emu.expected_undeclared(appid)
        else:
            errors[record["error"]["type"]] += 1
            if emu.profile(appid) != "no_permission":
                assert record["error"]["type"] in TRANSIENT | {"ResponseFormatError"}, record
    assert summary.total == n
    injected = dict(emu.faults_injected)
    return SoakReport(
        authorizers=n,
        records=len(records),
        ok=sum(1 for r in records if r["ok"]),
        errors=errors,
        calls=emu.calls[GP],
        faults=injected,
        expected_calls=expected_calls(n, sum(injected.values()), errors),
    )


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_ten_thousand_fetches_through_faults(tmp_path: Path) -> None:
    report = await soak(10_000, tmp_path / "audit.jsonl")
    assert report.records == 10_000
    assert report.calls == report.expected_calls
    assert report.calls <= 10_000 * POLICY.max_attempts
    # every kind of fault was exercised
    assert set(report.faults) == {"system_error", "http_5xx", "timeout", "reset", "truncated"}
    # a read timeout or reset is retried like the rest: far fewer failures than faults
    assert sum(report.errors[k] for k in TRANSIENT) < sum(report.faults.values()) / 50
