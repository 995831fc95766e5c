"""Issue 13 §2: a Redis failure says where and why (host, port, database, the reason), never the
password. Before: "reading the component token failed (ConnectionError)", the rest hidden in the
chained cause."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from redis_support import REDIS_URL, connect_or_skip

from wxprivacy import TokenStoreError
from wxprivacy.redis import RedisTokenStore

PASSWORD = "s3cr3t-redis-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_nothing_listening_names_host_port_and_db_not_the_password() -> None:
    port = _free_port()
    store = RedisTokenStore.from_url(f"redis://:{PASSWORD}@127.0.0.1:{port}/3", timeout=0.3)
    with pytest.raises(TokenStoreError) as info:
        await store.get_component_token("wx0000000000000000")
    text = str(info.value)
    assert f"127.0.0.1:{port} db 3" in text
    assert "ConnectionError" in text and "Redis was still away" in text
    assert PASSWORD not in text and PASSWORD not in repr(info.value)
    await store.aclose()


@pytest.mark.parametrize("db", [99, 16000])
async def test_a_database_out_of_range_says_so(db: int) -> None:
    client = await connect_or_skip()
    await client.aclose()
    parts = urlsplit(REDIS_URL)
    url = f"{parts.scheme}://{parts.netloc}/{db}"
    store = RedisTokenStore.from_url(url, timeout=0.5)
    with pytest.raises(TokenStoreError) as info:
        await store.get_component_token("wx0000000000000000")
    assert f"db {db}" in str(info.value)
    assert "DB index is out of range" in str(info.value)
    await store.aclose()
