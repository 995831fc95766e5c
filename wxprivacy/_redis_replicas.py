"""Waiting for replicas, so that a failover cannot take back a refresh token Redis acknowledged.

Redis replicates asynchronously: a master acknowledges a write once it has it, and a master that
dies before a replica got the write loses it in the failover. Access tokens can be fetched again;
refresh tokens cannot. So the writes that hold refresh tokens are followed by ``WAIT <n> <ms>``
**on the same connection** (``WAIT`` counts the replicas that have every write of its own
connection), sent with the script (``EVAL``) in one non-transactional pipeline: one round trip,
plus the time the replica takes to acknowledge.

- ``replica_acks="auto"``: wait for one replica when the master reports an online replica
  (``INFO replication``, asked at most every :data:`REPLICA_CHECK_INTERVAL` seconds per master,
  and again at once after a shortfall or a failure); with none, write without waiting.
- ``replica_acks=n``: wait for ``n`` replicas; fewer within the wait is :class:`ReplicaAckError`.
- ``replica_acks=0``: never wait.

On Redis Cluster the pipeline goes to the master of the keys' slot (every key of a component
shares one slot), on one of that node's connections.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, PipelineCommand, RedisCluster
from redis.exceptions import AskError, RedisClusterException

from ._checks import check_int
from ._errors import TokenStoreError
from ._redis_ops import is_transient

__all__ = [
    "REPLICA_CHECK_INTERVAL",
    "ReplicaAckError",
    "ReplicaAcks",
    "ReplicaWaiter",
    "check_replica_acks",
    "online_replicas",
]

logger = logging.getLogger(__name__)

ReplicaAcks = int | Literal["auto"]
REPLICA_CHECK_INTERVAL: Final = 60.0
"""Seconds an ``INFO replication`` answer is trusted by ``replica_acks="auto"``."""


class ReplicaAckError(TokenStoreError):
    """A write reached the Redis master, but fewer replicas than required acknowledged it in time.

    The write is on the master (other workers may already read it); it is lost if the master
    fails before a replica gets it. Running the call again is safe.

    Attributes:
        acked: how many replicas acknowledged the write.
        needed: how many the store waited for.
    """

    def __init__(self, message: str, *, store: str, acked: int, needed: int) -> None:
        self.acked = acked
        self.needed = needed
        super().__init__(message, store=store)


def check_replica_acks(value: ReplicaAcks) -> ReplicaAcks:
    """Return ``value`` if it is ``"auto"`` or an int from 0 to 64.

    Raises:
        InvalidArgumentError: otherwise.
    """
    if value == "auto":
        return value
    return check_int("replica_acks", value, low=0, high=64, unit="(or 'auto')")


def online_replicas(info: Mapping[str, Any]) -> int:
    """Count the replicas ``INFO replication`` reports as ``state=online``."""
    return sum(
        1
        for key, value in info.items()
        if key.startswith("slave") and isinstance(value, dict) and value.get("state") == "online"
    )


class ReplicaWaiter:
    """Runs a store's durable writes: the script, then ``WAIT`` on the same connection.

    Args:
        redis: the store's client (``Redis``, a Sentinel ``master_for()`` client, or
            ``RedisCluster``).
        acks: ``"auto"``, or how many replicas must acknowledge (0: never wait).
        wait: seconds ``WAIT`` waits for them at most.
        store: the store's class name, for error messages.
        clock: monotonic seconds (for the ``INFO replication`` cache).
    """

    def __init__(
        self,
        redis: Redis | RedisCluster,
        acks: ReplicaAcks,
        wait: float,
        *,
        store: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self.acks = check_replica_acks(acks)
        self.wait = wait
        self._wait_ms = max(1, round(wait * 1000))
        self._store = store
        self._clock = clock
        self._online: dict[str, tuple[int, float]] = {}
        """Master name ('' for a non-cluster client) -> (online replicas, when it was asked)."""
        self._stale_topology = True  # a cluster client knows no slot before its first command

    async def run(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run the registered ``script`` and wait for the replicas; return the script's result.

        Raises:
            ReplicaAckError: fewer replicas than required acknowledged the write in time.
            redis.exceptions.RedisError: as the script or Redis raised it (the caller maps it).
        """
        if self.acks == 0:
            return await script(keys=keys, args=args)
        node = await self._node(keys[0])
        name = "" if node is None else node.name
        try:
            need = self.acks if self.acks != "auto" else min(1, await self._replicas(node, name))
            if need == 0:
                return await script(keys=keys, args=args)
            result, acked = await self._write_and_wait(node, script, keys, args, need)
        except Exception as exc:
            if is_transient(exc):  # maybe a failover: ask again which replicas there are
                self._online.pop(name, None)
                self._stale_topology = True
            raise
        if acked >= need:
            return result
        if self.acks == "auto" and await self._replicas(node, name, fresh=True) == 0:
            logger.warning(
                "the Redis master has no online replica any more; refresh tokens are written "
                "without a replica's acknowledgement until one is back"
            )
            return result
        raise ReplicaAckError(
            f"the write reached the master, but {acked} of {need} replica(s) acknowledged it "
            f"within {self.wait:g} s; it is lost if the master fails now",
            store=self._store,
            acked=int(acked),
            needed=need,
        )

    async def _node(self, key: str) -> ClusterNode | None:
        """The master of ``key``'s slot on a cluster (``None`` for other clients)."""
        if not isinstance(self._redis, RedisCluster):
            return None
        if self._stale_topology:
            # A keyed command through the cluster client initializes it, follows MOVED or a
            # dead node and refreshes its slot map; the pipeline below does neither on its own.
            await self._redis.exists(key)
            self._stale_topology = False
        node = self._redis.get_node_from_key(key)
        if node is None:
            raise RedisClusterException("no master serves the store's slot")
        return node

    async def _replicas(self, node: ClusterNode | None, name: str, *, fresh: bool = False) -> int:
        """Online replicas of the master, from ``INFO replication`` (cached unless ``fresh``)."""
        known = self._online.get(name)
        now = self._clock()
        if known is not None and not fresh and now - known[1] < REPLICA_CHECK_INTERVAL:
            return known[0]
        if node is None:
            assert isinstance(self._redis, Redis)
            info = await self._redis.info("replication")
        else:
            (info,) = await _on_node(node, ("INFO", "replication"))
        count = online_replicas(info)
        self._online[name] = (count, now)
        return count

    async def _write_and_wait(
        self,
        node: ClusterNode | None,
        script: Any,
        keys: Sequence[str],
        args: Sequence[Any],
        need: int,
    ) -> tuple[Any, int]:
        # EVAL with the source, not EVALSHA: a server that has not seen the script yet (a new
        # master after a failover) runs it at once, and WAIT is sent once
        write = ("EVAL", script.script, len(keys), *keys, *args)
        wait = ("WAIT", need, self._wait_ms)
        if node is None:
            assert isinstance(self._redis, Redis)
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.execute_command(*write)
                pipe.execute_command(*wait)
                result, acked = await pipe.execute(raise_on_error=False)
        else:
            result, acked = await _on_node(node, write, wait, raise_on_error=False)
        for reply in (result, acked):
            if isinstance(reply, AskError):  # MOVED or ASK: the slot is elsewhere now
                self._stale_topology = True
                raise RedisClusterException("the store's slot moved") from reply
            if isinstance(reply, Exception):
                raise reply
        return result, int(acked)


async def _on_node(
    node: ClusterNode, *commands: tuple[Any, ...], raise_on_error: bool = True
) -> list[Any]:
    """Send ``commands`` in one pipeline on one connection of the cluster ``node``.

    ``RedisCluster.pipeline()`` routes each command on its own, and after a failure sends a
    keyless ``WAIT`` to every master; this keeps ``WAIT`` on the connection of the write.
    """
    queued = [PipelineCommand(i, *command) for i, command in enumerate(commands)]
    await node.execute_pipeline(queued)
    results = [command.result for command in queued]
    if raise_on_error:
        for result in results:
            if isinstance(result, Exception):
                raise result
    return results
