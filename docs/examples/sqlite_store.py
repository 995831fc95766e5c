"""A complete TokenStore on SQLite: an example of writing your own store.

Several processes on one machine can share the database file: every write is one transaction,
compare-and-delete is a single ``DELETE ... WHERE value = ?``, and the refresh lock is a row with
a lease that a crashed holder cannot keep past ``lock_lease`` seconds.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from wxprivacy import AccessToken, InvalidArgumentError, LockTimeoutError, TokenStoreError

TICKET_TTL = 12 * 3600.0  # seconds: WeChat keeps a verify ticket valid for 12 hours

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    component_appid TEXT NOT NULL,
    kind TEXT NOT NULL,                 -- ticket | component | access | refresh
    authorizer_appid TEXT NOT NULL,     -- '' for ticket and component token
    value TEXT NOT NULL,
    expires_at REAL,                    -- Unix seconds; NULL: never (refresh tokens)
    refresh_at REAL,
    PRIMARY KEY (component_appid, kind, authorizer_appid)
);
CREATE TABLE IF NOT EXISTS locks (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL
);
"""


class SQLiteTokenStore:
    """A :class:`wxprivacy.TokenStore` backed by one SQLite file.

    Args:
        path: the database file (``":memory:"`` for one process).
        lock_lease: seconds a refresh lock is held at most.
        lock_wait: seconds to wait for a lock before raising LockTimeoutError.
        clock: returns the current Unix time in seconds.
    """

    def __init__(
        self,
        path: str,
        *,
        lock_lease: float = 30.0,
        lock_wait: float = 35.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.executescript(SCHEMA)
        self._lease, self._wait, self._clock = lock_lease, lock_wait, clock
        self._mutex = asyncio.Lock()  # one statement at a time on this connection

    def __repr__(self) -> str:
        return "SQLiteTokenStore()"  # never the tokens

    async def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        def work() -> list[tuple[Any, ...]]:
            with self._db:  # one transaction per statement group
                return self._db.execute(sql, args).fetchall()

        async with self._mutex:
            try:
                return await asyncio.to_thread(work)
            except sqlite3.Error as exc:
                raise TokenStoreError(type(exc).__name__, store="SQLiteTokenStore") from None

    async def _get(self, c: str, kind: str, a: str = "") -> tuple[Any, ...] | None:
        rows = await self._run(
            "SELECT value, expires_at, refresh_at FROM tokens"
            " WHERE component_appid = ? AND kind = ? AND authorizer_appid = ?",
            (c, kind, a),
        )
        return rows[0] if rows else None

    async def _put(self, c: str, kind: str, a: str, value: str, exp: Any, ref: Any) -> None:
        await self._run(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?, ?, ?)", (c, kind, a, value, exp, ref)
        )

    @staticmethod
    def _token(row: tuple[Any, ...] | None) -> AccessToken | None:
        return None if row is None else AccessToken(row[0], row[1], refresh_at=row[2])

    async def get_verify_ticket(self, component_appid: str) -> str | None:
        row = await self._get(component_appid, "ticket")
        return row[0] if row and row[1] > self._clock() else None

    async def set_verify_ticket(self, component_appid: str, ticket: str, ttl: float) -> None:
        if not ticket.strip():
            raise InvalidArgumentError("component_verify_ticket must be a non-empty string")
        expires = self._clock() + max(ttl, TICKET_TTL)
        await self._put(component_appid, "ticket", "", ticket, expires, None)

    async def get_component_token(self, component_appid: str) -> AccessToken | None:
        return self._token(await self._get(component_appid, "component"))

    async def set_component_token(self, component_appid: str, token: AccessToken) -> None:
        await self._put(
            component_appid, "component", "", token.value, token.expires_at, token.refresh_at
        )

    async def _delete_if(self, c: str, kind: str, a: str, value: str) -> bool:
        rows = await self._run(
            "DELETE FROM tokens WHERE component_appid = ? AND kind = ? AND authorizer_appid = ?"
            " AND value = ? RETURNING 1",
            (c, kind, a, value),
        )
        return bool(rows)

    async def invalidate_component_token(self, component_appid: str, value: str) -> bool:
        return await self._delete_if(component_appid, "component", "", value)

    async def get_authorizer_token(self, component_appid: str, authorizer_appid: str) -> Any:
        return self._token(await self._get(component_appid, "access", authorizer_appid))

    async def invalidate_authorizer_token(
        self, component_appid: str, authorizer_appid: str, value: str
    ) -> bool:
        return await self._delete_if(component_appid, "access", authorizer_appid, value)

    async def get_refresh_token(self, component_appid: str, authorizer_appid: str) -> str | None:
        row = await self._get(component_appid, "refresh", authorizer_appid)
        return row[0] if row else None

    async def set_refresh_token(
        self, component_appid: str, authorizer_appid: str, refresh_token: str
    ) -> None:
        if not refresh_token.strip():
            raise InvalidArgumentError("authorizer_refresh_token must be a non-empty string")
        await self._put(component_appid, "refresh", authorizer_appid, refresh_token, None, None)

    async def set_authorizer_tokens(
        self, component_appid: str, authorizer_appid: str, token: AccessToken, refresh_token: str
    ) -> None:
        if not refresh_token.strip():
            raise InvalidArgumentError("authorizer_refresh_token must be a non-empty string")
        c, a = component_appid, authorizer_appid
        await self._run(  # one statement, so one transaction: both rows or neither
            "INSERT OR REPLACE INTO tokens VALUES (?, 'refresh', ?, ?, NULL, NULL),"
            " (?, 'access', ?, ?, ?, ?)",
            (c, a, refresh_token, c, a, token.value, token.expires_at, token.refresh_at),
        )

    async def delete_authorizer(self, component_appid: str, authorizer_appid: str) -> None:
        await self._run(
            "DELETE FROM tokens WHERE component_appid = ? AND authorizer_appid = ?",
            (component_appid, authorizer_appid),
        )

    async def export_refresh_tokens(self, component_appid: str) -> dict[str, str]:
        rows = await self._run(
            "SELECT authorizer_appid, value FROM tokens WHERE component_appid = ?"
            " AND kind = 'refresh'",
            (component_appid,),
        )
        return dict(rows)

    def lock(self, component_appid: str, name: str) -> AbstractAsyncContextManager[None]:
        return self._hold(f"{component_appid}:{name}")

    @asynccontextmanager
    async def _hold(self, key: str) -> AsyncIterator[None]:
        holder, deadline = secrets.token_hex(8), self._clock() + self._wait
        while True:
            now = self._clock()
            await self._run("DELETE FROM locks WHERE name = ? AND expires_at <= ?", (key, now))
            taken = await self._run(
                "INSERT OR IGNORE INTO locks VALUES (?, ?, ?) RETURNING 1",
                (key, holder, now + self._lease),
            )
            if taken:
                break
            if now >= deadline:
                raise LockTimeoutError(f"lock {key} busy", store="SQLiteTokenStore")
            await asyncio.sleep(0.01)
        try:
            yield
        finally:  # release only our own lock
            await self._run("DELETE FROM locks WHERE name = ? AND holder = ?", (key, holder))

    async def aclose(self) -> None:
        self._db.close()
