"""What waiting for a replica (``WAIT 1``) costs per refresh of an authorizer token.

Run from the repository root, with ``redis-server`` installed (no running Redis is needed)::

    python benchmarks/bench_replica_acks.py [--runs 7] [--refreshes 200]

It starts its own ``redis-server`` processes on free ports (a master with one replica, and a
master alone; AOF ``appendfsync everysec`` like a production setup), and kills them by PID at
the end. Each run times, store by store in turn (interleaved, so machine noise hits all alike):

* ``write``: ``--refreshes`` fenced ``set_authorizer_tokens`` calls (the write a refresh ends
  with: the access token and a rotated refresh token, one Lua script);
* ``refresh``: ``--refreshes`` full refreshes through ``ComponentClient.authorizer_access_token``
  on cold authorizers (lock, double-checked read, the token endpoint of an in-process emulator
  with no latency, the write, the release).

Stores: ``no replica`` (a master alone: ``replica_acks="auto"`` never waits), ``replica, acks=0``
(a replica, never waits), ``replica, auto`` (waits for the replica's acknowledgement). It prints
the median milliseconds per write and per refresh of each (median over runs of each run's
median), and the extra cost of waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wxprivacy import AccessToken, ComponentClient  # noqa: E402
from wxprivacy.emulator import Emulator  # noqa: E402
from wxprivacy.redis import RedisTokenStore  # noqa: E402

C = "wx0000000000000000"
VARIANTS = ("no replica", "replica, acks=0", "replica, auto")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _online_replicas(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"INFO replication\r\n")
        data = b""
        while b"master_repl_offset" not in data:
            data += sock.recv(65536)
    return data.count(b"state=online")


@contextmanager
def servers() -> Iterator[tuple[int, int]]:
    """Start a master with one replica and a master alone; yield their ports; kill them."""
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="wxprivacy-bench-replicas-"))
    procs: list[subprocess.Popen[bytes]] = []
    replicated, replica, alone = _free_port(), _free_port(), _free_port()

    def spawn(port: int, *extra: str) -> None:
        path = workdir / str(port)
        path.mkdir()
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(path)]
        argv += ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
        argv += ["--repl-diskless-sync-delay", "0", *extra]
        procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))

    try:
        spawn(replicated)
        spawn(alone)
        spawn(replica, "--replicaof", "127.0.0.1", str(replicated))
        deadline = time.monotonic() + 30
        while not (
            _ping(replicated) and _ping(alone) and _ping(replica) and _online_replicas(replicated)
        ):
            if time.monotonic() > deadline:
                raise SystemExit("the benchmark's redis-server processes did not come up")
            time.sleep(0.05)
        yield replicated, alone
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


async def time_writes(store: RedisTokenStore, n: int, run: int) -> float:
    """Median seconds of one fenced write of an access token and a rotated refresh token."""
    took = []
    for i in range(n):
        appid = f"wx{run:08d}{i:08d}"
        async with store.lock(C, f"authorizer:{appid}") as fence:
            token = AccessToken("access", time.time() + 7200)
            started = time.perf_counter()
            assert await store.set_authorizer_tokens(C, appid, token, f"r-{i}", fence=fence)
            took.append(time.perf_counter() - started)
    return statistics.median(took)


async def time_refreshes(store: RedisTokenStore, n: int) -> float:
    """Median seconds of one full refresh of a cold authorizer token through the client."""
    emu = Emulator(component_appid=C, rotate_refresh_tokens=True)
    appids = [f"wx{0xBE7C0000 + i:016x}" for i in range(n)]
    for appid in appids:
        emu.add_authorizer(appid)
    took = []
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(C, emu.component_appsecret, http_client=http, token_store=store)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        await store.import_refresh_tokens(C, {a: emu.refresh_token(a) for a in appids})
        await client.component_access_token()
        for appid in appids:
            started = time.perf_counter()
            await client.authorizer_access_token(appid)
            took.append(time.perf_counter() - started)
        await client.aclose()
    return statistics.median(took)


async def main(runs: int, refreshes: int) -> None:
    with servers() as (replicated, alone):
        urls = {
            "no replica": (f"redis://127.0.0.1:{alone}/0", "auto"),
            "replica, acks=0": (f"redis://127.0.0.1:{replicated}/0", 0),
            "replica, auto": (f"redis://127.0.0.1:{replicated}/0", "auto"),
        }
        writes: dict[str, list[float]] = {v: [] for v in VARIANTS}
        full: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for run in range(runs):
            for variant in VARIANTS:
                url, acks = urls[variant]
                prefix = f"bench-{run}-{VARIANTS.index(variant)}"
                options: dict[str, Any] = {"replica_acks": acks, "local_cache_ttl": 0}
                async with RedisTokenStore.from_url(url, prefix, **options) as store:
                    writes[variant].append(await time_writes(store, refreshes, run))
                async with RedisTokenStore.from_url(url, prefix + "-r", **options) as store:
                    full[variant].append(await time_refreshes(store, refreshes))
    print(f"{runs} runs x {refreshes} writes and {refreshes} refreshes each; medians in ms")
    print(f"{'':18} {'write':>8} {'refresh':>8}")
    for variant in VARIANTS:
        write_ms = statistics.median(writes[variant]) * 1000
        refresh_ms = statistics.median(full[variant]) * 1000
        print(f"{variant:18} {write_ms:8.3f} {refresh_ms:8.3f}")
    extra_write = statistics.median(
        a - b for a, b in zip(writes["replica, auto"], writes["replica, acks=0"], strict=True)
    )
    extra_refresh = statistics.median(
        a - b for a, b in zip(full["replica, auto"], full["replica, acks=0"], strict=True)
    )
    print(
        f"waiting for the replica costs {extra_write * 1000:.3f} ms per write and "
        f"{extra_refresh * 1000:.3f} ms per refresh (medians of per-run differences)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--refreshes", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.refreshes))
