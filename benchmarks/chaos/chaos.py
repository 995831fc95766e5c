"""Fault trials: the faults of issue 11, injected into real processes, each result counted.

Run from the repository root (``nox -s chaos`` runs it; about 3 minutes; needs ``redis-server``)::

    python benchmarks/chaos/chaos.py [--only NAME ...] [--authorizers 200]

Trials (each bounded in time; the emulator runs in its own process and rotates refresh tokens):

- ``redis-kill-aof`` / ``redis-kill``: a batch on a ``RedisTokenStore``; Redis is SIGKILLed mid
  batch and restarted 1 s later, with and without its append-only file;
- ``redis-stop``: Redis SIGSTOPped for 10 s while refreshes run, then continued;
- ``holder-kill``: 4 worker processes fetch the same cold authorizers through one Redis; the
  worker most likely to hold the refresh locks is SIGKILLed at a random moment;
- ``cancel``: 200 calls cancelled at random moments, then a batch on the same client;
- ``audit-kill``: ``wxprivacy audit`` SIGINTed or SIGKILLed at a random moment, then resumed;
- ``burst``: ``benchmarks/bench_burst.py`` at 20,000 calls.

Each prints: calls ok, typed errors, untyped errors (must be 0), hangs (must be 0), token
requests the emulator counted, refresh tokens lost (the store's differ from WeChat's current
ones; must be 0 where the store survived), leaked tasks and ResourceWarnings (must be 0).
Exit status 3 when a "must be 0" count is not.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE.parent), str(ROOT / "tests")]

import httpx  # noqa: E402
from _common import MISSED_TARGET, emulator_process, emulator_state  # noqa: E402
from redis_topologies import Topology, free_ports  # noqa: E402

from wxprivacy import ComponentClient, WxPrivacyError  # noqa: E402
from wxprivacy.redis import RedisTokenStore  # noqa: E402

Row = dict[str, Any]
EMULATOR = ("--rotate-refresh-tokens",)


async def counted(calls: list[Awaitable[Any]], *, limit: float) -> tuple[Counter[str], int]:
    """Await ``calls``; return outcomes by kind and 1 if they did not end within ``limit``."""
    kinds: Counter[str] = Counter()

    async def one(call: Awaitable[Any]) -> None:
        try:
            await call
        except WxPrivacyError as exc:
            kinds[type(exc).__name__] += 1
        except asyncio.CancelledError:
            kinds["cancelled"] += 1
        except Exception as exc:  # noqa: BLE001 - counted: must be zero
            kinds[f"UNTYPED {type(exc).__name__}"] += 1
        else:
            kinds["ok"] += 1

    try:
        async with asyncio.timeout(limit):
            await asyncio.gather(*(one(c) for c in calls))
    except TimeoutError:
        return kinds, 1
    return kinds, 0


async def token_requests(url: str) -> dict[str, int]:
    async with httpx.AsyncClient(base_url=url) as http:
        calls = (await http.get("/_emulator/calls")).json()["calls"]
    return {k.rsplit("/", 1)[1]: v for k, v in calls.items() if "token" in k}


async def lost_refresh_tokens(
    url: str, store: Any, component_appid: str, appids: list[str] | None = None
) -> int:
    """Authorizers (of ``appids``, default all) whose stored refresh token is not WeChat's
    current one."""
    state = await emulator_state(url)
    stored = await store.export_refresh_tokens(component_appid)
    current = {
        a["authorizer_appid"]: a["refresh_token"]
        for a in state["authorizers"]
        if appids is None or a["authorizer_appid"] in appids
    }
    return sum(1 for appid, token in current.items() if stored.get(appid) != token)


def leaks() -> tuple[int, int]:
    """(tasks still running besides this one, ResourceWarnings from a collection)."""
    tasks = len(asyncio.all_tasks()) - 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    return tasks, sum(1 for w in caught if issubclass(w.category, ResourceWarning))


async def client_for(url: str, store: Any, appids: list[str] | None = None) -> ComponentClient:
    state = await emulator_state(url)
    client = ComponentClient(
        state["component_appid"], state["component_appsecret"], base_url=url, token_store=store
    )
    await client.set_component_verify_ticket(state["component_verify_ticket"])
    for item in state["authorizers"]:
        if appids is None or item["authorizer_appid"] in appids:
            await client.set_authorizer_refresh_token(
                item["authorizer_appid"], item["refresh_token"]
            )
    return client


def good_appids(state: dict[str, Any]) -> list[str]:
    return [a["authorizer_appid"] for a in state["authorizers"] if a["profile"] != "no_permission"]


class RedisTrial:
    """A local ``redis-server`` (stopped by PID after), an emulator 0.2 s away (so refreshes are
    still running when Redis is hurt), and a client on a ``RedisTokenStore`` with cold tokens."""

    def __init__(self, args: argparse.Namespace, *server_args: str) -> None:
        self.args = args
        self.server_args = server_args
        self.topo = Topology("chaos")
        (self.port,) = free_ports(1)

    async def __aenter__(self) -> RedisTrial:
        self.topo.spawn(self.port, *self.server_args)
        self.topo.wait_up(self.port)
        latency = ("--latency", "0.2")
        self._emulator = emulator_process("--authorizers", str(self.args.authorizers), *latency,
                                          *EMULATOR)  # fmt: skip
        self.url = self._emulator.__enter__()
        url = f"redis://127.0.0.1:{self.port}/0"
        self.store = RedisTokenStore.from_url(url, timeout=2.0)
        self.client = await client_for(self.url, self.store)
        self.appids = good_appids(await emulator_state(self.url))
        return self

    def restart(self) -> None:
        """Start the server again on the same port and directory (its AOF, if any, is read)."""
        self.topo.spawn(self.port, *self.server_args)
        self.topo.wait_up(self.port)

    async def lost(self) -> int:
        return await lost_refresh_tokens(self.url, self.store, self.client.component_appid)

    async def finish(self) -> tuple[dict[str, int], int, int]:
        """(token requests, leaked tasks, ResourceWarnings), the client and store closed."""
        tokens = await token_requests(self.url)
        await self.client.aclose()
        await self.store.aclose()
        return (tokens, *leaks())

    async def __aexit__(self, *exc: object) -> None:
        try:
            self._emulator.__exit__(None, None, None)
        finally:
            self.topo.stop()


async def redis_kill(args: argparse.Namespace, *, aof: bool) -> Row:
    extra = ("--appendonly", "yes", "--appendfsync", "always") if aof else ()
    async with RedisTrial(args, *extra) as trial:
        calls = [trial.client.get_privacy_setting(a) for a in trial.appids * 5]
        batch = asyncio.ensure_future(counted(calls, limit=120))
        await asyncio.sleep(random.uniform(0.2, 0.6))
        trial.topo.kill(trial.port)
        await asyncio.sleep(1.0)
        trial.restart()
        kinds, hung = await batch
        lost = await trial.lost()
        reloaded = ""
        if lost:  # without the AOF the restart lost every key: the next ticket push (fed here
            # from the emulator's state) and WeChat's list of authorizers bring them back
            ticket = (await emulator_state(trial.url))["component_verify_ticket"]
            await trial.client.set_component_verify_ticket(ticket)
            await trial.client.reload_refresh_tokens()
            reloaded = f" ({await trial.lost()} after reload_refresh_tokens())"
        tokens, tasks, resource = await trial.finish()
    return row("redis-kill-aof" if aof else "redis-kill", kinds, hung, tokens, lost, tasks,
               resource, must_keep=aof, note=reloaded)  # fmt: skip


async def redis_stop(args: argparse.Namespace) -> Row:
    async with RedisTrial(args) as trial:
        calls = [trial.client.get_privacy_setting(a) for a in trial.appids * 2]
        batch = asyncio.ensure_future(counted(calls, limit=120))
        await asyncio.sleep(random.uniform(0.1, 0.4))
        pid = trial.topo.procs[trial.port].pid
        os.kill(pid, signal.SIGSTOP)
        await asyncio.sleep(10)
        os.kill(pid, signal.SIGCONT)
        kinds, hung = await batch
        again = [trial.client.get_privacy_setting(a) for a in trial.appids]
        after, hung_after = await counted(again, limit=60)
        kinds.update({f"after: {k}": v for k, v in after.items()})
        lost = await trial.lost()
        tokens, tasks, resource = await trial.finish()
    return row("redis-stop", kinds, hung + hung_after, tokens, lost, tasks, resource)


async def worker(redis_url: str, url: str, appids: list[str]) -> None:
    """One of the holder-kill processes: fetch every appid's guideline through Redis."""
    store = RedisTokenStore.from_url(redis_url, timeout=2.0, lock_lease=1.0)
    client = await client_for(url, store, appids)
    kinds, _ = await counted([client.get_privacy_setting(a) for a in appids], limit=60)
    print(json.dumps(dict(kinds)), flush=True)
    await client.aclose()
    await store.aclose()


async def holder_kill(args: argparse.Namespace) -> Row:
    topo = Topology("chaos")
    (port,) = free_ports(1)
    try:
        topo.spawn(port)
        topo.wait_up(port)
        redis_url = f"redis://127.0.0.1:{port}/0"
        with emulator_process("--authorizers", "60", "--latency", "0.2", *EMULATOR) as url:
            appids = good_appids(await emulator_state(url))[:50]
            argv = [sys.executable, __file__, "--worker", redis_url, url, ",".join(appids)]
            procs = [
                await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
                for _ in range(4)
            ]
            await asyncio.sleep(random.uniform(0.3, 1.0))
            procs[0].send_signal(signal.SIGKILL)  # the first started: most likely the holder
            kinds: Counter[str] = Counter()
            hung = 0
            for proc in procs:
                try:
                    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
                except TimeoutError:
                    proc.kill()
                    hung += 1
                    continue
                for line in out.decode().splitlines():
                    kinds.update(json.loads(line))
            store = RedisTokenStore.from_url(redis_url)
            state = await emulator_state(url)
            lost = await lost_refresh_tokens(url, store, state["component_appid"], appids)
            await store.aclose()
            tokens = await token_requests(url)
    finally:
        topo.stop()
    return row("holder-kill", kinds, hung, tokens, lost, 0, 0)


async def cancellations(args: argparse.Namespace) -> Row:
    from wxprivacy import MemoryTokenStore

    with emulator_process("--authorizers", str(args.authorizers), "--latency", "0.05") as url:
        store = MemoryTokenStore()
        client = await client_for(url, store)
        appids = good_appids(await emulator_state(url))
        tasks = [asyncio.ensure_future(client.get_privacy_setting(random.choice(appids)))
                 for _ in range(200)]  # fmt: skip
        for task in tasks:
            await asyncio.sleep(random.uniform(0, 0.002))
            task.cancel()
        kinds, hung = await counted(tasks, limit=30)
        after, hung_after = await counted([client.get_privacy_setting(a) for a in appids], limit=60)
        kinds.update({f"after: {k}": v for k, v in after.items()})
        lost = await lost_refresh_tokens(url, store, client.component_appid)
        tokens = await token_requests(url)
        await client.aclose()
        left, resource = leaks()
    return row("cancel", kinds, hung + hung_after, tokens, lost, left, resource)


async def audit_kill(args: argparse.Namespace) -> Row:
    kinds: Counter[str] = Counter()
    hung = 0
    with emulator_process("--authorizers", str(args.authorizers), "--latency", "0.02") as url:
        state = await emulator_state(url)
        env = dict(
            os.environ, PYTHONPATH=str(ROOT), WXPRIVACY_COMPONENT_APPSECRET="emulator-secret"
        )
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "audit.jsonl"
            argv = [
                sys.executable, "-c", "from wxprivacy.cli import main; main()", "audit",
                "--out", str(out), "--base-url", url, "--ticket", state["component_verify_ticket"],
                "--component-appid", state["component_appid"], "--no-progress",
                "--concurrency", "8",
            ]  # fmt: skip
            for attempt, sig in enumerate((signal.SIGINT, signal.SIGKILL, None)):
                extra = ["--resume"] if attempt else []
                proc = await asyncio.create_subprocess_exec(
                    *argv, *extra, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                if sig is not None:
                    await asyncio.sleep(random.uniform(0.5, 1.5))
                    proc.send_signal(sig)
                try:
                    code = await asyncio.wait_for(proc.wait(), timeout=120)
                except TimeoutError:
                    proc.kill()
                    hung += 1
                    code = -1
                kinds[f"exit {code}"] += 1
            lines = out.read_bytes().splitlines()
            seen = Counter(json.loads(line)["authorizer_appid"] for line in lines)
            expected = {a["authorizer_appid"] for a in state["authorizers"]}
            kinds["records"] = len(lines)
            kinds["missing"] = len(expected - set(seen))
            kinds["duplicated"] = sum(1 for c in seen.values() if c > 1)
        tokens = await token_requests(url)
    lost = kinds["missing"]
    return row("audit-kill", kinds, hung, tokens, lost, 0, 0)


async def burst(args: argparse.Namespace) -> Row:
    from bench_burst import FAULTS, run_child

    share = 0.01 / len(FAULTS)
    faults = [arg for kind in FAULTS for arg in (f"--fault-{kind}", str(share))]
    with emulator_process("--authorizers", "2000", *faults) as url:
        result = await asyncio.to_thread(run_child, url, 20000, 2000)
    kinds = Counter(result["outcomes"])
    untyped = result["untyped"]
    tokens = {
        k.rsplit("/", 1)[1]: v for k, v in result["requests"]["calls"].items() if "token" in k
    }
    return row("burst", kinds, 0, tokens, 0, 0, 0, untyped=untyped)


def row(
    name: str,
    kinds: Counter[str],
    hung: int,
    tokens: dict[str, int],
    lost: int,
    tasks: int,
    resource: int,
    *,
    must_keep: bool = True,
    untyped: int | None = None,
    note: str = "",
) -> Row:
    if untyped is None:
        untyped = sum(v for k, v in kinds.items() if "UNTYPED" in k)
    return {
        "name": name, "kinds": dict(kinds), "hung": hung, "tokens": tokens, "lost": lost,
        "must_keep": must_keep, "tasks": tasks, "resource": resource, "untyped": untyped,
        "note": note,
    }  # fmt: skip


TRIALS: dict[str, Callable[[argparse.Namespace], Awaitable[Row]]] = {
    "redis-kill-aof": lambda a: redis_kill(a, aof=True),
    "redis-kill": lambda a: redis_kill(a, aof=False),
    "redis-stop": redis_stop,
    "holder-kill": holder_kill,
    "cancel": cancellations,
    "audit-kill": audit_kill,
    "burst": burst,
}


async def main(args: argparse.Namespace) -> int:
    rows = []
    for name, trial in TRIALS.items():
        if args.only and name not in args.only:
            continue
        started = time.monotonic()
        result = await trial(args)
        result["seconds"] = time.monotonic() - started
        rows.append(result)
        print(f"... {name} done in {result['seconds']:.0f} s", flush=True)
    ok = True
    print("| trial | outcomes | untyped | hangs | token requests | refresh tokens lost | "
          "leaked tasks | ResourceWarnings |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(r["kinds"].items()))
        tokens = ", ".join(f"{k} {v}" for k, v in sorted(r["tokens"].items()))
        print(f"| {r['name']} | {outcomes} | {r['untyped']} | {r['hung']} | {tokens} | "
              f"{r['lost']}{r['note']} | {r['tasks']} | {r['resource']} |")  # fmt: skip
        bad = r["untyped"] or r["hung"] or r["tasks"] or r["resource"]
        ok = ok and not bad and not (r["must_keep"] and r["lost"])
    print("must-be-zero counts:", "all zero" if ok else "NOT ALL ZERO")
    return 0 if ok else MISSED_TARGET


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(TRIALS))
    parser.add_argument("--authorizers", type=int, default=200)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.worker:
        redis_url, url, appids = parsed.worker
        asyncio.run(worker(redis_url, url, appids.split(",")))
        raise SystemExit(0)
    raise SystemExit(asyncio.run(main(parsed)))
