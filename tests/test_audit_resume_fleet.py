"""Issue 13 §3: ``--resume`` on a fleet that changed counts only the authorizers listed now.

Before: the records of authorizers no longer listed stayed in the summary, so a fleet of 48
printed "Audited 50". They stay in the file (the audit's history), out of the summary.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from wxprivacy import ComponentClient
from wxprivacy.audit import run_audit
from wxprivacy.emulator import Emulator


async def _audit(emu: Emulator, out: Path, *, resume: bool) -> int:
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        summary = await run_audit(client, out, resume=resume)
    return summary.total


@pytest.mark.parametrize("gone", [1, 2, 10])
async def test_a_resumed_audit_counts_the_current_fleet(tmp_path: Path, gone: int) -> None:
    emu = Emulator(authorizers=30, seed=8)
    out = tmp_path / "audit.jsonl"
    assert await _audit(emu, out, resume=False) == 30
    for appid in emu.authorizer_appids[:gone]:
        emu.revoke_authorization(appid)  # no longer listed by api_get_authorizer_list
    emu.add_authorizer("wx" + "f" * 16)  # and one new Mini Program
    assert await _audit(emu, out, resume=True) == 30 - gone + 1
    kept = {orjson.loads(line)["authorizer_appid"] for line in out.read_bytes().splitlines()}
    assert kept == set(emu.authorizer_appids)  # the file keeps the gone ones' records
