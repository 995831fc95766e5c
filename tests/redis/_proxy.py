"""A TCP proxy in front of Redis that a test can take down and bring back, or make hang.

``down()`` aborts every open connection and resets new ones at once (Redis unreachable or
restarting); ``up()`` forwards again. ``blackhole=True`` accepts connections and never answers
(Redis hanging). ``bytes_up`` counts bytes sent towards Redis (0 added = no round trip).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import urllib.parse

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``target_host:target_port`` until told otherwise."""

    def __init__(self, target_host: str, target_port: int, *, blackhole: bool = False) -> None:
        self.target = (target_host, target_port)
        self.blackhole = blackhole
        self.is_up = True
        self.bytes_up = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        # The same database as REDIS_URL, so the tests' cleanup (which scans that one) sees it.
        db = urllib.parse.urlparse(REDIS_URL).path.strip("/") or "0"
        return f"redis://127.0.0.1:{self.port}/{db}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def down(self) -> None:
        """Cut every connection now and refuse (reset) new ones until :meth:`up`."""
        self.is_up = False
        for writer in list(self._writers):
            writer.transport.abort()

    def up(self) -> None:
        """Forward again."""
        self.is_up = True

    async def close(self) -> None:
        self.down()
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            if not self.is_up:
                writer.transport.abort()
                return
            if self.blackhole:
                while await reader.read(65536):
                    pass
                return
            up_reader, upstream = await asyncio.open_connection(*self.target)
            self._writers.add(upstream)
            await asyncio.gather(
                self._pump(reader, upstream, count=True), self._pump(up_reader, writer)
            )
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            for w in (writer, upstream):
                if w is not None:
                    self._writers.discard(w)
                    w.transport.abort()
            self._tasks.discard(task)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, count: bool = False
    ) -> None:
        try:
            while data := await reader.read(65536):
                if count:
                    self.bytes_up += len(data)
                writer.write(data)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                writer.transport.abort()
