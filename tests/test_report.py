"""Issue 15: the fleet report (``wxprivacy report``, ``wxprivacy.report``), without a browser.

The browser checks (what a reader sees, the XSS case in Chromium) are in
``test_report_browser.py`` (marker ``browser``).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
from report_helpers import SCRIPT_END, XSS, expected_changes, statuses, two_audits
from typer.testing import CliRunner

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
    # exactly the page's own three script elements
    assert html.count("<script") == 3 and html.count("</script>") == 3


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
