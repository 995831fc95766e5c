"""Audits for the fleet-report tests: a fleet audited twice, with changes in between, and hostile
values from WeChat (a custom privacy key and an error message that are HTML)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from wxprivacy import ComponentClient
from wxprivacy.audit import latest_records, run_audit
from wxprivacy.emulator import Emulator

XSS = "<img src=x onerror=alert(1)>"
SCRIPT_END = "</script><script>alert(2)</script>"
GP = "/cgi-bin/component/getprivacysetting"


def hostile(emu: Emulator, message_for: str) -> None:
    """Make WeChat answer ``message_for``'s getprivacysetting with an errmsg that is HTML."""
    handle = emu.handle
    body = b'{"errcode":86074,"errmsg":"' + (XSS + SCRIPT_END).replace('"', '\\"').encode() + b'"}'

    async def answer(method: str, path: str, query: Any, data: bytes, headers: Any) -> Any:
        if path == GP and query.get("access_token") == emu.current_authorizer_access_token(
            message_for
        ):
            from wxprivacy.emulator._payloads import EmulatorResponse

            return EmulatorResponse(200, {"content-type": "application/json"}, body)
        return await handle(method, path, query, data, headers)

    emu.handle = answer  # type: ignore[method-assign]


async def _audit(emu: Emulator, out: Path) -> None:
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, emu.component_appsecret, http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        await run_audit(client, out, concurrency=32)
        await client.aclose()


def two_audits(tmp: Path, authorizers: int = 500) -> tuple[Path, Path, Emulator]:
    """Audit a fleet (``older.jsonl``), change it, audit again (``audit.jsonl``).

    Between the two: 10 Mini Programs declare what they use (fixed), 10 start using a key they
    do not declare, 5 revoke the authorization (gone), 5 new ones authorize, one uses the custom
    key :data:`XSS`, and WeChat answers one with an HTML error message.
    """
    emu = Emulator(authorizers=authorizers, seed=7)
    older, newer = tmp / "older.jsonl", tmp / "audit.jsonl"
    asyncio.run(_audit(emu, older))
    records = latest_records(older)
    appids = list(records)
    undeclared = [a for a in appids if records[a].get("undeclared_keys")]
    clean = [a for a in appids if records[a].get("ok") and not records[a].get("undeclared_keys")]
    for appid in undeclared[:10]:  # they declare every key they use
        used = records[appid]["setting"]["privacy_list"]
        emu.set_privacy_setting(
            appid,
            {
                **_kept(records[appid]["setting"]),
                "setting_list": [
                    {"privacy_key": key, "privacy_text": "用于提供服务"} for key in used
                ],
            },
        )
    for appid in clean[:10]:  # they start using Album without declaring it
        setting = _kept(records[appid]["setting"])
        setting["privacy_list"] = [*setting.get("privacy_list", []), "Album"]
        emu.set_privacy_setting(appid, setting)
    for appid in clean[10:15]:
        emu.revoke_authorization(appid)
    for k in range(5):
        emu.authorize(f"wx{k:04d}aaaabbbbcccc", permission_sets=[18])
    emu.set_privacy_setting(
        clean[20], {**_kept(records[clean[20]]["setting"]), "privacy_list": [XSS]}
    )
    hostile(emu, clean[21])
    asyncio.run(_audit(emu, newer))
    return older, newer, emu


def _kept(setting: Mapping[str, Any]) -> dict[str, Any]:
    fields = ("code_exist", "privacy_list", "setting_list", "update_time", "owner_setting")
    return {k: setting[k] for k in fields if k in setting}


def statuses(records: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each Mini Program's status, computed here independently of the report's code."""
    found = {}
    for appid, r in records.items():
        if not r["ok"]:
            found[appid] = "failed"
        elif r["undeclared_keys"]:
            found[appid] = "undeclared"
        elif not r["has_contact"]:
            found[appid] = "no_contact"
        elif not r["code_exist"]:
            found[appid] = "no_code"
        else:
            found[appid] = "compliant"
    return found


def expected_changes(older: Path, newer: Path) -> dict[str, int]:
    """The ``--since`` counts, from the two JSONL files."""
    then, now = statuses(latest_records(older)), statuses(latest_records(newer))
    both = set(then) & set(now)
    bad = {"undeclared", "no_contact", "no_code"}
    return {
        "newly_noncompliant": sum(then[a] == "compliant" and now[a] in bad for a in both),
        "fixed": sum(then[a] in bad and now[a] == "compliant" for a in both),
        "newly_failing": sum(then[a] != "failed" and now[a] == "failed" for a in both),
        "new": len(set(now) - set(then)),
        "gone": len(set(then) - set(now)),
    }
