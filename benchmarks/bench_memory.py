"""Peak RSS while streaming N authorizers' guidelines to a JSONL file (10,000 and 100,000).

Run from the repository root (``nox -s bench`` runs it)::

    python benchmarks/bench_memory.py [--sizes 10000 100000] [--concurrency 64]

One emulator process serves 100,000 authorizers; for each size a fresh client process lists the
first N with ``api_get_authorizer_list`` (500 per page, lazily), stores each refresh token just
before its fetch, streams ``iter_privacy_settings`` to JSONL and reports its own peak RSS
(``VmHWM``). Two modes:

- ``forget``: after writing an authorizer's line the client forgets its tokens
  (``remove_authorizer``), as a batch job with a shared store (Redis) keeps nothing locally;
- ``keep``: every token stays in the in-process ``MemoryTokenStore`` (grows ~N x 0.4 KB).

Target: peak RSS <= 150 MB, and the same within 10 % at 10,000 and 100,000 (``forget``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from _common import MISSED_TARGET, ROOT, emulator_process, emulator_server, emulator_state

from wxprivacy import ComponentClient  # noqa: I001 - after _common (puts the tree on sys.path)
from wxprivacy.audit import dumps_line, record_for

TARGET_MB = 150.0


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB.

    ``VmHWM`` from ``/proc/self/status`` where it exists: ``ru_maxrss`` survives ``execve`` on
    Linux, so a child started from a big parent would report the parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def child(
    url: str, credentials: list[str], n: int, mode: str, out: Path, concurrency: int
) -> dict[str, float]:
    """Stream the first ``n`` authorizers to ``out``; return counts and the peak RSS."""
    appid, secret, ticket = credentials
    before = peak_rss_mb()
    async with ComponentClient(appid, secret, base_url=url) as client:
        await client.set_component_verify_ticket(ticket)

        async def appids() -> AsyncIterator[str]:
            sent = 0
            async for item in client.iter_authorizers(page_size=500):
                if sent == n:
                    return
                await client.set_authorizer_refresh_token(item.authorizer_appid, item.refresh_token)
                sent += 1
                yield item.authorizer_appid

        written = 0
        with out.open("wb") as fh:
            async for key, result in client.iter_privacy_settings(
                appids(), concurrency=concurrency
            ):
                fh.write(dumps_line(record_for(key, result, privacy_ver=2)))
                written += 1
                if mode == "forget":
                    await client.remove_authorizer(key)
    return {"records": written, "rss_mb": peak_rss_mb(), "rss_before_mb": before}


def measure(
    url: str, credentials: list[str], n: int, mode: str, concurrency: int
) -> dict[str, float]:
    """Run :func:`child` in a fresh interpreter and return what it reports."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.jsonl"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        args = [sys.executable, __file__, "--child", url, *credentials]
        args += [str(n), mode, str(out), str(concurrency)]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--modes", nargs="+", default=["forget", "keep"])
    parser.add_argument("--child", nargs=8, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, appid, secret, ticket, n, mode, out, concurrency = args.child
        credentials = [appid, secret, ticket]
        report = await child(url, credentials, int(n), mode, Path(out), int(concurrency))
        print(json.dumps(report))
        return 0
    with emulator_process("--authorizers", str(max(args.sizes))) as url:
        state = await emulator_state(url)
        credentials = [state[k] for k in ("component_appid", "component_appsecret")]
        credentials.append(state["component_verify_ticket"])
        del state
        rows = {
            (mode, n): await asyncio.to_thread(measure, url, credentials, n, mode, args.concurrency)
            for mode in args.modes
            for n in args.sizes
        }
    print(f"# peak RSS streaming getprivacysetting to JSONL (c={args.concurrency})")
    print(f"# emulator served by {emulator_server()}")
    print(f"| {'mode':<7} | {'authorizers':>11} | {'records':>8} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 9}|{'-' * 13}|{'-' * 10}|{'-' * 13}|")
    for (mode, n), row in rows.items():
        print(f"| {mode:<7} | {n:>11,} | {int(row['records']):>8,} | {row['rss_mb']:>11.1f} |")
    ok = True
    for mode in args.modes:
        sizes = [rows[(mode, n)]["rss_mb"] for n in args.sizes]
        spread = max(sizes) / min(sizes) - 1
        within = max(sizes) <= TARGET_MB and spread <= 0.10
        if mode == "forget":
            ok = ok and within
        print(
            f"- {mode}: peak {max(sizes):.1f} MB (target <= {TARGET_MB:.0f}), growth from "
            f"{min(args.sizes):,} to {max(args.sizes):,}: {spread:+.1%} (target <= 10 %)"
            + ("" if mode != "forget" else ("" if within else "  MISSED"))
            + (
                "  (informational: the in-process store holds every token)"
                if mode == "keep"
                else ""
            )
        )
    return 0 if ok else MISSED_TARGET


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
