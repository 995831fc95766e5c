"""The fault soak of ``tests/test_fault_soak.py`` at a larger size, with its counts printed.

Run from the repository root::

    python benchmarks/bench_soak.py [--n 50000] [--concurrency 64] [--transport httpx]

Prints the authorizers, the JSONL records, successes, typed errors by type, the faults the
emulator injected by kind, and the getprivacysetting requests it counted against the number
the retry policy allows. Exit status 1 when they differ (or a record is lost or duplicated).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

from _common import MISSED_TARGET, ROOT

sys.path.insert(0, str(ROOT / "tests"))
from test_fault_soak import soak  # noqa: E402


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--transport", default=None, choices=["httpx", "aiohttp"])
    args = parser.parse_args()
    logging.getLogger("wxprivacy").setLevel(logging.ERROR)  # one WARNING per retry otherwise
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = await soak(
            args.n, Path(tmp) / "soak.jsonl", concurrency=args.concurrency, transport=args.transport
        )
        elapsed = time.perf_counter() - start
    print(f"# fault soak: {report.authorizers} authorizers, c={args.concurrency}, {elapsed:.1f} s")
    print(f"- JSONL records: {report.records} (each authorizer exactly once)")
    print(f"- guidelines read: {report.ok}; typed errors: {dict(report.errors)}")
    print(f"- faults injected: {report.faults} (total {sum(report.faults.values())})")
    print(
        f"- getprivacysetting requests: {report.calls}; the policy allows {report.expected_calls}"
    )
    return 0 if report.calls == report.expected_calls else MISSED_TARGET


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
