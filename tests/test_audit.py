"""Reading an audit's JSONL back: which lines hold records, and the last record of each wins."""

from __future__ import annotations

import json
from pathlib import Path

from wxprivacy._serde import loads
from wxprivacy.audit import dumps_line, latest_records, parse_line, summarize


def ok(appid: str, **extra: object) -> dict[str, object]:
    return {"authorizer_appid": appid, "privacy_ver": 2, "ok": True, "has_contact": True, **extra}


def failed(appid: str, errcode: int = 45009) -> dict[str, object]:
    error = {"type": "QuotaExceededError", "message": "quota", "errcode": errcode}
    return {"authorizer_appid": appid, "privacy_ver": 2, "ok": False, "error": error}


def test_parse_line_accepts_only_whole_records() -> None:
    line = dumps_line(ok("wx1"))
    assert parse_line(line) == ok("wx1")
    assert parse_line(line[:-1]) is None  # no newline: a torn write
    assert parse_line(line[:10]) is None
    assert parse_line(b"\n") is None
    assert parse_line(b"[1, 2]\n") is None
    assert parse_line(b'{"authorizer_appid": 7}\n') is None
    assert parse_line(b'{"ok": true}\n') is None


def test_the_last_record_of_an_authorizer_wins(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = [ok("wx1"), failed("wx2"), failed("wx3"), ok("wx2", code_exist=True), ok("wx4")]
    path.write_bytes(b"".join(map(dumps_line, lines)) + b"not json\n" + dumps_line(ok("wx5"))[:9])
    latest = latest_records(path)
    assert list(latest) == ["wx1", "wx3", "wx2", "wx4"]  # in the order of the last lines
    assert latest["wx2"] == ok("wx2", code_exist=True)
    summary = summarize(latest.values())
    assert (summary.total, summary.ok, summary.error_appids) == (4, 3, {45009: ["wx3"]})


def test_a_later_failure_replaces_an_earlier_success(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(dumps_line(ok("wx1")) + dumps_line(failed("wx1", 61007)))
    assert latest_records(path) == {"wx1": failed("wx1", 61007)}


# -- regressions from a new-user trial (each with the exact failing input) ------------------------


def test_lone_surrogate_is_repaired_and_the_audit_line_can_be_written() -> None:
    body = (
        b'{"errcode":0,"setting_list":'
        b'[{"privacy_key":"UserInfo","privacy_text":"\\ud83d broken emoji"}]}'
    )
    data = loads(body)
    assert data["setting_list"][0]["privacy_text"] == "\ufffd broken emoji"
    line = dumps_line({"authorizer_appid": "wx1", "text": "\ud83d raw surrogate"})
    assert line.endswith(b"\n") and json.loads(line)["authorizer_appid"] == "wx1"
