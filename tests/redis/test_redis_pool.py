"""Issue 11 §2: Redis as it really behaves: a busy pool waits, a dead pooled connection is
replaced (a real redis-server restarted, and one configured with ``timeout 2``)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rhelpers import appid

from wxprivacy import InvalidArgumentError
from wxprivacy.redis import RedisTokenStore

C = "wx0000000000000000"


@pytest.mark.parametrize(("pool", "calls"), [(100, 300), (20, 300), (5, 64), (1, 16)])
async def test_more_concurrent_operations_than_connections_wait_instead_of_failing(
    new_store: Any, pool: int, calls: int
) -> None:
    """300 concurrent calls on a pool of 100 used to fail 200 of them (MaxConnectionsError)."""
    store = new_store(local_cache_ttl=0, max_connections=pool)
    await store.set_refresh_token(C, appid(0), "refresh-0")
    results = await asyncio.gather(
        *(store.get_refresh_token(C, appid(0)) for _ in range(calls)), return_exceptions=True
    )
    assert results == ["refresh-0"] * calls


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_max_connections_is_checked(bad: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="max_connections"):
        RedisTokenStore.from_url("redis://127.0.0.1:1/0", max_connections=bad)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class _Server:
    """A redis-server of the test's own, on a free port; stopped by PID."""

    def __init__(self, tmp: Path, *extra: str) -> None:
        self.port = _free_port()
        self.args = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(tmp), *extra,
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Any]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    made: list[_Server] = []

    def make(*extra: str) -> _Server:
        server = _Server(tmp_path, *extra)
        server.start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()


async def _round(store: RedisTokenStore, n: int) -> list[Any]:
    return await asyncio.gather(
        *(store.get_refresh_token(C, appid(i % 4)) for i in range(n)), return_exceptions=True
    )


@pytest.mark.parametrize("n", [8, 32])
async def test_connections_the_server_closed_when_idle_are_replaced(
    own_server: Any, n: int
) -> None:
    """``timeout 2``: Redis closes idle connections; 32 of the next 32 calls used to fail."""
    server = own_server("--timeout", "2")
    store = RedisTokenStore.from_url(f"redis://127.0.0.1:{server.port}/0", local_cache_ttl=0)
    try:
        for i in range(4):
            await store.set_refresh_token(C, appid(i), f"refresh-{i}")
        assert all(isinstance(r, str) for r in await _round(store, n))  # n pooled connections
        await asyncio.sleep(3.5)  # the server closes them all
        results = await _round(store, n)
        assert results == [f"refresh-{i % 4}" for i in range(n)]
    finally:
        await store.aclose()


async def test_a_restarted_server_is_used_again_at_once(own_server: Any) -> None:
    server = own_server()
    store = RedisTokenStore.from_url(f"redis://127.0.0.1:{server.port}/0", local_cache_ttl=0)
    try:
        await _round(store, 32)
        for _ in range(2):
            server.stop()
            server.start()  # same port, empty (no persistence in this test)
            results = await _round(store, 32)
            assert results == [None] * 32  # answered, not TokenStoreError
            await store.set_refresh_token(C, appid(0), "refresh-0")
            assert await store.get_refresh_token(C, appid(0)) == "refresh-0"
    finally:
        await store.aclose()
