"""How fast the emulator's HTTP server answers: uvicorn with httptools (the default) and with h11.

Run from the repository root (``nox -s bench`` runs it)::

    python benchmarks/bench_server.py [--n 5000] [--rounds 3] [--baseline DIR]

Each round starts the emulator once per row in a child process and drives getprivacysetting
with raw aiohttp at 64 requests in flight (the fastest client measured, so the server is what
limits), then prints the median req/s, the ratio to the default, and the server process's CPU
time per request (user + system, from ``/proc``: steadier than req/s on a busy machine). Rows:

- ``uvicorn (httptools)``: ``python -m wxprivacy.emulator``, what users and tests get.
- ``uvicorn (h11)``: the same server with uvicorn's pure-Python parser (httptools missing).
- ``--baseline DIR``: ``python -m wxprivacy.emulator --server asyncio`` run from another source
  tree, e.g. an export of a commit that still had the hand-written asyncio server, to compare
  before and after in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
from _common import GP, ROOT, bounded, emulator_server, emulator_state, median, timed

# ``serve()`` with uvicorn's h11 parser instead of httptools (one row of the table).
_H11 = """
import sys
import uvicorn
from wxprivacy.emulator import Emulator, serve
from wxprivacy.emulator import _serve

_serve.http_implementation = lambda: "h11"  # as if httptools were not installed
serve(Emulator(authorizers=int(sys.argv[1])), port=0, on_ready=lambda url: print(
    f"listening on {url}", flush=True))
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used (Linux ``/proc``; ``nan`` elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def child(argv: list[str], root: Path) -> Iterator[tuple[str, int]]:
    """Run ``python ARGV`` with ``root`` first on the path; yield its URL and process id."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, *argv], cwd=root, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield line.split()[-1], proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def tokens(url: str, n: int) -> list[str]:
    """Fetch ``n`` authorizer access tokens by hand."""
    state = await emulator_state(url)
    ok = [a for a in state["authorizers"] if a["profile"] != "no_permission"][:n]
    creds = {k: state[k] for k in ("component_appid", "component_appsecret")}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        body = {**creds, "component_verify_ticket": state["component_verify_ticket"]}
        answer = await http.post("/cgi-bin/component/api_component_token", json=body)
        ctoken = answer.json()["component_access_token"]
        out: list[str] = []

        async def one(a: dict[str, str]) -> None:
            answer = await http.post(
                "/cgi-bin/component/api_authorizer_token",
                params={"component_access_token": ctoken},
                json={
                    "component_appid": creds["component_appid"],
                    "authorizer_appid": a["authorizer_appid"],
                    "authorizer_refresh_token": a["refresh_token"],
                },
            )
            out.append(answer.json()["authorizer_access_token"])

        await bounded(ok, 16, one)
    return out


async def throughput(url: str, pid: int, toks: list[str], warmup: int) -> tuple[float, float]:
    """Requests per second, and the server's CPU microseconds per request."""
    async with aiohttp.ClientSession() as session:

        async def one(token: str) -> None:
            async with session.post(
                f"{url}{GP}?access_token={token}", data=b'{"privacy_ver":2}'
            ) as response:
                await response.read()

        await bounded(toks[:warmup], 64, one)
        cpu = cpu_seconds(pid)
        seconds = await timed(lambda: bounded(toks, 64, one))
        return len(toks) / seconds, (cpu_seconds(pid) - cpu) / len(toks) * 1e6


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="also serve from this source tree with '--server asyncio' (a 'before' row)",
    )
    args = parser.parse_args()
    authorizers = str(args.n * 6 // 5 + 100)
    default = f"uvicorn ({emulator_server().split('(')[1].split()[0]})"
    rows: dict[str, tuple[list[str], Path]] = {
        default: (["-m", "wxprivacy.emulator", "--port", "0", "--authorizers", authorizers], ROOT),
        "uvicorn (h11)": (["-c", _H11, authorizers], ROOT),
    }
    if args.baseline is not None:
        argv = ["-m", "wxprivacy.emulator", "--port", "0", "--authorizers", authorizers]
        rows[f"baseline: {args.baseline.name} --server asyncio"] = (
            [*argv, "--server", "asyncio"],
            args.baseline.resolve(),
        )
    results: dict[str, list[float]] = {label: [] for label in rows}
    cpu: dict[str, list[float]] = {label: [] for label in rows}
    for _ in range(args.rounds):
        for label, (argv, root) in rows.items():
            with child(argv, root) as (url, pid):
                toks = await tokens(url, args.n)
                rate, us = await throughput(url, pid, toks, args.warmup)
                results[label].append(rate)
                cpu[label].append(us)
    print(f"# emulator server ({emulator_server()}), raw aiohttp c=64, n={args.n},")
    print(f"# median of {args.rounds} rounds, each row served in its own process")
    print(f"| {'server':<40} | {'req/s':>7} | {'÷ default':>9} | {'server CPU us/req':>17} |")
    print(f"|{'-' * 42}|{'-' * 9}|{'-' * 11}|{'-' * 19}|")
    for label, values in results.items():
        ratios = [v / d for v, d in zip(values, results[default], strict=True)]
        us = median(cpu[label])
        print(f"| {label:<40} | {median(values):7.0f} | {median(ratios):9.2f} | {us:17.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
