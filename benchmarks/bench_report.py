"""The fleet report's size, the time to generate it, and the time Chromium takes to load it.

Issue 15. For 500 and 10,000 authorizers (in-process emulator audits, then the report with
``--since`` an older audit of the same fleet), prints one row each: report size, generation
time (median of 3), and Chromium's load time (navigation start to the table's rows drawn,
median of 3; Debian's ``/usr/bin/chromium`` at 1280x800 through Playwright).

Usage: ``python benchmarks/bench_report.py [--sizes 500 10000]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from report_helpers import two_audits  # noqa: E402

from wxprivacy.audit import latest_records  # noqa: E402
from wxprivacy.report import render_report  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def load_times(page_file: Path, rows: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for _ in range(3):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            started = time.perf_counter()
            page.goto(page_file.as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('#fleet tbody tr').length === {rows}"
            )
            times.append(time.perf_counter() - started)
            page.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 10_000])
    args = parser.parse_args()
    print("| authorizers | report size | generate (median of 3) | Chromium load (median of 3) |")
    print("|---|---|---|---|")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            older, newer, _ = two_audits(Path(tmp), authorizers=size)
            records, since = latest_records(newer), latest_records(older)
            generate = []
            for _ in range(3):
                started = time.perf_counter()
                html = render_report(records, since=since)
                generate.append(time.perf_counter() - started)
            page_file = Path(tmp) / "report.html"
            page_file.write_text(html, encoding="utf-8")
            loads = load_times(page_file, len(records))
            print(
                f"| {size:,} | {len(html.encode()) / 1e6:.2f} MB | "
                f"{statistics.median(generate):.2f} s | {statistics.median(loads):.2f} s |"
            )


if __name__ == "__main__":
    main()
