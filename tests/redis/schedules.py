"""Randomized schedules against the token chain, checked the way Jepsen checks databases.

Several clients (each with its own RedisTokenStore, as separate processes would have) share one
Redis and one emulator that rotates refresh tokens. A seeded schedule mixes: calls, callers
cancelled at random points, token answers held back past the 0.2 s lock lease, holders that do
not renew their lease (frozen), Redis connections cut and restored (a proxy per client), and
authorization pushes delivered late, twice, out of order, and again after a failure (as WeChat
re-delivers what did not get ``success``).

Checked while it runs and after one final round of calls (within the emulator's grace period):

- every refresh token Redis holds for an authorizer is never older (in WeChat's issue order)
  than one it held before: no lost update, no resurrected token;
- afterwards, each authorizer WeChat considers authorized has exactly WeChat's current refresh
  token stored, and it works; each revoked one has none;
- no token, ticket or secret (nor any 12-character piece of one) appears in any error or log
  record.

``run(seed)`` runs one schedule and returns its violations (empty: none).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from typing import Any

import httpx
import redis.asyncio as redis_asyncio
from _proxy import TcpProxy
from late_answers import LateAnswers

from wxprivacy import (
    ComponentClient,
    ReauthorizationRequiredError,
    TokenInvalidError,
    WeChatAPIError,
)
from wxprivacy.callback import CallbackHandler
from wxprivacy.emulator import CallbackPush, Emulator
from wxprivacy.redis import RedisTokenStore

AT = "/cgi-bin/component/api_authorizer_token"
CT = "/cgi-bin/component/api_component_token"
QA = "/cgi-bin/component/api_query_auth"
CLIENTS = 3
AUTHORIZERS = 2
DURATION = 1.2
"""Seconds over which a schedule's operations start."""
PIECE = 12


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        self.messages.append(text)


class _Secrets:
    """Every credential the emulator issued, and its 12-character pieces."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.pieces: set[str] = set()

    def add(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= PIECE and value not in self.values:
            self.values.add(value)
            self.pieces.update(value[i : i + PIECE] for i in range(len(value) - PIECE + 1))

    def leaked(self, text: str) -> bool:
        return any(text[i : i + PIECE] in self.pieces for i in range(len(text) - PIECE + 1))


class _Recorder(httpx.AsyncBaseTransport):
    """Collects the credentials in every answer of the token endpoints."""

    def __init__(self, inner: httpx.AsyncBaseTransport, secrets: _Secrets) -> None:
        self._inner, self._secrets = inner, secrets

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        with contextlib.suppress(ValueError):
            data = json.loads(body)
            info = data.get("authorization_info", {}) if isinstance(data, dict) else {}
            for source in (data, info):
                if isinstance(source, dict):
                    for key, value in source.items():
                        if "token" in key or "ticket" in key:
                            self._secrets.add(value)
        return httpx.Response(response.status_code, headers=response.headers, content=body)


class Harness:
    """One schedule's world: emulator, proxies, clients, handlers and the observers."""

    def __init__(self, seed: int, redis_url: str, prefix: str) -> None:
        self.rng = random.Random(seed)
        self.redis_url, self.prefix = redis_url, prefix
        self.offset = 0.0
        self.emu = Emulator(
            seed=seed, rotate_refresh_tokens=True, clock=lambda: time.time() + self.offset
        )
        self.issued: dict[str, int] = {}
        state = self.emu._state
        original = state.new_refresh_token

        def tracked() -> str:
            value = original()
            self.issued[value] = len(self.issued)
            self.secrets.add(value)
            return value

        state.new_refresh_token = tracked  # type: ignore[method-assign]
        self.secrets = _Secrets()
        self.secrets.add(self.emu.component_appsecret)
        self.appids = [f"wx{seed % 10**8:08d}{i:08d}" for i in range(AUTHORIZERS)]
        self.violations: list[str] = []
        self.errors: list[BaseException] = []
        self.pending: list[CallbackPush] = []
        self.proxies: list[TcpProxy] = []
        self.clients: list[ComponentClient] = []
        self.handlers: list[CallbackHandler] = []
        self.records = _Records()
        self.stats: dict[str, int] = {
            "calls": 0,
            "cancelled": 0,
            "stampedes": 0,
            "drops": 0,
            "pushes": 0,
        }

    # -- setup -----------------------------------------------------------------------------------

    async def start(self) -> None:
        host, port = "127.0.0.1", 6379
        parsed = httpx.URL(self.redis_url)
        host, port = parsed.host or host, parsed.port or port
        for i in range(CLIENTS):
            proxy = TcpProxy(host, port)
            await proxy.start()
            self.proxies.append(proxy)
            store = RedisTokenStore.from_url(
                proxy.url, self.prefix, lock_lease=0.2, lock_wait=3.0, timeout=0.5
            )
            store._renew_leases = self.rng.random() < 0.5
            plan = self._late_plan()
            transport = _Recorder(LateAnswers(self.emu.transport(), plan), self.secrets)
            client = ComponentClient(
                self.emu.component_appid,
                self.emu.component_appsecret,
                token_store=store,
                http_client=httpx.AsyncClient(transport=transport),
            )
            self.clients.append(client)
            self.handlers.append(
                CallbackHandler(client, self.emu.callback_crypto, clock=self.emu._state.clock)
            )
            del i
        self.secrets.add(self.emu.component_verify_ticket)
        await self.clients[0].set_component_verify_ticket(self.emu.component_verify_ticket)
        for appid in self.appids:
            code = self.emu.authorize(appid)
            await self.clients[0].query_auth(code)

    def _late_plan(self) -> Any:
        rng = random.Random(self.rng.random())

        def plan(path: str, _n: int) -> float:
            if path in (AT, CT) and rng.random() < 0.5:
                return rng.uniform(0.2, 0.6)  # past the 0.2 s lease
            return 0.0

        return plan

    async def stop(self) -> None:
        for client in self.clients:
            with contextlib.suppress(Exception):
                await client.aclose()
            await client._wire.backend.http.aclose()
            await client.token_store.aclose()
        for proxy in self.proxies:
            await proxy.close()
        await self._delete_keys(f"{self.prefix}*")

    async def _delete_keys(self, pattern: str) -> None:
        cleaner = redis_asyncio.Redis.from_url(self.redis_url)
        try:
            keys = [k async for k in cleaner.scan_iter(match=pattern)]
            if keys:
                await cleaner.delete(*keys)
        finally:
            await cleaner.aclose()

    # -- operations ------------------------------------------------------------------------------

    async def _call(self, client: ComponentClient, appid: str) -> None:
        self.stats["calls"] += 1
        try:
            # through WeChat, so a token it stopped accepting is refreshed on the spot
            await client.get_privacy_setting(appid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure is checked for secrets
            self.errors.append(exc)

    async def _cancelled_call(self, client: ComponentClient, appid: str) -> None:
        task = asyncio.create_task(self._call(client, appid))
        await asyncio.sleep(self.rng.uniform(0, 0.3))
        if task.cancel():
            self.stats["cancelled"] += 1
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _stampede(self, appid: str) -> None:
        """WeChat drops the tokens; every worker calls for one authorizer, a little apart."""
        self.stats["stampedes"] += 1
        self.emu.expire_tokens()
        await asyncio.gather(
            *(self._at(self.rng.uniform(0, 0.4), self._call(c, appid)) for c in self.clients)
        )

    async def _drop(self, proxy: TcpProxy, seconds: float) -> None:
        self.stats["drops"] += 1
        proxy.down()
        await asyncio.sleep(seconds)
        proxy.up()

    async def _deliver(self, push: CallbackPush, delay: float, handler: CallbackHandler) -> None:
        await asyncio.sleep(delay)
        try:
            await handler.handle(push.query, push.body)
        except Exception as exc:  # HTTP 500 to WeChat: it delivers the push again later
            self.errors.append(exc)
            self.pending.append(push)

    def _push(self) -> list[Any]:
        """WeChat's side happens now; the deliveries are scheduled late, twice, any order."""
        self.stats["pushes"] += 1
        self.offset += 1.1  # one CreateTime second per event: WeChat's order is unambiguous
        appid = self.rng.choice(self.appids)
        authorized = self.emu._state.authorizers[appid].authorized
        if authorized and self.rng.random() < 0.5:
            push = self.emu.unauthorized_push(appid)
        else:
            push = self.emu.authorized_push(appid)
            self.secrets.add(push.fields.get("AuthorizationCode"))
        copies = 1 + (self.rng.random() < 0.4)
        return [
            self._deliver(push, self.rng.uniform(0, 0.8), self.rng.choice(self.handlers))
            for _ in range(copies)
        ]

    async def run_schedule(self) -> None:
        jobs: list[Any] = []
        for _ in range(18):
            at = self.rng.uniform(0, DURATION)
            roll = self.rng.random()
            client = self.rng.choice(self.clients)
            appid = self.rng.choice(self.appids)
            if roll < 0.42:
                job: Any = self._call(client, appid)
            elif roll < 0.57:
                job = self._cancelled_call(client, appid)
            elif roll < 0.72:
                job = self._stampede(appid)
            elif roll < 0.8:
                job = self._drop(self.rng.choice(self.proxies), self.rng.uniform(0.05, 0.3))
            else:
                job = self._later(lambda: asyncio.gather(*self._push()))
            jobs.append(self._at(at, job))
        # stopped by an event, not cancelled: redis-py may swallow a cancellation mid-command
        stop = asyncio.Event()
        watcher = asyncio.create_task(self._watch(stop))
        try:
            await asyncio.gather(*jobs)
            await self._final_round()
        finally:
            stop.set()
            await watcher

    async def _later(self, action: Any) -> None:
        result = action()
        if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
            await result

    async def _at(self, at: float, job: Any) -> None:
        await asyncio.sleep(at)
        await job

    # -- checks ----------------------------------------------------------------------------------

    async def _watch(self, stop: asyncio.Event) -> None:
        """Poll Redis: a stored refresh token is never replaced by one WeChat issued earlier."""
        newest: dict[str, int] = {}
        key = f"{self.prefix}:{{{self.emu.component_appid}}}:refresh_tokens"
        watcher = redis_asyncio.Redis.from_url(self.redis_url, decode_responses=True)
        try:
            while not stop.is_set():
                stored = await watcher.hgetall(key)
                for appid, value in stored.items():
                    index = self.issued.get(value)
                    if index is None:
                        self.violations.append(f"{appid}: a refresh token WeChat never issued")
                    elif index < newest.get(appid, -1):
                        self.violations.append(
                            f"{appid}: stored refresh token #{index} replaced a newer one "
                            f"#{newest[appid]}"
                        )
                    else:
                        newest[appid] = index
                await asyncio.sleep(0.003)
        finally:
            await watcher.aclose()

    async def _final_round(self) -> None:
        for proxy in self.proxies:
            proxy.up()
        for _ in range(20):  # WeChat re-delivers what failed
            if not self.pending:
                break
            pushes, self.pending = self.pending, []
            await asyncio.gather(
                *(self._deliver(p, 0, self.rng.choice(self.handlers)) for p in pushes)
            )
        if self.pending:
            self.violations.append(f"{len(self.pending)} pushes never acknowledged")
        # quiescence: refreshes that outlived their (cancelled) callers land first
        for each in self.clients:
            await each._tokens.drain(wait=5.0)
            each.token_store._local.clear()
        # forget every access token, so the next call must refresh with the stored refresh token
        await self._delete_keys(f"{self.prefix}:*:access")
        client = self.clients[0]
        store = client.token_store
        comp = self.emu.component_appid
        for appid in self.appids:
            authorizer = self.emu._state.authorizers[appid]
            if authorizer.authorized:
                try:
                    # no access token is stored: the call refreshes with the stored refresh
                    # token, which must still be accepted (current or within the grace period)
                    await client.get_privacy_setting(appid)
                except WeChatAPIError as exc:
                    if isinstance(exc, TokenInvalidError | ReauthorizationRequiredError):
                        self.violations.append(f"{appid}: final refresh failed: {exc.errcode}")
                except Exception as exc:
                    self.errors.append(exc)
                    self.violations.append(f"{appid}: final refresh failed: {type(exc).__name__}")
                stored = await store.get_refresh_token(comp, appid)
                if stored != authorizer.refresh_token:
                    self.violations.append(f"{appid}: stored refresh token is not WeChat's current")
            elif await store.get_refresh_token(comp, appid) is not None:
                self.violations.append(f"{appid}: revoked last, but a refresh token is stored")

    def check_secrets(self) -> None:
        texts = [str(e) for e in self.errors] + [repr(e) for e in self.errors]
        texts += self.records.messages
        for text in texts:
            if self.secrets.leaked(text):
                self.violations.append(f"a secret in an error or log record: {text[:40]!r}...")


async def run(seed: int, redis_url: str, prefix: str) -> tuple[list[str], dict[str, int]]:
    """Run the schedule of ``seed``; return (violations, operation counts)."""
    harness = Harness(seed, redis_url, prefix)
    logger = logging.getLogger()
    old_level = logger.level
    logger.addHandler(harness.records)
    logger.setLevel(logging.DEBUG)
    try:
        await harness.start()
        await harness.run_schedule()
    finally:
        logger.removeHandler(harness.records)
        logger.setLevel(old_level)
        await harness.stop()
    harness.check_secrets()
    harness.stats["fenced_off"] = sum(
        "store refused the write" in m for m in harness.records.messages
    )
    harness.stats["lease_lost"] = sum(
        "was lost before its holder" in m for m in harness.records.messages
    )
    return harness.violations, harness.stats
