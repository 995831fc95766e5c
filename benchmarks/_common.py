"""Shared by the benchmark scripts: the emulator in a subprocess, warm tokens, bounded loops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GP = "/cgi-bin/component/getprivacysetting"

MISSED_TARGET = 3
"""Exit status of a benchmark whose figures missed a target (a crash exits 1)."""


@contextlib.contextmanager
def emulator_process(*args: str) -> Iterator[str]:
    """Run ``python -m wxprivacy.emulator --port 0 ARGS`` and yield its base URL; stop it after."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "wxprivacy.emulator", "--port", "0", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield line.split()[-1]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def emulator_server() -> str:
    """The HTTP server ``python -m wxprivacy.emulator`` serves with, e.g. ``uvicorn 0.55.0
    (httptools 0.9.0)``: benchmarks print it with their figures."""
    from importlib.metadata import version

    from wxprivacy.emulator._serve import http_implementation

    http = http_implementation()
    return f"uvicorn {version('uvicorn')} ({http} {version(http)})"


async def emulator_state(url: str) -> dict[str, Any]:
    """``GET /_emulator/state``: credentials and every authorizer's refresh token and profile."""
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        response = await http.get("/_emulator/state")
        return dict(response.json())


async def bounded(
    items: Sequence[Any], concurrency: int, work: Callable[[Any], Awaitable[Any]]
) -> None:
    """Hand-written bounded concurrency: ``concurrency`` workers pulling from one iterator."""
    source = iter(items)

    async def worker() -> None:
        for item in source:
            await work(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def timed(run: Callable[[], Awaitable[None]]) -> float:
    """Seconds one awaited ``run()`` takes (wall clock)."""
    start = time.perf_counter()
    await run()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    """The median (``nan`` for no values)."""
    return statistics.median(values) if values else float("nan")


@contextlib.asynccontextmanager
async def nothing() -> AsyncIterator[None]:
    """An empty async context (for rows that need no setup)."""
    yield
