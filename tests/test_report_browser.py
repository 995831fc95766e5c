"""Issue 15, checked as a person would: the fleet report in headless Chromium at 1280x800.

Uses Debian's ``chromium`` (``/usr/bin/chromium``, or ``CHROMIUM``) through Playwright, which
never downloads a browser here. Skipped locally without it; ``.ci/run`` installs it and runs
these tests in a step of their own (``-m browser``), where a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_helpers import XSS, expected_changes, statuses, two_audits

from wxprivacy.audit import latest_records, summarize
from wxprivacy.report import write_report

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DOCS_SHOT = Path(__file__).resolve().parents[1] / "docs" / "assets" / "report.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")  # asked for before the browser: it runs its own event loop
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("report")
    older, newer, _ = two_audits(tmp, authorizers=500)
    out = tmp / "report.html"
    write_report(newer, out, since=older)
    return older, newer, out


def opened(browser: Any, page_file: Path) -> tuple[Any, list[str], list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.add_init_script("window.__alerts = []; window.alert = m => window.__alerts.push(m);")
    page.goto(page_file.as_uri())
    page.wait_for_selector("#fleet tbody tr")
    return page, errors, requests, dialogs


def typed(page: Any, text: str) -> None:
    """Type into the filter and wait until the table shows what it filters (it redraws once
    typing pauses)."""
    page.fill("#filter", text)
    page.wait_for_function(
        "q => document.getElementById('shown').dataset.q === q", arg=text, timeout=5000
    )


def test_what_a_reader_sees(report: tuple[Path, Path, Path], browser: Any) -> None:
    older, newer, out = report
    page, errors, requests, _ = opened(browser, out)
    assert errors == []
    assert requests == [out.as_uri()]  # the page itself, nothing else
    records = latest_records(newer)
    assert page.locator("#fleet tbody tr").count() == len(records) == 500
    summary = summarize(records.values())

    def figure(name: str) -> int:
        text = page.locator(f'[data-figure="{name}"]').inner_text()
        return int(text.replace(",", ""))

    assert figure("audited") == summary.total
    assert figure("failed") == summary.failed
    assert figure("undeclared") == len(summary.undeclared)
    assert figure("no_contact") == len(summary.no_contact)
    assert figure("no_code") == len(summary.no_code)
    assert figure("compliant") == sum(s == "compliant" for s in statuses(records).values())
    for name, count in expected_changes(older, newer).items():
        assert int(page.locator(f'[data-change="{name}"]').inner_text()) == count
    # filter and sort as a reader would
    typed(page, "61007")
    shown = page.locator("#fleet tbody tr").count()
    assert shown == summary.errors_by_errcode.get(61007, 0) > 0
    typed(page, "")
    page.select_option("#status", "4")  # compliant
    assert page.locator("#fleet tbody tr").count() == figure("compliant")
    page.screenshot(path=str(out.with_suffix(".png")))
    if os.environ.get("WXPRIVACY_UPDATE_SCREENSHOT") == "1":  # refresh the one in docs/
        page.select_option("#status", "")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(DOCS_SHOT))
    page.close()


def test_html_from_wechat_renders_as_text_and_opens_no_dialog(
    report: tuple[Path, Path, Path], browser: Any
) -> None:
    _, newer, out = report
    page, errors, _, dialogs = opened(browser, out)
    typed(page, "onerror")
    rows = page.locator("#fleet tbody tr")
    assert rows.count() == 2  # the custom key, and the error message
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any(XSS in text for text in texts)
    cells = page.eval_on_selector_all(
        "#fleet tbody td", "tds => tds.map(td => td.textContent).filter(t => t.includes('<img'))"
    )
    assert any(XSS in cell for cell in cells)
    assert page.locator("#fleet img").count() == 0 and page.locator("main img").count() == 0
    keys = page.eval_on_selector_all(
        "#keys td", "tds => tds.map(td => td.textContent).filter(t => t.includes('<img'))"
    )
    assert keys == [XSS]
    assert page.evaluate("window.__alerts") == [] and dialogs == []
    assert errors == []
    page.close()
