"""Real Redis topologies for the tests: a Cluster (3 masters, a replica each) and a Sentinel set.

Every server is a ``redis-server`` child process of the test run, on free ports, in a directory
of its own; :meth:`Topology.stop` kills each by PID and removes the directory. Waits are on the
state the servers report (``CLUSTER INFO``, ``INFO replication``, ``SENTINEL
get-master-addr-by-name``), never on fixed sleeps. Without ``redis-server`` the fixtures skip
(fail under ``CI=true``).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
HOST = "127.0.0.1"
SERVICE = "wxprivacy-test"
"""The master name the Sentinel monitors."""


def need_redis_server() -> None:
    """Skip when ``redis-server`` / ``redis-cli`` are not installed; fail under ``CI=true``."""
    missing = [tool for tool in ("redis-server", "redis-cli") if shutil.which(tool) is None]
    if missing:
        message = f"{' and '.join(missing)} not installed: no local Cluster or Sentinel"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI=true requires them")
        pytest.skip(message)


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 60.0) -> T:
    """Poll ``check()`` until it returns something truthy; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            found = check()
        except Exception as exc:  # noqa: BLE001 - a server still starting refuses, etc.
            found, last = None, exc
        if found:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what} ({last!r})")
        time.sleep(0.05)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_ports(count: int, *, bus: bool = False) -> list[int]:
    """``count`` distinct free ports (with ``bus``, ``port + 10000`` is free too: Cluster bus)."""
    found: list[int] = []
    while len(found) < count:
        port = random.randint(20000, 29999) if bus else random.randint(30000, 59999)
        if port in found or not _port_free(port) or (bus and not _port_free(port + 10000)):
            continue
        found.append(port)
    return found


def admin(port: int) -> Any:
    """A synchronous client for waiting on a server's state (short timeouts)."""
    import redis

    return redis.Redis(
        host=HOST, port=port, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
    )


class Topology:
    """Redis servers started by the tests; stopped by PID, their directory removed."""

    def __init__(self, name: str) -> None:
        need_redis_server()
        self.dir = Path(tempfile.mkdtemp(prefix=f"wxprivacy-{name}-"))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(self, port: int, *args: str, config: str | None = None) -> None:
        """Start ``redis-server`` on ``port`` (no RDB snapshots, AOF off unless ``args`` say)."""
        workdir = self.dir / str(port)
        workdir.mkdir(exist_ok=True)
        argv = ["redis-server"]
        if config is not None:
            path = workdir / "server.conf"
            path.write_text(config)
            argv.append(str(path))
        argv += [
            "--port", str(port), "--bind", HOST, "--dir", str(workdir), "--save", "",
            "--logfile", str(workdir / "server.log"), "--daemonize", "no",
            "--repl-diskless-sync-delay", "0", *args,
        ]  # fmt: skip
        self.procs[port] = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def wait_up(self, port: int) -> None:
        wait_for(f"redis-server on port {port}", lambda: admin(port).ping(), timeout=30)

    def kill(self, port: int) -> None:
        """SIGKILL the server on ``port`` (a crash: no shutdown, no final save)."""
        proc = self.procs.pop(port)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        """Kill every server still running, by PID, and remove the directory."""
        for port in list(self.procs):
            self.kill(port)
        shutil.rmtree(self.dir, ignore_errors=True)


class LocalCluster(Topology):
    """Three masters with one replica each (``redis-cli --cluster create --cluster-replicas 1``).

    Args:
        node_timeout: ``cluster-node-timeout`` in milliseconds: how long a master may be
            unreachable before its replica takes over.
    """

    def __init__(self, *, node_timeout: int = 5000) -> None:
        super().__init__("cluster")
        self.ports = free_ports(6, bus=True)
        try:
            for port in self.ports:
                self.spawn(
                    port,
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", f"nodes-{port}.conf",
                    "--cluster-node-timeout", str(node_timeout),
                    "--appendonly", "yes", "--appendfsync", "everysec",
                )  # fmt: skip
            for port in self.ports:
                self.wait_up(port)
            nodes = [f"{HOST}:{port}" for port in self.ports]
            subprocess.run(
                ["redis-cli", "--cluster", "create", *nodes, "--cluster-replicas", "1"]
                + ["--cluster-yes"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=120,
            )
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        """A URL of one node: ``RedisCluster.from_url`` discovers the others from it."""
        return f"redis://{HOST}:{self.ports[0]}/0"

    @staticmethod
    def state(port: int) -> str:
        """``cluster_state`` from ``CLUSTER INFO`` of the node on ``port``."""
        text = admin(port).execute_command("CLUSTER", "INFO")
        fields = dict(line.split(":", 1) for line in text.split() if ":" in line)
        return fields["cluster_state"]

    @staticmethod
    def _masters(port: int) -> dict[int, list[tuple[int, int]]]:
        """``CLUSTER NODES`` of the node on ``port``: masters serving slots, by port, with
        their slot ranges."""
        text = admin(port).execute_command("CLUSTER", "NODES")
        if not isinstance(text, str):  # some clients parse the reply
            raise RuntimeError(f"unexpected CLUSTER NODES reply {text!r}")
        found: dict[int, list[tuple[int, int]]] = {}
        for line in text.splitlines():
            parts = line.split()
            flags = parts[2].split(",")
            if "master" not in flags or "fail" in flags or "fail?" in flags:
                continue
            ranges = []
            for spec in parts[8:]:
                if spec.startswith("["):
                    continue  # a slot being migrated
                first, _, last = spec.partition("-")
                ranges.append((int(first), int(last or first)))
            if ranges:
                address = parts[1].split("@", 1)[0]
                found[int(address.rsplit(":", 1)[1])] = ranges
        return found

    def wait_healthy(self, masters: int = 3, timeout: float = 90.0) -> None:
        """Wait until every running node says ``cluster_state:ok`` and knows ``masters``
        masters serving slots, each with an online replica (a failover's replica too)."""

        def healthy() -> bool:
            for port in self.procs:
                if self.state(port) != "ok" or len(self._masters(port)) != masters:
                    return False
            for port in self._masters(next(iter(self.procs))):
                info = admin(port).info("replication")
                online = [v for k, v in info.items() if k.startswith("slave")]
                if not any(isinstance(v, dict) and v.get("state") == "online" for v in online):
                    return False
            return True

        wait_for("a healthy cluster", healthy, timeout=timeout)

    def master_port_of(self, key: str) -> int:
        """The port of the master serving ``key``'s slot (asked of a running node)."""
        for port in self.procs:
            try:
                slot = int(admin(port).execute_command("CLUSTER", "KEYSLOT", key))
                for master, ranges in self._masters(port).items():
                    if any(first <= slot <= last for first, last in ranges):
                        return master
            except Exception:  # noqa: BLE001, S112 - that node is down: ask another
                continue
        raise RuntimeError(f"no master serves {key!r}")

    def wait_failover(self, key: str, old_port: int, timeout: float = 60.0) -> int:
        """Wait until a replica took over ``key``'s slot from ``old_port`` and every running
        node says ``cluster_state:ok``; return the new master's port."""

        def promoted() -> int | None:
            port = self.master_port_of(key)
            if port == old_port:
                return None
            if any(self.state(node) != "ok" for node in self.procs):
                return None
            return port

        return wait_for("the replica's promotion", promoted, timeout=timeout)


class LocalReplicated(Topology):
    """One master and ``replicas`` replicas of it (``--replicaof``), AOF ``everysec`` on each."""

    def __init__(self, *, replicas: int = 1, name: str = "replicated") -> None:
        super().__init__(name)
        self.master_port, *self.replica_ports = free_ports(1 + replicas)
        try:
            durable = ("--appendonly", "yes", "--appendfsync", "everysec")
            self.spawn(self.master_port, *durable)
            for port in self.replica_ports:
                self.spawn(port, *durable, "--replicaof", HOST, str(self.master_port))
            for port in (self.master_port, *self.replica_ports):
                self.wait_up(port)
            self.wait_replicas(self.master_port, replicas)
        except BaseException:
            self.stop()
            raise

    @property
    def replica_port(self) -> int:
        return self.replica_ports[0]

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.master_port}/0"

    def wait_replicas(self, port: int, count: int, timeout: float = 60.0) -> None:
        """Wait until the master on ``port`` reports exactly ``count`` online replicas."""

        def reached() -> bool:
            info = admin(port).info("replication")
            online = [
                v
                for k, v in info.items()
                if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"
            ]
            return info["role"] == "master" and len(online) == count

        wait_for(f"{count} online replica(s) of port {port}", reached, timeout=timeout)

    def pause(self, port: int) -> None:
        """SIGSTOP the server on ``port``: it keeps its connections and answers nothing."""
        os.kill(self.procs[port].pid, signal.SIGSTOP)

    def resume(self, port: int) -> None:
        """SIGCONT the server on ``port``."""
        os.kill(self.procs[port].pid, signal.SIGCONT)


class LocalSentinel(LocalReplicated):
    """One master, one replica and one ``redis-server --sentinel`` monitoring them (quorum 1).

    Args:
        down_after: ``down-after-milliseconds``: how long the master may be unreachable before
            the Sentinel fails over to the replica.
    """

    def __init__(self, *, down_after: int = 5000) -> None:
        super().__init__(name="sentinel")
        (self.sentinel_port,) = free_ports(1)
        try:
            self.spawn(
                self.sentinel_port,
                "--sentinel",
                config=(
                    f"sentinel monitor {SERVICE} {HOST} {self.master_port} 1\n"
                    f"sentinel down-after-milliseconds {SERVICE} {down_after}\n"
                    f"sentinel failover-timeout {SERVICE} 10000\n"
                    f"sentinel parallel-syncs {SERVICE} 1\n"
                ),
            )
            self.wait_up(self.sentinel_port)
            self.wait_sentinel_knows(self.master_port, replicas=1)
        except BaseException:
            self.stop()
            raise

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        """The ``(host, port)`` list ``redis.asyncio.sentinel.Sentinel`` takes."""
        return [(HOST, self.sentinel_port)]

    def master_addr(self) -> tuple[str, int] | None:
        """What the Sentinel answers to ``SENTINEL get-master-addr-by-name``."""
        reply = admin(self.sentinel_port).execute_command(
            "SENTINEL", "get-master-addr-by-name", SERVICE
        )
        return None if not reply else (reply[0], int(reply[1]))

    def wait_sentinel_knows(self, port: int, *, replicas: int, timeout: float = 60.0) -> None:
        """Wait until the Sentinel names ``port`` as the master and knows its replicas."""

        def knows() -> bool:
            if self.master_addr() != (HOST, port):
                return False
            found = admin(self.sentinel_port).execute_command("SENTINEL", "replicas", SERVICE)
            usable = 0
            for entry in found:
                if isinstance(entry, dict):
                    flags = entry["flags"]
                else:
                    flags = dict(zip(entry[::2], entry[1::2], strict=True))["flags"]
                if isinstance(flags, str):
                    flags = flags.split(",")
                if "s_down" not in flags and "disconnected" not in flags:
                    usable += 1
            return usable >= replicas

        wait_for("the Sentinel to see the master and its replica", knows, timeout=timeout)

    def wait_failover(self, timeout: float = 60.0) -> int:
        """Wait until the Sentinel promoted the replica and it accepts writes; return its port."""

        def promoted() -> int | None:
            addr = self.master_addr()
            if addr is None or addr[1] == self.master_port:
                return None
            info = admin(addr[1]).info("replication")
            return addr[1] if info["role"] == "master" else None

        return wait_for("the Sentinel's failover", promoted, timeout=timeout)


def cluster_client(topology: LocalCluster, **options: Any) -> Any:
    """A ``redis.asyncio.cluster.RedisCluster`` on ``topology`` (the caller closes it)."""
    from redis.asyncio.cluster import RedisCluster

    options.setdefault("socket_timeout", 5)
    options.setdefault("socket_connect_timeout", 2)
    return RedisCluster.from_url(topology.url, **options)


class SentinelClient:
    """``Sentinel(...).master_for(...)`` on ``topology``; :meth:`aclose` closes both."""

    def __init__(self, topology: LocalSentinel, **options: Any) -> None:
        from redis.asyncio.sentinel import Sentinel

        options.setdefault("socket_timeout", 5)
        options.setdefault("socket_connect_timeout", 2)
        self.sentinel = Sentinel(topology.sentinels, sentinel_kwargs={"socket_timeout": 2})
        self.master = self.sentinel.master_for(SERVICE, **options)

    async def aclose(self) -> None:
        await self.master.aclose()
        for client in self.sentinel.sentinels:
            await client.aclose()
