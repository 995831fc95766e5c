"""What a token store holds, and the TokenStore protocol (version 2: fenced writes, events).

A token store keeps, per ``component_appid``:

- the ``component_verify_ticket`` (12 h validity),
- the ``component_access_token`` (an :class:`AccessToken`),
- per authorizer, the ``authorizer_access_token`` and the long-lived ``authorizer_refresh_token``,
- per refresh lock, a **generation**: a counter the store bumps at every acquisition of the lock
  and at every write that did not come from a lock holder (a new authorization, a revocation),
- per authorizer, the ``CreateTime`` of the newest authorization event applied (the *event
  watermark*) and, for a while, the ids of the events applied (push de-duplication).

Access tokens can be re-fetched; refresh tokens cannot (losing one means the Mini Program's owner
must re-authorize), so a store never drops or blanks a refresh token on its own, and a write that
could replace a newer one with an older one is refused by the store itself:

- a refresher writes with the :class:`Fence` its lock gave it; the store writes only while that
  lock's generation is still the fence's (no one took the lock since, and no authorization or
  revocation happened since). A refresher whose lease ran out and whose lock was taken over can
  therefore never overwrite what the newer holder wrote (the fencing-token rule);
- an authorization event writes with its :class:`EventStamp`; the store refuses it when an event
  with a later ``CreateTime`` was applied already, or this very event was.

Write your own store (PostgreSQL, DynamoDB, ...) by implementing every method of
:class:`TokenStore`; no subclassing is needed. ``docs/token-stores.md`` has the rules and a
complete SQLite example; :class:`MemoryTokenStore` is the reference implementation.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractAsyncContextManager
from typing import Final, Protocol, runtime_checkable

import attrs

from ._errors import InvalidArgumentError

__all__ = [
    "EVENT_MEMORY",
    "TICKET_TTL",
    "USABLE_SKEW",
    "AccessToken",
    "EventStamp",
    "Fence",
    "TokenStore",
    "check_secret",
    "event_is_new",
]

TICKET_TTL: Final = 12 * 3600.0
"""Seconds a ``component_verify_ticket`` stays valid (WeChat: 12 hours)."""
USABLE_SKEW: Final = 30.0
"""Seconds before ``expires_at`` after which a token is no longer served at all."""
EVENT_MEMORY: Final = 7 * 24 * 3600.0
"""Seconds a store remembers the id of an applied authorization event (push de-duplication)."""


@attrs.frozen(repr=False)
class AccessToken:
    """An access token and when it expires.

    Attributes:
        value: the token string (never shown by ``repr``).
        expires_at: Unix time in seconds at which WeChat stops accepting it.
        refresh_at: Unix time in seconds from which it should be refreshed; ``None`` means
            ``expires_at`` minus the manager's refresh margin. Set for short-lived tokens so a
            lifetime at or below the margin does not cause a refresh on every call.
    """

    value: str
    expires_at: float
    refresh_at: float | None = attrs.field(default=None, kw_only=True)

    def __repr__(self) -> str:
        return f"AccessToken(value='***', expires_at={self.expires_at:.0f})"

    def is_fresh(self, now: float, margin: float) -> bool:
        """True until ``refresh_at`` (or while more than ``margin`` seconds remain)."""
        if self.refresh_at is not None:
            return now < self.refresh_at
        return now < self.expires_at - margin

    def with_refresh_margin(self, fetched_at: float, margin: float) -> AccessToken:
        """This token with ``refresh_at`` set: ``margin`` seconds before expiry, or half-way
        through its lifetime when that is shorter (``fetched_at``: Unix seconds when it was
        requested)."""
        lifetime = max(0.0, self.expires_at - fetched_at)
        return attrs.evolve(self, refresh_at=self.expires_at - min(margin, lifetime / 2))

    def with_refresh_time(self, fetched_at: float, margin: float) -> AccessToken:
        """Deprecated: use :meth:`with_refresh_margin` (``*_time`` names WeChat's instants)."""
        warnings.warn(
            "AccessToken.with_refresh_time() is deprecated: use with_refresh_margin()",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.with_refresh_margin(fetched_at, margin)

    def is_usable(self, now: float) -> bool:
        """True while the token may still be sent (30 s of clock skew allowed)."""
        return now < self.expires_at - USABLE_SKEW


@attrs.frozen
class Fence:
    """Proof that a refresh lock was taken: the lock's generation at that moment.

    Yielded by :meth:`TokenStore.lock`; a write that carries it succeeds only while the store's
    generation for that lock is still ``generation``.

    Attributes:
        name: the lock's name, ``"component"`` or ``"authorizer:<authorizer_appid>"``.
        generation: the store's counter for that lock after this acquisition (an int >= 1).
    """

    name: str
    generation: int


@attrs.frozen
class EventStamp:
    """Where an authorization event (a callback push) stands in WeChat's order.

    Attributes:
        create_time: the event's ``CreateTime`` (Unix seconds, set by WeChat).
        event_id: identifies the push, e.g. ``"authorized:<appid>:<CreateTime>:<digest>"``; the
            same push delivered twice has the same id (never holds a secret in clear).
        authorizer_appid: the authorizer the event is about (``""`` when unknown).
    """

    create_time: int
    event_id: str
    authorizer_appid: str = ""


@runtime_checkable
class TokenStore(Protocol):
    """Where a :class:`ComponentClient` keeps tickets and tokens; implement it to add a backend.

    Every method takes the ``component_appid`` first, so one store can serve several components
    without their keys, locks or generations ever meeting. Methods raise :class:`TokenStoreError`
    when the backend fails, and :class:`InvalidArgumentError` for an empty ticket or refresh token.
    Writes that may be refused return ``True`` when they wrote and ``False`` when they did not.
    """

    async def get_verify_ticket(self, component_appid: str) -> str | None:
        """Return the stored ``component_verify_ticket``, or ``None``."""
        ...

    async def set_verify_ticket(self, component_appid: str, ticket: str, ttl: float) -> None:
        """Store the ticket for ``ttl`` seconds (at least 12 h)."""
        ...

    async def get_component_token(self, component_appid: str) -> AccessToken | None:
        """Return the cached ``component_access_token``, or ``None``."""
        ...

    async def set_component_token(
        self, component_appid: str, token: AccessToken, *, fence: Fence
    ) -> bool:
        """Cache the ``component_access_token`` until its ``expires_at``, if ``fence`` holds.

        Atomically: write only while the generation of the ``"component"`` lock is still
        ``fence.generation``; return whether it was written.
        """
        ...

    async def invalidate_component_token(self, component_appid: str, value: str) -> bool:
        """Delete the cached component token only if it still has ``value``; ``True`` if deleted.

        Compare-and-delete in one atomic step: a token another worker just fetched survives.
        """
        ...

    async def get_authorizer_token(
        self, component_appid: str, authorizer_appid: str
    ) -> AccessToken | None:
        """Return the cached ``authorizer_access_token``, or ``None``."""
        ...

    async def invalidate_authorizer_token(
        self, component_appid: str, authorizer_appid: str, value: str
    ) -> bool:
        """Compare-and-delete the authorizer's access token (see invalidate_component_token)."""
        ...

    async def get_refresh_token(self, component_appid: str, authorizer_appid: str) -> str | None:
        """Return the ``authorizer_refresh_token``, or ``None`` when none is stored."""
        ...

    async def set_refresh_token(
        self,
        component_appid: str,
        authorizer_appid: str,
        refresh_token: str,
        *,
        event: EventStamp | None = None,
    ) -> bool:
        """Store the refresh token durably (no expiry) and bump the authorizer's generation.

        A refresh token from outside a refresh (a new authorization, a backup) supersedes what a
        refresher in flight will get, so that refresher's fenced write must fail. With ``event``,
        write only if the event is new and not older than the watermark (see
        :meth:`set_authorizer_tokens`). Rejects an empty value.
        """
        ...

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
        """Store an access token and its (possibly rotated) refresh token in one atomic step.

        - with ``fence`` (a refresh): write only while the generation of the lock
          ``"authorizer:<authorizer_appid>"`` is still ``fence.generation``;
        - without it (an authorization): write and bump that generation;
        - with ``event``: additionally refuse when ``event.event_id`` was applied already or
          ``event.create_time`` is strictly older than the authorizer's watermark; on a write,
          raise the watermark to ``create_time`` and remember the id for :data:`EVENT_MEMORY`.

        Returns whether it wrote. Rejects an empty ``refresh_token``: callers keep the old one.
        """
        ...

    async def delete_authorizer(
        self, component_appid: str, authorizer_appid: str, *, event: EventStamp | None = None
    ) -> bool:
        """Forget the authorizer's access and refresh tokens and bump its generation.

        With ``event`` (an ``unauthorized`` push), the same checks and watermark update as
        :meth:`set_authorizer_tokens`. Returns whether it was applied.
        """
        ...

    async def event_seen(
        self, component_appid: str, authorizer_appid: str, event: EventStamp
    ) -> bool:
        """Whether ``event`` needs no applying: it was applied already (its id is remembered),
        or it is strictly older than the newest event applied for ``authorizer_appid``."""
        ...

    async def export_refresh_tokens(self, component_appid: str) -> dict[str, str]:
        """Return every stored refresh token as ``{authorizer_appid: authorizer_refresh_token}``."""
        ...

    def lock(self, component_appid: str, name: str) -> AbstractAsyncContextManager[Fence]:
        """A mutual-exclusion lock for refreshing the token called ``name``; yields its fence.

        ``name`` is ``"component"`` or ``"authorizer:<authorizer_appid>"``. Each acquisition
        bumps the lock's generation and yields a :class:`Fence` with the new value. A distributed
        store holds it across processes with a lease, renewed while the holder works; it raises
        :class:`LockTimeoutError` when it cannot be acquired in time.
        """
        ...

    async def aclose(self) -> None:
        """Release connections the store owns."""
        ...


def check_secret(kind: str, value: str) -> None:
    """Reject an empty or blank ticket or refresh token (the value is never echoed).

    Every store calls it before writing, so none ever blanks a credential.

    Raises:
        InvalidArgumentError: ``value`` is not a non-blank string.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{kind} must be a non-empty string")


def event_is_new(event: EventStamp | None, watermark: int | None, applied: bool) -> bool:
    """Whether an event-stamped write may proceed: not applied yet, not older than the mark."""
    if event is None:
        return True
    if applied:
        return False
    return watermark is None or event.create_time >= watermark
