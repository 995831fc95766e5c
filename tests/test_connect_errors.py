"""Issue 13 §2: refused, unresolvable and TLS failures are told apart, on both backends, and fail
fast. Before: a refused connection read "ConnectTimeout ... ssl:default", and an https:// base URL
against a plain-HTTP server took 22.9 s with no hint."""

from __future__ import annotations

import socket
import time

import pytest

from wxprivacy import ComponentClient, RetryPolicy, TransportError
from wxprivacy.emulator import Emulator, start_server

ONCE = RetryPolicy(max_attempts=1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _failure(url: str, transport: str) -> tuple[TransportError, float]:
    client = ComponentClient("wx0000000000000000", "secret", base_url=url, retry=ONCE,
                             transport=transport)  # type: ignore[arg-type]  # fmt: skip
    await client.set_component_verify_ticket("ticket")
    started = time.monotonic()
    try:
        with pytest.raises(TransportError) as info:
            await client.component_access_token()
    finally:
        await client.aclose()
    return info.value, time.monotonic() - started


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_a_refused_connection_says_refused(transport: str) -> None:
    port = _free_port()
    error, seconds = await _failure(f"http://127.0.0.1:{port}", transport)
    assert f"connection refused by 127.0.0.1:{port}" in str(error)
    assert error.maybe_sent is False and seconds < 5


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_https_against_plain_http_says_tls_and_hints(transport: str) -> None:
    async with await start_server(Emulator(authorizers=1)) as server:
        url = server.url.replace("http://", "https://")
        error, seconds = await _failure(url, transport)
    assert "TLS handshake" in str(error) and "base_url must start with http://" in str(error)
    assert error.maybe_sent is False and seconds < 5


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_an_unresolvable_host_says_so(transport: str) -> None:
    error, _seconds = await _failure("http://no-such-host.invalid", transport)
    assert "cannot resolve the host of no-such-host.invalid" in str(error)
    assert error.maybe_sent is False
