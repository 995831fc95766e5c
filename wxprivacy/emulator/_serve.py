"""Serve an :class:`Emulator` over real HTTP with uvicorn (the ``cli`` extra)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["serve"]


class _DropIntentionalResets(logging.Filter):
    """Hide uvicorn's complaint about responses a ``reset`` fault aborted on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def serve(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    log_level: str = "warning",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``emulator`` on ``http://host:port`` until SIGINT/SIGTERM (blocking).

    The socket is bound and listening before ``on_ready`` is called, so a client may connect as
    soon as it learns the URL.

    Args:
        emulator: what to serve (its :attr:`Emulator.asgi_app`).
        host: the interface to bind.
        port: the TCP port; 0 picks a free one.
        log_level: uvicorn's log level.
        on_ready: called once with the base URL, e.g. ``"http://127.0.0.1:43817"``.

    Raises:
        ModuleNotFoundError: uvicorn is not installed (``pip install wxprivacy[cli]``).
        OSError: the address cannot be bound.
    """
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so (else ~40 ms
    # stalls per keep-alive response).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        bound_port = sock.getsockname()[1]
        config = uvicorn.Config(
            emulator.asgi_app,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        logging.getLogger("uvicorn.error").addFilter(_DropIntentionalResets())
        server = uvicorn.Server(config)
        if on_ready is not None:
            shown = f"[{host}]" if family == socket.AF_INET6 else host
            on_ready(f"http://{shown}:{bound_port}")
        server.run(sockets=[sock])
    finally:
        sock.close()
