"""A complete TokenStore on SQLite: an example of writing your own store.

Several processes on one machine can share the database file: every write is one transaction,
compare-and-delete is a single ``DELETE ... WHERE value = ?``, and the refresh lock is a row with
a lease that a crashed holder cannot keep past ``lock_lease`` seconds.

It follows version 2 of the protocol: each lock acquisition bumps a generation (a counter row per
lock) and yields a ``Fence``; a fenced write checks, in the same transaction, that the generation
is still the fence's; an unfenced authorizer write bumps it; an event-stamped write checks the
authorizer's watermark and the applied event ids.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from wxprivacy import (
    AccessToken,
    EventStamp,
    Fence,
    InvalidArgumentError,
    LockTimeoutError,
    TokenStoreError,
)

TICKET_TTL = 12 * 3600.0  # seconds: WeChat keeps a verify ticket valid for 12 hours
EVENT_MEMORY = 7 * 24 * 3600.0  # seconds an applied event id is remembered

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
CREATE TABLE IF NOT EXISTS generations (name TEXT PRIMARY KEY, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS watermarks (
    component_appid TEXT NOT NULL, authorizer_appid TEXT NOT NULL, create_time INTEGER NOT NULL,
    PRIMARY KEY (component_appid, authorizer_appid)
);
CREATE TABLE IF NOT EXISTS events (
    component_appid TEXT NOT NULL, event_id TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (component_appid, event_id)
);
"""
BUMP = (
    "INSERT INTO generations VALUES (?, 1)"
    " ON CONFLICT(name) DO UPDATE SET generation = generation + 1 RETURNING generation"
)


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
        rows: list[tuple[Any, ...]] = await self._transaction(
            lambda db: db.execute(sql, args).fetchall()
        )
        return rows

    async def _transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``work(db)`` in one ``BEGIN IMMEDIATE`` transaction (other processes wait)."""

        def run() -> Any:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

        async with self._mutex:
            try:
                return await asyncio.to_thread(run)
            except sqlite3.Error as exc:
                raise TokenStoreError(type(exc).__name__, store="SQLiteTokenStore") from None

    @staticmethod
    def _fence_holds(db: sqlite3.Connection, lock: str, fence: Fence | None) -> bool:
        """Whether the lock's generation is still the fence's (no fence: bump it, True)."""
        if fence is None:
            db.execute(BUMP, (lock,)).fetchall()
            return True
        if not lock.endswith(":" + fence.name):  # a fence of another lock
            return False
        row = db.execute("SELECT generation FROM generations WHERE name = ?", (lock,)).fetchone()
        return row is not None and row[0] == fence.generation

    def _admit(
        self,
        db: sqlite3.Connection,
        c: str,
        a: str,
        event: EventStamp | None,
        *,
        record: bool = True,
    ) -> bool:
        """Whether an event-stamped write may go ahead; records the event when it may."""
        if event is None:
            return True
        now = self._clock()
        seen = db.execute(
            "SELECT 1 FROM events WHERE component_appid = ? AND event_id = ? AND expires_at > ?",
            (c, event.event_id, now),
        ).fetchone()
        mark = db.execute(
            "SELECT create_time FROM watermarks WHERE component_appid = ? AND authorizer_appid = ?",
            (c, a),
        ).fetchone()
        if seen or (mark is not None and event.create_time < mark[0]):
            return False
        if not record:
            return True
        db.execute("INSERT OR REPLACE INTO watermarks VALUES (?, ?, ?)", (c, a, event.create_time))
        db.execute(
            "INSERT OR REPLACE INTO events VALUES (?, ?, ?)",
            (c, event.event_id, now + EVENT_MEMORY),
        )
        return True

    async def _write_authorizer(
        self,
        c: str,
        a: str,
        rows: list[tuple[Any, ...]],
        *,
        delete: bool = False,
        fence: Fence | None = None,
        event: EventStamp | None = None,
    ) -> bool:
        """Check fence and event, then write ``rows`` (or delete), all in one transaction."""

        def work(db: sqlite3.Connection) -> bool:
            if fence is not None and not self._fence_holds(db, f"{c}:authorizer:{a}", fence):
                return False
            if not self._admit(db, c, a, event):
                return False
            if fence is None:
                self._fence_holds(db, f"{c}:authorizer:{a}", None)  # bump: fence off refreshers
            if delete:
                db.execute(
                    "DELETE FROM tokens WHERE component_appid = ? AND authorizer_appid = ?", (c, a)
                )
            db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?, ?, ?)", rows)
            return True

        return bool(await self._transaction(work))

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

    async def set_component_token(
        self, component_appid: str, token: AccessToken, *, fence: Fence
    ) -> bool:
        c = component_appid

        def work(db: sqlite3.Connection) -> bool:
            if not self._fence_holds(db, f"{c}:component", fence):
                return False
            db.execute(
                "INSERT OR REPLACE INTO tokens VALUES (?, 'component', '', ?, ?, ?)",
                (c, token.value, token.expires_at, token.refresh_at),
            )
            return True

        return bool(await self._transaction(work))

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
        self,
        component_appid: str,
        authorizer_appid: str,
        refresh_token: str,
        *,
        event: EventStamp | None = None,
    ) -> bool:
        if not refresh_token.strip():
            raise InvalidArgumentError("authorizer_refresh_token must be a non-empty string")
        c, a = component_appid, authorizer_appid
        row = (c, "refresh", a, refresh_token, None, None)
        return await self._write_authorizer(c, a, [row], event=event)

    async def set_authorizer_tokens(
        self,
        component_appid: str,
        authorizer_appid: str,
        token: AccessToken,
        refresh_token: str,
        *,
        fence: Fence | None = None,
        event: EventStamp | None = None,
    ) -> bool:
        if not refresh_token.strip():
            raise InvalidArgumentError("authorizer_refresh_token must be a non-empty string")
        c, a = component_appid, authorizer_appid
        rows = [
            (c, "refresh", a, refresh_token, None, None),
            (c, "access", a, token.value, token.expires_at, token.refresh_at),
        ]
        return await self._write_authorizer(c, a, rows, fence=fence, event=event)

    async def delete_authorizer(
        self, component_appid: str, authorizer_appid: str, *, event: EventStamp | None = None
    ) -> bool:
        c, a = component_appid, authorizer_appid
        return await self._write_authorizer(c, a, [], delete=True, event=event)

    async def event_seen(
        self, component_appid: str, authorizer_appid: str, event: EventStamp
    ) -> bool:
        # _admit answers "may it be applied?" and records it: here only the question is asked
        return not await self._transaction(
            lambda db: self._admit(db, component_appid, authorizer_appid, event, record=False)
        )

    async def export_refresh_tokens(self, component_appid: str) -> dict[str, str]:
        rows = await self._run(
            "SELECT authorizer_appid, value FROM tokens WHERE component_appid = ?"
            " AND kind = 'refresh'",
            (component_appid,),
        )
        return dict(rows)

    def lock(self, component_appid: str, name: str) -> AbstractAsyncContextManager[Fence]:
        return self._hold(f"{component_appid}:{name}", name)

    @asynccontextmanager
    async def _hold(self, key: str, name: str) -> AsyncIterator[Fence]:
        holder, deadline = secrets.token_hex(8), self._clock() + self._wait
        while True:
            now = self._clock()
            await self._run("DELETE FROM locks WHERE name = ? AND expires_at <= ?", (key, now))

            def take(db: sqlite3.Connection, now: float = now) -> int | None:
                taken = db.execute(
                    "INSERT OR IGNORE INTO locks VALUES (?, ?, ?) RETURNING 1",
                    (key, holder, now + self._lease),
                ).fetchall()
                return int(db.execute(BUMP, (key,)).fetchone()[0]) if taken else None

            generation = await self._transaction(take)
            if generation is not None:
                break
            if now >= deadline:
                raise LockTimeoutError(f"lock {key} busy", store="SQLiteTokenStore")
            await asyncio.sleep(0.01)
        try:
            # This example does not renew its lease: keep lock_lease above the longest refresh
            # (the fence still refuses the write of a holder whose lease ran out and was taken).
            yield Fence(name, generation)
        finally:  # release only our own lock
            await self._run("DELETE FROM locks WHERE name = ? AND holder = ?", (key, holder))

    async def aclose(self) -> None:
        self._db.close()
