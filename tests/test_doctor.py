"""Issue 13 §4: ``wxprivacy doctor`` and :func:`wxprivacy.doctor.diagnose`, against the emulator.

Each check is driven into each of its states (pass, warn, fail, skip) by the input that causes
it: the ticket's age, the clock's offset, held and stuck locks, missing, stale and unlisted
refresh tokens, authorizers without permission set 18 (from an audit file and from WeChat), a
store that does not answer, wrong credentials. No line ever holds a secret.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from client_factory import emulated as surface_emulated
from client_factory import started
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis_support import REDIS_URL
from typer.testing import CliRunner

from wxprivacy import ClientClosedError, ComponentClient, InvalidArgumentError, MemoryTokenStore
from wxprivacy._redis_lock import acquired_at, owner_value
from wxprivacy._stores import TICKET_TTL
from wxprivacy.audit import run_audit
from wxprivacy.audit import run_audit as audit
from wxprivacy.cli import app
from wxprivacy.doctor import CheckStatus, Diagnosis, diagnose
from wxprivacy.emulator import Emulator
from wxprivacy.emulator._serve import start_server

PASS, WARN, FAIL, SKIP = CheckStatus.PASS, CheckStatus.WARN, CheckStatus.FAIL, CheckStatus.SKIP
ORDER = [
    "token_store",
    "locks",
    "verify_ticket",
    "credentials",
    "clock",
    "refresh_tokens",
    "permissions",
]
runner = CliRunner()


def emulated(emu: Emulator, *, store: Any = None, **options: Any) -> Any:
    """The suite's client factory, with no refresh token loaded (the doctor checks for them)."""
    return surface_emulated(emu, load=False, token_store=store, **options)


def statuses(diagnosis: Diagnosis) -> dict[str, CheckStatus]:
    return {check.name: check.status for check in diagnosis.checks}


def lacking_18(emu: Emulator) -> list[str]:
    return [a for a in emu.authorizer_appids if 18 not in emu.granted_permission_sets(a)]


# -- the whole checklist ---------------------------------------------------------------------------


async def test_a_new_platform_in_memory_lists_every_check_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no audit.jsonl here
    emu = Emulator(authorizers=12, seed=3)
    async with emulated(emu) as client:
        diagnosis = await diagnose(client)
    assert [check.name for check in diagnosis.checks] == ORDER
    assert statuses(diagnosis) == {
        "token_store": WARN,  # memory: not shared, lost on exit
        "locks": PASS,
        "verify_ticket": PASS,
        "credentials": PASS,
        "clock": PASS,
        "refresh_tokens": FAIL,  # nothing stored yet
        "permissions": SKIP,  # no audit file
    }
    assert not diagnosis.ok
    assert emu.calls["/cgi-bin/component/api_component_token"] == 1
    assert diagnosis["refresh_tokens"].data["missing"] == emu.authorizer_appids
    assert "reload_refresh_tokens" in diagnosis["refresh_tokens"].fix
    assert "--check-permissions" in diagnosis["permissions"].fix
    assert "12 requests" in diagnosis["permissions"].fix


async def test_a_healthy_platform_passes_and_sends_no_token_request_when_one_is_cached(
    tmp_path: Path,
) -> None:
    emu = Emulator(authorizers=30, seed=5)
    for appid in lacking_18(emu):  # a fleet where everyone granted set 18
        emu.authorize(appid, permission_sets=[18])
    async with emulated(emu) as client:
        await audit(client, tmp_path / "audit.jsonl")
        emu.reset_calls()
        diagnosis = await diagnose(client, audit_file=tmp_path / "audit.jsonl")
    assert set(statuses(diagnosis).values()) <= {PASS, WARN}
    assert statuses(diagnosis)["token_store"] is WARN  # memory
    assert diagnosis.ok
    assert emu.calls["/cgi-bin/component/api_component_token"] == 0
    assert diagnosis["credentials"].data["requests"] == 0
    assert emu.calls["/cgi-bin/component/api_get_authorizer_list"] == 1
    assert "30 authorizers" in diagnosis["refresh_tokens"].summary


# -- permissions --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 7])
async def test_permission_set_18_from_the_last_audit_and_from_wechat_agree(
    seed: int, tmp_path: Path
) -> None:
    emu = Emulator(authorizers=25, seed=seed)
    expected = lacking_18(emu)
    async with emulated(emu) as client:
        await audit(client, tmp_path / "audit.jsonl")
        from_file = await diagnose(client, audit_file=tmp_path / "audit.jsonl")
        emu.reset_calls()
        asked = await diagnose(client, check_permissions=True, concurrency=4)
    assert emu.calls["/cgi-bin/component/api_get_authorizer_info"] == 25
    for diagnosis in (from_file, asked):
        line = diagnosis["permissions"]
        assert sorted(line.data["lacking"]) == sorted(expected)
        assert line.status is (FAIL if expected else PASS)
    assert asked["permissions"].data["requests"] == 25
    if expected:
        assert "authorization_url" in asked["permissions"].fix


async def test_the_audit_file_default_is_audit_jsonl_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = Emulator(authorizers=8, seed=2)
    emu.authorize(emu.authorizer_appids[0], permission_sets=[1, 2])  # no 18
    monkeypatch.chdir(tmp_path)
    async with emulated(emu) as client:
        await audit(client, Path("audit.jsonl"))
        diagnosis = await diagnose(client)
    line = diagnosis["permissions"]
    assert emu.authorizer_appids[0] in line.data["lacking"]
    assert "audit.jsonl" in line.summary


async def test_check_permissions_keeps_going_when_one_authorizer_cannot_be_asked() -> None:
    emu = Emulator(authorizers=6, seed=4)
    for appid in lacking_18(emu):
        emu.authorize(appid, permission_sets=[18])
    refused = emu.authorizer_appids[2]
    inner = emu.transport()

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("api_get_authorizer_info") and refused.encode() in (
            await request.aread()
        ):
            return httpx.Response(200, json={"errcode": 61003, "errmsg": "not authorized"})
        return await inner.handle_async_request(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        async with ComponentClient(
            emu.component_appid, emu.component_appsecret, http_client=http
        ) as client:
            await client.set_component_verify_ticket(emu.component_verify_ticket)
            diagnosis = await diagnose(client, check_permissions=True)
    line = diagnosis["permissions"]
    assert line.status is WARN
    assert line.data["failed"] == {refused: 61003}
    assert line.data["lacking"] == []
    assert line.data["authorizers"] == 6
    assert refused in line.summary


# -- refresh tokens -------------------------------------------------------------------------------


async def test_missing_stale_and_unlisted_refresh_tokens_are_named_never_shown() -> None:
    emu = Emulator(authorizers=10, seed=8)
    store = MemoryTokenStore()
    comp = emu.component_appid
    async with emulated(emu, store=store) as client:
        await client.reload_refresh_tokens()
        missing, stale = emu.authorizer_appids[0], emu.authorizer_appids[1]
        await client.remove_authorizer(missing)
        await store.set_refresh_token(comp, stale, "an-older-refresh-token")
        diagnosis = await diagnose(client)
        line = diagnosis["refresh_tokens"]
        assert line.status is FAIL
        assert line.data["missing"] == [missing] and line.data["stale"] == [stale]
        assert "an-older-refresh-token" not in repr(diagnosis.as_dict())
        # put both right; an appid WeChat no longer lists is a warning
        await client.reload_refresh_tokens()
        await store.set_refresh_token(comp, "wx1111111111111111", "left-over")
        line = (await diagnose(client))["refresh_tokens"]
    assert line.status is WARN
    assert line.data["not_listed"] == ["wx1111111111111111"]
    assert "remove_authorizer" in line.fix


# -- the verify ticket ----------------------------------------------------------------------------


def ticket_status(age: float) -> CheckStatus:
    return PASS if age <= 1800 else WARN


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(age=st.floats(min_value=0, max_value=TICKET_TTL - 5))
async def test_the_ticket_age_is_told_from_the_memory_store(age: float) -> None:
    now = [1_800_000_000.0]
    store = MemoryTokenStore(clock=lambda: now[0])
    emu = Emulator(authorizers=1)
    async with emulated(emu, store=store) as client:
        now[0] += age
        line = (await diagnose(client))["verify_ticket"]
    assert line.status is ticket_status(age)
    assert abs(line.data["age_s"] - age) < 0.2
    if line.status is WARN:
        assert "callback" in line.fix


async def test_an_expired_or_absent_ticket_fails_and_skips_what_needs_it() -> None:
    emu = Emulator(authorizers=3)
    async with emulated(emu, ticket=False) as client:
        diagnosis = await diagnose(client)
    assert statuses(diagnosis)["verify_ticket"] is FAIL
    assert statuses(diagnosis)["credentials"] is SKIP
    assert statuses(diagnosis)["refresh_tokens"] is SKIP
    assert statuses(diagnosis)["clock"] is PASS  # needs no credentials
    assert "--ticket" in diagnosis["verify_ticket"].fix
    assert emu.calls["/cgi-bin/component/api_component_token"] == 0


# -- credentials ----------------------------------------------------------------------------------


async def test_a_wrong_appsecret_fails_with_the_errcode_and_what_to_do() -> None:
    emu = Emulator(authorizers=3)
    async with emulated(emu, secret="not-the-secret") as client:
        diagnosis = await diagnose(client)
    line = diagnosis["credentials"]
    assert line.status is FAIL
    assert line.data["errcode"] == 40001
    assert "appsecret" in line.fix
    assert statuses(diagnosis)["refresh_tokens"] is SKIP
    assert "not-the-secret" not in repr(diagnosis.as_dict())


async def test_an_unreachable_wechat_fails_credentials_and_clock_with_the_network_fix() -> None:
    async with ComponentClient(
        "wx0000000000000000", "s", base_url="http://127.0.0.1:9", timeout=2
    ) as client:
        await client.set_component_verify_ticket("ticket")
        diagnosis = await diagnose(client)
    for name in ("credentials", "clock"):
        assert diagnosis[name].status is FAIL
        assert "127.0.0.1:9" in diagnosis[name].fix


# -- the clock ------------------------------------------------------------------------------------


def clock_status(offset: float) -> CheckStatus:
    return PASS if abs(offset) <= 5 else WARN if abs(offset) <= 30 else FAIL


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    offset=st.floats(min_value=-4000, max_value=4000).filter(
        lambda x: abs(abs(x) - 5) > 1.5 and abs(abs(x) - 30) > 1.5
    )
)
async def test_the_clock_offset_against_wechats_date_header(offset: float) -> None:
    emu = Emulator(authorizers=1, clock=lambda: time.time() + offset)
    async with emulated(emu) as client:
        line = (await diagnose(client))["clock"]
    assert abs(line.data["offset_s"] - offset) <= 1.0
    assert line.status is clock_status(offset)
    if line.status is not PASS:
        assert "behind" in line.summary if offset > 0 else "ahead of" in line.summary


@pytest.mark.parametrize(
    "date",
    [
        None,
        "garbage",
        "Mon, 01 Jan 99999999999999999999 00:00:00 +0000",  # the trial's: OverflowError
        "Mon, 01 Jan 2026 00:00:00 +99999999",
        "Mon, 01 Jan 10000 00:00:00 +0000",
        "",
    ],
)
async def test_no_readable_date_header_skips_the_clock_check(date: str | None) -> None:
    """Regression (trial of issue 12): a Date header past what a datetime holds failed the
    check with ``OverflowError: Python int too large to convert to C long``."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, headers={} if date is None else {"Date": date})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        async with ComponentClient("wx0000000000000000", "s", http_client=http) as client:
            line = (await diagnose(client))["clock"]
    assert line.status is SKIP
    assert "Date" in line.summary


# -- locks ----------------------------------------------------------------------------------------


async def test_memory_store_locks_held_now_are_listed_with_their_age() -> None:
    now = [1_800_000_000.0]
    store = MemoryTokenStore(clock=lambda: now[0])
    emu = Emulator(authorizers=1)
    async with emulated(emu, store=store) as client:
        async with store.lock(emu.component_appid, "authorizer:wx1111111111111111"):
            now[0] += 10
            held = (await diagnose(client))["locks"]
            now[0] += 100
            stuck = (await diagnose(client))["locks"]
        free = (await diagnose(client))["locks"]
    assert held.status is PASS and held.data["locks"][0]["held_for"] == pytest.approx(10)
    assert stuck.status is WARN and "authorizer:wx1111111111111111" in stuck.summary
    assert free.status is PASS and free.data["locks"] == []


@given(nonce=st.text(min_size=1), at=st.floats(min_value=0, max_value=4e9))
def test_a_lock_owner_carries_its_acquisition_time(nonce: str, at: float) -> None:
    assert acquired_at(owner_value(nonce, at)) == pytest.approx(at, abs=0.001)


@pytest.mark.parametrize("owner", ["0123456789abcdef0123456789abcdef", "x@y", "", "@"])
def test_an_owner_without_a_time_has_no_age(owner: str) -> None:
    assert acquired_at(owner) is None


# -- a custom store without diagnostics ------------------------------------------------------------


class PlainStore:
    """A store that implements only the TokenStore protocol (delegating to memory)."""

    def __init__(self) -> None:
        self._inner = MemoryTokenStore()

    def __getattr__(self, name: str) -> Any:
        if name == "diagnostics":
            raise AttributeError(name)
        return getattr(self._inner, name)


async def test_a_store_without_diagnostics_is_still_checked() -> None:
    emu = Emulator(authorizers=4)
    async with emulated(emu, store=PlainStore()) as client:
        await client.reload_refresh_tokens()
        diagnosis = await diagnose(client)
    assert diagnosis["token_store"].status is PASS
    assert "PlainStore" in diagnosis["token_store"].summary
    assert diagnosis["token_store"].data["refresh_tokens"] == 4
    assert diagnosis["locks"].status is SKIP
    assert diagnosis["verify_ticket"].status is PASS


# -- Redis ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("age", [0.0, 240.0, 1799.0, 1860.0, 6 * 3600.0])
async def test_redis_store_reports_where_it_is_its_ticket_age_and_locks(
    age: float, redis_client: Any, redis_prefix: str
) -> None:
    from wxprivacy.redis import RedisTokenStore

    emu = Emulator(authorizers=5, seed=11)
    store = RedisTokenStore(redis_client, key_prefix=redis_prefix)
    async with emulated(emu, store=store) as client:
        await client.reload_refresh_tokens()
        ticket_key = store.key(emu.component_appid, "ticket")
        await redis_client.pexpire(ticket_key, int((TICKET_TTL - age) * 1000))
        lock = store.lock(emu.component_appid, "component")
        async with lock:
            diagnosis = await diagnose(client)
    line = diagnosis["token_store"]
    aof = bool((await redis_client.info("persistence"))["aof_enabled"])
    assert line.data["persistent"] is aof
    assert line.status is (PASS if aof else WARN)  # without AOF a restart loses refresh tokens
    assert "127.0.0.1" in line.summary or "localhost" in line.summary
    assert line.data["key_prefix"] == redis_prefix
    assert line.data["refresh_tokens"] == 5
    assert abs(diagnosis["verify_ticket"].data["age_s"] - age) < 2
    assert diagnosis["verify_ticket"].status is ticket_status(age)
    (held,) = diagnosis["locks"].data["locks"]
    assert held["name"] == "component"
    assert 0 <= held["held_for"] < 5 and 0 < held["lease_left"] <= store.lock_lease


async def test_redis_locks_of_a_prefix_that_looks_like_a_pattern_are_its_own(
    redis_client: Any, redis_prefix: str
) -> None:
    from wxprivacy.redis import RedisTokenStore

    comp = "wx0000000000000000"
    wild = RedisTokenStore(redis_client, key_prefix=redis_prefix + "*[a]?")
    other = RedisTokenStore(redis_client, key_prefix=redis_prefix + "xaz")
    async with other.lock(comp, "component"):
        assert (await wild.diagnostics(comp)).locks == ()
        assert len((await other.diagnostics(comp)).locks) == 1


async def test_a_stuck_redis_lock_and_an_old_sdks_lock(
    redis_client: Any, redis_prefix: str
) -> None:
    from wxprivacy.redis import RedisTokenStore

    emu = Emulator(authorizers=1)
    store = RedisTokenStore(redis_client, key_prefix=redis_prefix)
    comp = emu.component_appid
    stuck = store.key(comp, "lock", "authorizer:wx1111111111111111")
    old = store.key(comp, "lock", "authorizer:wx2222222222222222")
    await redis_client.set(stuck, owner_value("n", time.time() - 90), px=20_000)
    await redis_client.set(old, "0123456789abcdef", px=20_000)
    async with emulated(emu, store=store) as client:
        line = (await diagnose(client))["locks"]
    assert line.status is WARN
    assert "authorizer:wx1111111111111111" in line.summary
    assert "authorizer:wx2222222222222222" not in line.summary
    ages = {lock["name"]: lock["held_for"] for lock in line.data["locks"]}
    assert ages["authorizer:wx2222222222222222"] is None
    assert 89 <= ages["authorizer:wx1111111111111111"] <= 95


async def test_an_unreachable_redis_fails_the_store_and_skips_what_needs_it() -> None:
    from wxprivacy.redis import RedisTokenStore

    emu = Emulator(authorizers=1)
    store = RedisTokenStore.from_url("redis://127.0.0.1:1/3", timeout=0.5)
    try:
        async with emulated(emu, store=store, ticket=False) as client:
            diagnosis = await diagnose(client)
    finally:
        await store.aclose()
    assert diagnosis["token_store"].status is FAIL
    assert "127.0.0.1:1" in diagnosis["token_store"].summary
    assert "--redis-url" in diagnosis["token_store"].fix
    for name in ("locks", "verify_ticket", "credentials", "refresh_tokens"):
        assert diagnosis[name].status is SKIP
    assert diagnosis["clock"].status is PASS


# -- the command ----------------------------------------------------------------------------------


def secrets_of(emu: Emulator) -> list[str]:
    state = emu.snapshot()
    found = [state["component_appsecret"], state["component_verify_ticket"]]
    found += [entry["refresh_token"] for entry in state["authorizers"]]
    token = emu.current_component_access_token()
    return found + ([token] if token else [])


def test_the_command_against_the_in_process_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["doctor", "--emulator", "5"])
    assert result.exit_code == 1, result.output  # no refresh token is stored yet
    for name in ORDER:
        assert name in result.output
    assert "fix: " in result.output
    assert "7 checks:" in result.output


def test_the_command_without_credentials_says_which_are_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WXPRIVACY_COMPONENT_APPID", raising=False)
    monkeypatch.delenv("WXPRIVACY_COMPONENT_APPSECRET", raising=False)
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    data = orjson.loads(result.output)
    assert data["ok"] is False
    first = data["checks"][0]
    assert first["name"] == "credentials" and first["status"] == "fail"
    assert "WXPRIVACY_COMPONENT_APPSECRET" in first["summary"]


async def test_the_command_over_http_and_redis_after_an_audit_never_prints_a_secret(
    tmp_path: Path, redis_client: Any, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    emu = Emulator(authorizers=20, seed=9)
    monkeypatch.chdir(tmp_path)
    async with await start_server(emu) as server:
        env = {
            "WXPRIVACY_COMPONENT_APPID": emu.component_appid,
            "WXPRIVACY_COMPONENT_APPSECRET": emu.component_appsecret,
            "WXPRIVACY_COMPONENT_VERIFY_TICKET": emu.component_verify_ticket,
            "WXPRIVACY_BASE_URL": server.url,
            "WXPRIVACY_REDIS_URL": REDIS_URL,
            "WXPRIVACY_REDIS_PREFIX": redis_prefix,
        }

        def invoke(*args: str) -> Any:
            return runner.invoke(app, list(args), env=env)

        audited = await asyncio.to_thread(invoke, "audit", "--no-progress")
        assert audited.exit_code in (0, 1), audited.output
        text = await asyncio.to_thread(invoke, "doctor")
        as_json = await asyncio.to_thread(invoke, "doctor", "--json", "--check-permissions")
    expected = lacking_18(emu)
    assert text.exit_code == (1 if expected else 0), text.output
    data = orjson.loads(as_json.output)
    checks = {check["name"]: check for check in data["checks"]}
    assert checks["token_store"]["status"] in ("pass", "warn")  # warn: a Redis without AOF
    assert checks["token_store"]["data"]["refresh_tokens"] == 20
    assert checks["refresh_tokens"]["status"] == "pass"
    assert checks["credentials"]["data"]["requests"] == 0  # cached by the audit
    assert sorted(checks["permissions"]["data"]["lacking"]) == sorted(expected)
    for secret in secrets_of(emu):
        assert secret not in text.output
        assert secret not in as_json.output


@pytest.fixture(params=[True, False], ids=["aof", "no-aof"])
def own_redis(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, bool]]:
    """A redis-server of this test's own, with AOF on or off; stopped by PID afterwards."""
    server_binary = shutil.which("redis-server")
    if server_binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    aof: bool = request.param
    args = [server_binary, "--port", str(port), "--dir", str(tmp_path), "--save", ""]
    server = subprocess.Popen(
        [*args, "--appendonly", "yes" if aof else "no"], stdout=subprocess.DEVNULL
    )
    try:
        yield f"redis://127.0.0.1:{port}/0", aof
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_a_redis_without_aof_is_a_warning_with_aof_a_pass(
    own_redis: tuple[str, bool],
) -> None:
    """Issue 14 §2: the doctor warns when refresh tokens sit on a server without persistence."""
    from wxprivacy.redis import RedisTokenStore

    url, aof = own_redis
    store = RedisTokenStore.from_url(url, timeout=5)  # waits while the server starts
    try:
        emu = Emulator(authorizers=2)
        async with emulated(emu, store=store) as client:
            line = (await diagnose(client))["token_store"]
    finally:
        await store.aclose()
    assert line.data["persistent"] is aof
    assert line.data["replicas"] == 0
    if aof:
        assert line.status is PASS and "AOF on" in line.summary
    else:
        assert line.status is WARN and "no AOF" in line.summary
        assert "appendonly yes" in line.fix


# -- regressions from the issue-13 trial (a fresh clone, the README, then breaking it) -----------


@pytest.mark.parametrize("own_http", [True, False])
async def test_diagnose_on_a_closed_client_is_a_typed_error(own_http: bool) -> None:
    """Was: a raw RuntimeError (own HTTP client), or a run that still sent requests."""
    emu = Emulator(authorizers=1)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        if own_http:
            client = ComponentClient(emu.component_appid, "s", base_url="http://127.0.0.1:9")
        else:
            client = await started(emu, http)
        await client.aclose()
        emu.reset_calls()
        with pytest.raises(ClientClosedError):
            await diagnose(client)
    assert sum(emu.calls.values()) == 0


class BrokenStore(MemoryTokenStore):
    """A store of a user's own that raises what it should have wrapped."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def get_verify_ticket(self, component_appid: str) -> str | None:
        raise self.error


@pytest.mark.parametrize("error", [KeyError("boom"), TypeError("x"), ValueError("token=abc")])
async def test_a_store_that_raises_anything_fails_its_line_not_the_checklist(
    error: Exception,
) -> None:
    """Was: ``KeyError: 'boom'`` out of diagnose()."""
    emu = Emulator(authorizers=1)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(
            emu.component_appid, emu.component_appsecret, http_client=http,
            token_store=BrokenStore(error),
        )  # fmt: skip
        diagnosis = await diagnose(client)
        await client.aclose()
    line = diagnosis["token_store"]
    assert line.status is FAIL and type(error).__name__ in line.summary
    assert "TokenStoreError" in line.fix
    assert diagnosis["clock"].status is PASS  # the others still ran
    assert len(diagnosis.checks) == 7


async def test_an_audit_file_of_another_fleet_is_read_for_the_current_fleet_only(
    tmp_path: Path,
) -> None:
    """Was: 25 of 500 authorizers lacking set 18, all from another fleet's audit.jsonl."""
    other = Emulator(authorizers=40, seed=1)
    async with httpx.AsyncClient(transport=other.transport()) as http:
        client = await started(other, http)
        await run_audit(client, tmp_path / "audit.jsonl")
        await client.aclose()
    emu = Emulator(authorizers=12, seed=2)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        await client.reload_refresh_tokens()
        line = (await diagnose(client, audit_file=tmp_path / "audit.jsonl"))["permissions"]
        await client.aclose()
    assert line.status is WARN
    assert "no record of an authorizer WeChat lists now" in line.summary
    assert line.data["not_listed"] == 40


@pytest.mark.parametrize(
    ("content", "status", "said"),
    [
        (b"", WARN, "no record"),
        (b"[1,2,3]\n", WARN, "1 unreadable"),
        (b"\x00\xff garbage\n{not json\n", WARN, "2 unreadable"),
    ],
)
async def test_an_audit_file_without_records_is_not_a_pass(
    content: bytes, status: CheckStatus, said: str, tmp_path: Path
) -> None:
    """Was: ``✓ none of 0 authorizers lacks permission set 18`` for /dev/null or garbage."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(content)
    emu = Emulator(authorizers=3)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        line = (await diagnose(client, audit_file=path))["permissions"]
        await client.aclose()
    assert line.status is status and said in line.summary


async def test_audit_file_given_but_missing_or_a_directory_fails(tmp_path: Path) -> None:
    emu = Emulator(authorizers=2)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = await started(emu, http)
        missing = (await diagnose(client, audit_file=tmp_path / "typo.jsonl"))["permissions"]
        directory = (await diagnose(client, audit_file=tmp_path))["permissions"]
        with pytest.raises(InvalidArgumentError, match="audit_file"):
            await diagnose(client, audit_file=5)  # type: ignore[arg-type]
        await client.aclose()
    assert missing.status is FAIL and "typo.jsonl" in missing.summary
    assert directory.status is FAIL and directory.fix


@pytest.mark.parametrize("latency", [1.5, 3.0])
async def test_a_slow_answer_is_not_read_as_clock_skew(latency: float) -> None:
    """Was: ``4 s behind WeChat's`` against an emulator answering in 8 s."""
    emu = Emulator(authorizers=1, latency=latency)
    async with httpx.AsyncClient(transport=emu.transport(), timeout=30) as http:
        client = await started(emu, http)
        line = (await diagnose(client))["clock"]
        await client.aclose()
    assert line.status is PASS
    assert line.data["uncertainty_s"] >= latency / 2


async def test_a_wrong_appsecret_says_so_not_refreshed_once() -> None:
    emu = Emulator(authorizers=1)
    async with httpx.AsyncClient(transport=emu.transport()) as http:
        client = ComponentClient(emu.component_appid, "wrong", http_client=http)
        await client.set_component_verify_ticket(emu.component_verify_ticket)
        line = (await diagnose(client))["credentials"]
        await client.aclose()
    assert "component_appsecret" in line.fix and "refreshed once" not in line.fix


# -- found by the re-check of the trials --------------------------------------------------


async def test_another_fleets_audit_is_not_blamed_when_the_fleet_is_unknown(
    tmp_path: Path,
) -> None:
    """Was: ``✗ permissions 1 of 20 ...`` from another platform's file, with a wrong secret."""
    other = Emulator(authorizers=40, seed=1)
    async with emulated(other) as client:
        await audit(client, tmp_path / "audit.jsonl")
    emu = Emulator(authorizers=5, seed=2)
    async with emulated(emu, secret="wrong") as client:
        line = (await diagnose(client, audit_file=tmp_path / "audit.jsonl"))["permissions"]
    assert line.status is WARN and "unknown" in line.summary


class LeakyStore(MemoryTokenStore):
    """A store of a user's own whose errors quote the platform's secret, with an ANSI escape."""

    secret = ""

    async def get_component_token(self, component_appid: str) -> Any:
        raise RuntimeError(f"redis://:{self.secret}@10.0.0.1:6379 refused \x1b[31m" + "x" * 5000)


async def test_a_stores_error_never_shows_the_appsecret_or_the_ticket() -> None:
    emu = Emulator(authorizers=2)
    store = LeakyStore()
    store.secret = emu.component_appsecret
    async with emulated(emu, store=store) as client:
        diagnosis = await diagnose(client)
    text = repr(diagnosis.as_dict())
    assert emu.component_appsecret not in text and emu.component_verify_ticket not in text
    assert "\x1b" not in text
    assert len(diagnosis["credentials"].summary) <= 320


class SilentStore(MemoryTokenStore):
    async def export_refresh_tokens(self, component_appid: str) -> dict[str, str]:
        await asyncio.sleep(3600)
        return {}


async def test_a_store_that_never_answers_fails_its_line_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import wxprivacy._doctor_checks as checks

    monkeypatch.setattr(checks, "CHECK_TIMEOUT", 0.5)
    emu = Emulator(authorizers=2)
    async with emulated(emu, store=SilentStore()) as client:
        await client.reload_refresh_tokens()
        diagnosis = await diagnose(client)
    assert diagnosis["refresh_tokens"].status is FAIL
    assert "did not finish" in diagnosis["refresh_tokens"].summary


@pytest.mark.parametrize("zone", ["-0000", ""])
async def test_a_date_without_a_zone_is_read_as_gmt(
    zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-check of the issue-12 trial: ``Date: <now> -0000`` on a machine set to Asia/Shanghai
    read as local time: "clock is 28800 s ahead of WeChat's"."""
    from email.utils import formatdate

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        stamp = formatdate(time.time())  # RFC 2822 in UTC, zone "-0000"
        date = stamp if zone else stamp.removesuffix(" -0000")

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(404, headers={"Date": date})

        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            async with ComponentClient("wx0000000000000000", "s", http_client=http) as client:
                line = (await diagnose(client))["clock"]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert line.status is PASS, line.summary
