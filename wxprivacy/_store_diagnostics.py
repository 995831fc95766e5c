"""What a token store can tell ``wxprivacy doctor`` about itself (an optional protocol).

A store that implements :class:`DiagnosableStore` reports where it is, how old its verify ticket
is, how many refresh tokens it holds and which refresh locks are held right now.
:class:`MemoryTokenStore` and :class:`RedisTokenStore` implement it; a store of your own may, and
the doctor falls back to what the :class:`TokenStore` protocol itself can answer when it does not.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

__all__ = ["DiagnosableStore", "HeldLock", "StoreDiagnostics"]


@attrs.frozen(kw_only=True)
class HeldLock:
    """A refresh lock held at the moment of the reading.

    Attributes:
        name: the lock's name, ``"component"`` or ``"authorizer:<authorizer_appid>"``.
        held_for: seconds since it was acquired, or ``None`` when the store cannot tell (a lock
            taken by an older version of the SDK).
        lease_left: seconds until it expires unless its holder renews it, or ``None`` for a
            lock without a lease (:class:`MemoryTokenStore`).
    """

    name: str
    held_for: float | None
    lease_left: float | None


@attrs.frozen(kw_only=True)
class StoreDiagnostics:
    """One reading of a token store, for one ``component_appid`` (no secret is part of it).

    Attributes:
        backend: where it keeps tokens, e.g. ``"redis 127.0.0.1:6379 db 0"`` or ``"memory"``
            (never a password).
        shared: whether other processes and machines see what it holds.
        key_prefix: the prefix of its keys, or ``None`` when it has none.
        ticket_expires_in: seconds until the stored ``component_verify_ticket`` expires, or
            ``None`` when none is stored.
        refresh_tokens: how many ``authorizer_refresh_token`` values it holds.
        locks: the refresh locks held right now.
        persistent: whether what it holds survives a restart of its server (Redis: AOF is on,
            on every node), ``False`` when it does not, ``None`` when the store cannot tell.
        replicas: replicas connected to the server holding the component's keys, or ``None``.
    """

    backend: str
    shared: bool
    key_prefix: str | None
    ticket_expires_in: float | None
    refresh_tokens: int
    locks: tuple[HeldLock, ...] = ()
    persistent: bool | None = None
    replicas: int | None = None


@runtime_checkable
class DiagnosableStore(Protocol):
    """A token store that can describe itself to ``wxprivacy doctor``."""

    async def diagnostics(self, component_appid: str) -> StoreDiagnostics:
        """Read the store's state for ``component_appid``.

        Raises:
            TokenStoreError: the backend failed.
        """
        ...
