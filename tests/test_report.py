"""Issue 15: the fleet report (``wxprivacy report``, ``wxprivacy.report``), without a browser.

The browser checks (what a reader sees, the XSS case in Chromium) are in
``test_report_browser.py`` (marker ``browser``).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import orjson
import pytest
from report_helpers import SCRIPT_END, XSS, expected_changes, statuses, two_audits
from typer.testing import CliRunner

from wxprivacy import InvalidArgumentError
from wxprivacy.audit import latest_records, summarize
from wxprivacy.cli import app
from wxprivacy.report import render_report, write_report

runner = CliRunner()


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    older, newer, _ = two_audits(tmp_path_factory.mktemp("audits"), authorizers=300)
    return older, newer


def figures(html: str) -> dict[str, int]:
    found = re.findall(r'data-(?:figure|change)="(\w+)">([\d,]+)<', html)
    return {name: int(value.replace(",", "")) for name, value in found}


def test_the_headline_figures_are_the_audits_summary(audits: tuple[Path, Path]) -> None:
    _, newer = audits
    records = latest_records(newer)
    summary = summarize(records.values())
    shown = figures(render_report(records))
    assert shown == {
        "audited": summary.total,
        "compliant": sum(s == "compliant" for s in statuses(records).values()),
        "undeclared": len(summary.undeclared),
        "no_contact": len(summary.no_contact),
        "no_code": len(summary.no_code),
        "failed": summary.failed,
    }


def test_the_since_counts_are_those_of_the_two_files(audits: tuple[Path, Path]) -> None:
    older, newer = audits
    html = render_report(latest_records(newer), since=latest_records(older))
    expected = expected_changes(older, newer)
    assert {k: v for k, v in figures(html).items() if k in expected} == expected
    assert all(expected.values())  # every kind of change happened in the fixture


def test_values_from_wechat_never_become_markup(audits: tuple[Path, Path]) -> None:
    _, newer = audits
    html = render_report(latest_records(newer))
    assert XSS in str(latest_records(newer))  # the fixture holds them
    assert "<img" not in html
    assert SCRIPT_END not in html and "</script><script>alert" not in html
    # exactly the page's own two script elements (its data, its code)
    assert html.count("<script") == 2 and html.count("</script>") == 2


def test_the_page_asks_the_network_for_nothing(audits: tuple[Path, Path]) -> None:
    _, newer = audits
    html = render_report(latest_records(newer))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    assert "default-src 'none'" in html  # and the page's policy forbids any request


def test_ten_thousand_mini_programs_fit_in_two_megabytes(audits: tuple[Path, Path]) -> None:
    _, newer = audits
    records = list(latest_records(newer).values())
    fleet = {}
    for i in range(10_000):  # the audit's records, repeated under new appids
        record = dict(records[i % len(records)])
        record["authorizer_appid"] = f"wx{i:016x}"
        fleet[record["authorizer_appid"]] = record
    started = time.perf_counter()
    html = render_report(fleet, since=dict(list(fleet.items())[:9_000]))
    seconds = time.perf_counter() - started
    size = len(html.encode("utf-8"))
    print(f"10,000 Mini Programs: {size / 1e6:.2f} MB in {seconds:.2f} s")
    assert size < 2_000_000
    assert html.count("wx") >= 10_000


def test_the_command_writes_the_report_and_audit_html_too(
    audits: tuple[Path, Path], tmp_path: Path
) -> None:
    older, newer = audits
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(newer), "--since", str(older), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"<!doctype html>")
    assert "report:" in result.output
    audited = runner.invoke(
        app,
        ["audit", "--emulator", "20", "--no-progress", "--out", str(tmp_path / "a.jsonl"),
         "--html", str(tmp_path / "a.html")],
    )  # fmt: skip
    assert audited.exit_code in (0, 1), audited.output
    assert figures((tmp_path / "a.html").read_text())["audited"] == 20


def test_a_missing_audit_file_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 3
    assert "nope.jsonl" in result.output and "Traceback" not in result.output


def test_without_the_report_extra_the_command_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)
    monkeypatch.delitem(sys.modules, "wxprivacy.report", raising=False)
    (tmp_path / "a.jsonl").write_text("")
    for args in (
        ["report", str(tmp_path / "a.jsonl")],
        ["audit", "--emulator", "3", "--html", "x.html"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "pip install 'wxprivacy[report]'" in result.output


def test_write_report_returns_the_size(audits: tuple[Path, Path], tmp_path: Path) -> None:
    older, newer = audits
    size = write_report(newer, tmp_path / "r.html", since=older)
    assert size == (tmp_path / "r.html").stat().st_size


# -- found by the trial of issues 14 and 15 --------------------------------------------------

BAD_XML = ["\x00", "\x01", "\x08", "\x0b", "\x1b", "\x1f", "\ufffe", "\uffff", "\ud800"]


def test_characters_xml_cannot_hold_never_abort_the_process() -> None:
    """Was: ``Key\\u0001`` as a privacy key made vl-convert panic and abort Python (exit 134).
    Run in a child process, so a regression cannot take the test run with it."""
    import subprocess

    code = (
        "from wxprivacy.report import render_report\n"
        f"bad = {BAD_XML!r}\n"
        "records = {f'wx{i:016x}': {'authorizer_appid': f'wx{i:016x}', 'ok': True,"
        " 'undeclared_keys': ['Key' + c, c * 3], 'has_contact': True, 'code_exist': True}"
        " for i, c in enumerate(bad)}\n"
        "html = render_report(records)\n"
        "print(len(html) > 1000)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "True"


def test_a_chart_label_holds_only_characters_xml_allows() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from wxprivacy._report_charts import label

    allowed = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")

    @settings(max_examples=300, deadline=None)
    @given(st.text(st.characters(codec=None, exclude_categories=()), max_size=200))
    def check(text: str) -> None:
        drawn = label(text)
        assert allowed.fullmatch(drawn)
        assert len(drawn) <= 60

    check()


def record(appid: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "authorizer_appid": appid, "privacy_ver": 2, "ok": True, "undeclared_keys": [],
        "has_contact": True, "code_exist": True,
    }  # fmt: skip
    return {**base, **fields}


@pytest.mark.parametrize(
    "kind", ["same undeclared keys", "Chinese errors, each with its own rid", "markup in errors"]
)
def test_ten_thousand_realistic_but_heavy_records_stay_under_two_megabytes(kind: str) -> None:
    """Was: 2.95 MB (22 keys each), 6.6 MB (Chinese messages), 9.8 MB (``<&>'``)."""
    keys = ["UserInfo", "Location", "Address", "Invoice", "RunData", "Record", "Album", "Camera",
            "PhoneNumber", "Contact", "DeviceInfo", "EXIDNumber", "EXOrderInfo", "Email",
            "EXUserPublishContent", "EXUserFollowAcct", "EXUserOpLog", "AlbumWriteOnly",
            "LicensePlate", "BlueTooth", "CalendarWriteOnly", "MessageFile"]  # fmt: skip
    fleet = {}
    for i in range(10_000):
        appid = f"wx{i:016x}"
        if kind == "same undeclared keys":
            fleet[appid] = record(appid, undeclared_keys=keys)
        else:
            text = "接口未授权给第三方平台，请重新授权" * 3 if "Chinese" in kind else "<&>'\"" * 30
            error = {
                "type": "PermissionDeniedError",
                "errcode": 61007,
                "errmsg": f"{text} rid: 6553f100-{i:08x}",
                "message": f"[61007] {text}",
            }
            fleet[appid] = record(appid, ok=False, error=error)
    html = render_report(fleet)
    assert len(html.encode("utf-8")) < 2_000_000
    assert "<&>'" not in html.split('id="rows">')[1]  # escaped inside the data block


def test_odd_records_are_shown_not_refused() -> None:
    """Was: a traceback for ``"error": null``, an error that is a string, an errcode that is a
    list, keys that are lists."""
    fleet = {
        "wx0000000000000001": record("wx0000000000000001", ok=False, error=None),
        "wx0000000000000002": record("wx0000000000000002", ok=False, error="boom"),
        "wx0000000000000003": record("wx0000000000000003", ok=False, error={"errcode": [1]}),
        "wx0000000000000004": record("wx0000000000000004", undeclared_keys=[["a"], 5]),
        "wx0000000000000005": record("wx0000000000000005", privacy_ver="2"),
    }
    shown = figures(render_report(fleet))
    assert shown["audited"] == 5 and shown["failed"] == 3 and shown["undeclared"] == 1


def test_what_a_reader_must_know_is_said_on_the_page(tmp_path: Path) -> None:
    """Was: an empty or unreadable audit looked like a clean fleet; failures only, the same."""
    empty = render_report({})
    assert "holds no record" in empty
    failed = render_report({"wx0000000000000001": record("wx0000000000000001", ok=False)})
    assert "No guideline could be read" in failed and "nothing is known" in failed
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        orjson.dumps(record("wx0000000000000001")) + b"\n{torn\n\xff\xfe\n" + b'{"ok": true'
    )
    write_report(path, tmp_path / "r.html")
    assert "3 lines of the audit file held no record" in (tmp_path / "r.html").read_text()
    then = {"wx0000000000000009": record("wx0000000000000009", privacy_ver=1)}
    both = render_report({"wx0000000000000001": record("wx0000000000000001")}, since=then)
    assert "share no Mini Program" in both and "different versions" in both


def test_other_status_changes_are_counted(tmp_path: Path) -> None:
    """Was: failed-then, read-now (and one problem to another) counted nowhere."""
    a, b = "wx0000000000000001", "wx0000000000000002"
    then = {a: record(a, ok=False), b: record(b, undeclared_keys=["UserInfo"])}
    now = {a: record(a, has_contact=False), b: record(b, has_contact=False)}
    shown = figures(render_report(now, since=then))
    assert shown["other"] == 2


def test_the_report_never_replaces_its_input_or_an_existing_file(
    audits: tuple[Path, Path], tmp_path: Path
) -> None:
    """Was: ``wxprivacy report audit.jsonl -o audit.jsonl`` turned the audit into HTML."""
    older, newer = audits
    copy = tmp_path / "audit.jsonl"
    copy.write_bytes(newer.read_bytes())
    before = copy.read_bytes()
    for args in (
        ["report", str(copy), "-o", str(copy)],
        ["report", str(copy), "--since", str(older), "-o", str(older)],
        ["report", str(copy), "-o", str(copy), "--force"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
    assert copy.read_bytes() == before
    out = tmp_path / "r.html"
    out.write_text("keep me")
    assert runner.invoke(app, ["report", str(copy), "-o", str(out)]).exit_code == 2
    assert out.read_text() == "keep me"
    assert runner.invoke(app, ["report", str(copy), "-o", str(out), "--force"]).exit_code == 0
    with pytest.raises(InvalidArgumentError):
        write_report(copy, copy, force=True)


def test_audit_html_is_checked_before_the_audit_runs(tmp_path: Path) -> None:
    """Was: ``--html x.jsonl`` with ``--out x.jsonl`` overwrote the audit; an unwritable
    ``--html`` failed only after the whole audit."""
    out = tmp_path / "x.jsonl"
    same = runner.invoke(
        app, ["audit", "--emulator", "5", "--no-progress", "--out", str(out), "--html", str(out)]
    )
    assert same.exit_code == 2 and not out.exists()
    nowhere = runner.invoke(
        app,
        ["audit", "--emulator", "5", "--no-progress", "--out", str(out),
         "--html", str(tmp_path / "missing-dir" / "r.html")],
    )  # fmt: skip
    assert nowhere.exit_code == 3 and not out.exists()


# -- found by the re-check of the trials --------------------------------------------------


def test_an_audit_file_whose_name_is_not_utf8_is_reported(tmp_path: Path) -> None:
    """Was: ``UnicodeEncodeError ... surrogates not allowed`` (a GBK file name)."""
    import os

    name = os.fsdecode("审计.jsonl".encode("gbk"))
    path = tmp_path / name
    path.write_bytes(orjson.dumps(record("wx0000000000000001")) + b"\n")
    result = runner.invoke(app, ["report", str(path), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "\ufffd" in (tmp_path / "r.html").read_text()


def test_a_long_run_of_spaces_in_a_message_is_read_in_linear_time() -> None:
    """Was: 9.5 s for one 50,000-space errmsg (the rid pattern backtracked)."""
    error = {"errcode": -1, "errmsg": "system error" + " " * 200_000 + ". rid: 1-2-3"}
    html = render_report(
        {"wx0000000000000001": record("wx0000000000000001", ok=False, error=error)}
    )
    assert "system error" in html and "rid: 1-2-3" not in html


@pytest.mark.parametrize("kind", ["random key sets", "messages naming their appid"])
def test_a_fleet_that_does_not_repeat_itself_still_fits(kind: str) -> None:
    """Was: 2.76 MB (random sets of 10-30 of 30 keys), 2.06 MB (network errors naming the
    appid)."""
    import random

    rng = random.Random(1)
    keys = [f"EXKey{n:02d}" for n in range(30)]
    fleet = {}
    for i in range(10_000):
        appid = f"wx{i:016x}"
        if kind == "random key sets":
            fleet[appid] = record(appid, undeclared_keys=rng.sample(keys, rng.randint(10, 30)))
        else:
            error = {"type": "TransportError", "message": f"request for {appid} failed: reset"}
            fleet[appid] = record(appid, ok=False, error=error)
    assert len(render_report(fleet).encode("utf-8")) < 2_000_000


def test_a_bidi_control_cannot_reorder_a_row() -> None:
    """Was: ``Camera, LocationrebmuNenohP ,mublA ,`` on the page."""
    html = render_report(
        {"wx0000000000000001": record("wx0000000000000001", undeclared_keys=["Loc\u202eation"])}
    )
    assert "\u202e" not in html and "<U+202E>" in html.replace("&lt;", "<").replace("&gt;", ">")


def test_a_hard_link_to_the_input_is_the_input(tmp_path: Path) -> None:
    import os

    path = tmp_path / "a.jsonl"
    path.write_bytes(orjson.dumps(record("wx0000000000000001")) + b"\n")
    os.link(path, tmp_path / "hard.jsonl")
    result = runner.invoke(
        app, ["report", str(path), "-o", str(tmp_path / "hard.jsonl"), "--force"]
    )
    assert result.exit_code == 2
    assert path.read_bytes().startswith(b"{")


def test_summary_json_never_replaces_the_audit_or_the_report(tmp_path: Path) -> None:
    """Was: ``--out t1.jsonl --summary-json t1.jsonl`` replaced every record with the summary."""
    out = tmp_path / "t1.jsonl"
    for extra in (["--summary-json", str(out)], ["--summary-json", str(tmp_path / "x" / "s.json")]):
        result = runner.invoke(
            app, ["audit", "--emulator", "5", "--no-progress", "--out", str(out), *extra]
        )
        assert result.exit_code in (2, 3), result.output
        assert not out.exists()  # refused before the audit
    page = tmp_path / "t.html"
    both = runner.invoke(
        app,
        ["audit", "--emulator", "5", "--no-progress", "--out", str(out), "--html", str(page),
         "--summary-json", str(page)],
    )  # fmt: skip
    assert both.exit_code == 2 and not out.exists()
