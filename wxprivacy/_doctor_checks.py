"""The checks behind ``wxprivacy doctor``, one function each; :func:`run_all` runs them in order.

Each check returns one :class:`Check`; what a later check needs from an earlier one (the store
answered, a ticket is stored, the credentials work, the authorizers WeChat lists) is kept in a
:class:`_Findings`. Texts name appids and figures, never a secret.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Final

import attrs

from ._audit_records import read_records
from ._batch import check_concurrency, gather_bounded
from ._client import ComponentClient
from ._doctor_model import Check, CheckStatus
from ._errcodes import ROWS
from ._errors import (
    InvalidArgumentError,
    MissingVerifyTicketError,
    ResponseFormatError,
    TransportError,
    WeChatAPIError,
    WxPrivacyError,
)
from ._redact import redact
from ._store_diagnostics import DiagnosableStore, StoreDiagnostics
from ._stores import TICKET_TTL, USABLE_SKEW

__all__ = ["DEFAULT_AUDIT_FILE", "run_all", "without_credentials"]

DEFAULT_AUDIT_FILE: Final = "audit.jsonl"
"""Where ``wxprivacy audit`` writes by default, and where the permission check looks."""
PUSH_INTERVAL: Final = 600.0
"""Seconds between two ``component_verify_ticket`` pushes from WeChat."""
STALE_TICKET: Final = 3 * PUSH_INTERVAL
"""A stored ticket older than this (three pushes missed) means pushes are not arriving."""
STUCK_LOCK: Final = 60.0
"""Seconds after which a held refresh lock counts as a stuck refresh."""
SLOW_STORE: Final = 0.050
"""Seconds per store read above which the store is reported slow."""
CLOCK_WARN: Final = 5.0
"""Seconds of clock offset from WeChat above which the doctor warns (fails above 30)."""
TOKEN_LIFETIME: Final = 7200.0
"""Seconds a ``component_access_token`` lives (WeChat's ``expires_in``)."""
SHOWN: Final = 10
"""Appids named in one line at most (``data`` holds them all)."""
PERMISSION_ERRCODE: Final = 61007
"""``api is unauthorized to component``: the authorizer did not grant the permission set."""

_ACTIONS: Final = {row[0]: row[4] for row in ROWS}
_APPSECRET: Final = (
    "WeChat refuses the component_appsecret: copy it again from the Open Platform console "
    "(WXPRIVACY_COMPONENT_APPSECRET); a reset there invalidates the old one"
)
_APPID: Final = "WeChat does not know this component_appid: check it (--component-appid)"
_TICKET: Final = (
    "the stored component_verify_ticket is expired or not this platform's: make sure your "
    "callback receiver stores WeChat's pushes (every 10 minutes) into this store"
)
_CREDENTIAL_FIXES: Final = {
    40001: _APPSECRET,
    40125: _APPSECRET,
    41004: _APPSECRET,
    40013: _APPID,
    61011: _APPID,
    41018: _APPID,
    61005: _TICKET,
    61006: _TICKET,
}
_NETWORK_FIX: Final = (
    "check the network path to {base_url} from this machine (DNS, firewall, proxy) and the "
    "base URL (--base-url / WXPRIVACY_BASE_URL)"
)


@attrs.define
class _Findings:
    """What the checks found so far, for the checks after them."""

    store_ok: bool = False
    diagnostics: StoreDiagnostics | None = None
    ticket: bool = False
    credentials_ok: bool = False
    listed: list[str] | None = None


def _check(
    name: str,
    status: CheckStatus,
    summary: str,
    fix: str = "",
    data: Mapping[str, Any] | None = None,
) -> Check:
    return Check(name=name, status=status, summary=summary, fix=fix, data=data or {})


def duration(seconds: float) -> str:
    """``"42 s"``, ``"7 min"``, ``"2 h 5 min"`` (whole units, for people)."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.001 else f"{seconds * 1000:.1f} ms"


def _some(appids: Sequence[str]) -> str:
    shown = ", ".join(appids[:SHOWN])
    more = len(appids) - SHOWN
    return shown + (f" and {more:,} more" if more > 0 else "")


CHECK_TIMEOUT: Final = 60.0
"""Seconds one check may take before its line fails (a store that never answers)."""
_UNPRINTABLE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _shown(text: str, secrets: Sequence[str], *, cut: bool = True) -> str:
    """An error's text as a line may show it: the client's own secrets (appsecret, ticket)
    replaced, the rest redacted, control characters (an ANSI escape) dropped, 300 characters
    at most."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _UNPRINTABLE.sub(" ", redact(text))
    return text if not cut or len(text) <= 300 else text[:299] + "…"


async def _guarded(name: str, check: Awaitable[Check], secrets: Sequence[str] = ()) -> Check:
    """``check``'s line, or a failed line for an error it did not expect (a store of your own
    may raise anything, or never answer: that fails its line, never the checklist)."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            line = await check
    except TimeoutError:
        return _check(
            name,
            CheckStatus.FAIL,
            f"did not finish within {CHECK_TIMEOUT:.0f} s",
            "the token store or WeChat does not answer: see the lines above",
        )
    except ResponseFormatError as exc:
        return _check(
            name,
            CheckStatus.FAIL,
            _shown(str(exc), secrets),
            "something answered, but not as WeChat does: check the base URL (--base-url / "
            "WXPRIVACY_BASE_URL) and any proxy in between",
        )
    except WxPrivacyError as exc:
        return _check(name, CheckStatus.FAIL, _shown(str(exc), secrets), _fix_for(exc))
    except Exception as exc:  # noqa: BLE001 - a line of the checklist, not a crash
        return _check(
            name,
            CheckStatus.FAIL,
            f"{type(exc).__name__}: {_shown(str(exc), secrets)}",
            "an error the SDK does not know (a token store of your own should raise "
            "TokenStoreError): see its implementation",
        )
    return attrs.evolve(line, summary=_shown(line.summary, secrets, cut=False))


def _fix_for(exc: WxPrivacyError) -> str:
    if isinstance(exc, WeChatAPIError):
        return _CREDENTIAL_FIXES.get(exc.errcode) or _ACTIONS.get(
            exc.errcode, "see the errcode in docs/errors.md"
        )
    if isinstance(exc, TransportError):
        return "check the network path to WeChat from this machine (DNS, firewall, proxy)"
    return "see the message"


async def run_all(
    client: ComponentClient,
    *,
    audit_file: str | os.PathLike[str] | None,
    check_permissions: bool,
    concurrency: int,
) -> tuple[Check, ...]:
    """Every check, in order (see :mod:`wxprivacy.doctor`).

    Raises:
        InvalidArgumentError: ``concurrency`` below 1.
    """
    check_concurrency(concurrency)
    if audit_file is not None and not isinstance(audit_file, str | os.PathLike):
        raise InvalidArgumentError(f"audit_file must be a path, got {audit_file!r}")
    client._check_usable()  # noqa: SLF001 - a closed client, another loop: typed, at once
    found = _Findings()
    steps: list[tuple[str, Callable[[], Awaitable[Check]]]] = [
        ("token_store", lambda: _token_store(client, found)),
        ("locks", lambda: _locks(found)),
        ("verify_ticket", lambda: _verify_ticket(client, found)),
        ("credentials", lambda: _credentials(client, found)),
        ("clock", lambda: _clock(client)),
        ("refresh_tokens", lambda: _refresh_tokens(client, found)),
        (
            "permissions",
            lambda: _permissions(client, found, audit_file, check_permissions, concurrency),
        ),
    ]
    secrets = [client._tokens._appsecret]  # noqa: SLF001 - never shown, only taken out
    ticket = await _quietly(client.token_store.get_verify_ticket(client.component_appid))
    if ticket:
        secrets.append(ticket)
    return tuple([await _guarded(name, step(), secrets) for name, step in steps])


async def _quietly(read: Awaitable[str | None]) -> str | None:
    """``read``'s value, or ``None`` when it fails or takes over 5 s (the lines report it)."""
    try:
        async with asyncio.timeout(5):
            return await read
    except Exception:  # noqa: BLE001 - only the secrets to hide are wanted here
        return None


def without_credentials(missing: Sequence[str]) -> tuple[Check, ...]:
    """The checklist when ``missing`` (option or variable names) keeps a client from being made.

    The credentials line fails and names them; every other line is skipped.
    """
    skipped = "not checked: no client without the credentials"
    first = _check(
        "credentials",
        CheckStatus.FAIL,
        f"missing: {', '.join(missing)}",
        "set them (the appsecret in the environment, not on the command line), or try the "
        "emulator: wxprivacy doctor --emulator 20",
    )
    names = ("token_store", "locks", "verify_ticket", "clock", "refresh_tokens", "permissions")
    return (first, *(_check(name, CheckStatus.SKIP, skipped) for name in names))


async def _token_store(client: ComponentClient, found: _Findings) -> Check:
    store = client.token_store
    comp = client.component_appid
    name = "token_store"
    reads: list[float] = []
    try:
        for _ in range(3):
            started = time.perf_counter()
            await store.get_verify_ticket(comp)
            reads.append(time.perf_counter() - started)
        diag = None
        if isinstance(store, DiagnosableStore):
            diag = found.diagnostics = await store.diagnostics(comp)
            backend, shared, prefix = diag.backend, diag.shared, diag.key_prefix
            count = diag.refresh_tokens
        else:
            backend, shared, prefix = type(store).__name__, None, None
            count = len(await store.export_refresh_tokens(comp))
    except WxPrivacyError as exc:
        return _check(
            name,
            CheckStatus.FAIL,
            str(exc),
            "start the store or correct its address (CLI: --redis-url / WXPRIVACY_REDIS_URL: "
            "host, port, db, password)",
        )
    found.store_ok = True
    latency = statistics.median(reads)
    data = {
        "backend": backend,
        "shared": shared,
        "key_prefix": prefix,
        "read_ms": round(latency * 1000, 3),
        "refresh_tokens": count,
        "persistent": None if diag is None else diag.persistent,
        "replicas": None if diag is None else diag.replicas,
    }
    where = backend + (f", key prefix {prefix!r}" if prefix else "")
    summary = f"{where}: {_ms(latency)} per read, {count:,} refresh tokens stored"
    if shared and diag is not None:
        summary += _durability(diag)
    if shared is False:
        return _check(
            name,
            CheckStatus.WARN,
            summary + " (this process only)",
            "tokens are not shared with other processes, and refresh tokens are lost when this "
            "one exits: use a RedisTokenStore shared with your callback receiver (CLI: "
            "--redis-url / WXPRIVACY_REDIS_URL)",
            data=data,
        )
    if shared and diag is not None and diag.persistent is False:
        return _check(
            name,
            CheckStatus.WARN,
            summary,
            "refresh tokens cannot be fetched again, and this server does not persist them: a "
            "restart loses every one written since its last snapshot (all, without snapshots). "
            "Turn on AOF (appendonly yes, appendfsync everysec), and back them up with "
            "export_refresh_tokens() (docs/token-stores.md, Durability)",
            data=data,
        )
    if latency > SLOW_STORE:
        return _check(
            name,
            CheckStatus.WARN,
            summary,
            f"reads take over {SLOW_STORE * 1000:.0f} ms: run the store near the workers and "
            "check its load (redis-cli --latency)",
            data=data,
        )
    return _check(name, CheckStatus.PASS, summary, data=data)


def _durability(diag: StoreDiagnostics) -> str:
    parts = []
    if diag.persistent is not None:
        parts.append("AOF on" if diag.persistent else "no AOF")
    if diag.replicas is not None:
        parts.append(f"{diag.replicas} replica{'s' if diag.replicas != 1 else ''}")
    return f" ({', '.join(parts)})" if parts else ""


async def _locks(found: _Findings) -> Check:
    name = "locks"
    diag = found.diagnostics
    if diag is None:
        why = "the token store did not answer" if not found.store_ok else "it does not say"
        return _check(name, CheckStatus.SKIP, f"not checked: {why}")
    locks = diag.locks
    data = {"locks": [attrs.asdict(lock) for lock in locks]}
    if not locks:
        return _check(name, CheckStatus.PASS, "no refresh lock is held", data=data)
    ages = [lock.held_for for lock in locks if lock.held_for is not None]
    longest = f"; the longest for {duration(max(ages))}" if ages else ""
    summary = f"{len(locks):,} held now (refreshes in progress){longest}"
    stuck = [lock for lock in locks if lock.held_for is not None and lock.held_for > STUCK_LOCK]
    if stuck:
        leases = [lock.lease_left for lock in stuck if lock.lease_left is not None]
        lease = f" (the longest lease left: {duration(max(leases))})" if leases else ""
        return _check(
            name,
            CheckStatus.WARN,
            f"{summary}; held over {STUCK_LOCK:.0f} s: {_some([lock.name for lock in stuck])}",
            "a refresh this long is stuck (WeChat or the store slow, a frozen worker): its "
            "holder's logs say why; a holder that stopped frees the lock when its lease ends"
            + lease,
            data=data,
        )
    return _check(name, CheckStatus.PASS, summary, data=data)


async def _verify_ticket(client: ComponentClient, found: _Findings) -> Check:
    name = "verify_ticket"
    if not found.store_ok:
        return _check(name, CheckStatus.SKIP, "not checked: the token store did not answer")
    if not await client.token_store.get_verify_ticket(client.component_appid):
        return _check(
            name,
            CheckStatus.FAIL,
            f"no component_verify_ticket is stored for {client.component_appid}",
            "WeChat pushes one every 10 minutes to the platform's authorization-event URL: run "
            "your callback receiver (wxprivacy.callback) with this same token store, or store "
            "one with ComponentClient.set_component_verify_ticket (CLI: --ticket)",
        )
    found.ticket = True
    left = None if found.diagnostics is None else found.diagnostics.ticket_expires_in
    if left is None:
        return _check(name, CheckStatus.PASS, "stored (the store does not say since when)")
    age = max(0.0, TICKET_TTL - left)
    data = {"age_s": round(age, 1), "expires_in_s": round(left, 1)}
    if age <= STALE_TICKET:
        return _check(
            name,
            CheckStatus.PASS,
            f"stored {duration(age)} ago (WeChat pushes one every 10 minutes; each is valid 12 h)",
            data=data,
        )
    return _check(
        name,
        CheckStatus.WARN,
        f"no new ticket for {duration(age)}, although WeChat pushes one every 10 minutes; the "
        f"stored one stays valid {duration(left)} more",
        "WeChat's pushes are not reaching this store: check that WeChat reaches the callback "
        "URL, that the receiver answers 'success', and that it stores into this store (same "
        "Redis and key prefix)",
        data=data,
    )


async def _credentials(client: ComponentClient, found: _Findings) -> Check:
    name = "credentials"
    if not found.store_ok:
        return _check(name, CheckStatus.SKIP, "not checked: the token store did not answer")
    now = time.time()
    cached = await client.token_store.get_component_token(client.component_appid)
    if cached is not None and cached.is_usable(now):
        found.credentials_ok = True
        left = cached.expires_at - now
        return _check(
            name,
            CheckStatus.PASS,
            f"a component_access_token is cached, valid {duration(left)} more (fetched about "
            f"{duration(TOKEN_LIFETIME - left)} ago); no request sent",
            data={"expires_in_s": round(left, 1), "requests": 0},
        )
    if not found.ticket:
        return _check(
            name,
            CheckStatus.SKIP,
            "not checked: no token is cached, and none can be fetched without a verify ticket",
        )
    try:
        await client.component_access_token()
    except MissingVerifyTicketError:
        return _check(name, CheckStatus.SKIP, "not checked: the verify ticket is gone")
    except WeChatAPIError as exc:
        return _check(
            name,
            CheckStatus.FAIL,
            f"api_component_token refused them: {exc}",
            _fix_for(exc),
            data={"errcode": exc.errcode, "requests": 1},
        )
    except TransportError as exc:
        return _check(
            name,
            CheckStatus.FAIL,
            f"WeChat did not answer: {exc}",
            _NETWORK_FIX.format(base_url=client.base_url),
        )
    found.credentials_ok = True
    return _check(
        name,
        CheckStatus.PASS,
        "accepted: api_component_token returned a component_access_token (1 request)",
        data={"requests": 1},
    )


async def _clock(client: ComponentClient) -> Check:
    name = "clock"
    try:
        answer, sent, received = await client._wire.probe("/")  # noqa: SLF001
    except WxPrivacyError as exc:
        return _check(
            name,
            CheckStatus.FAIL,
            f"WeChat did not answer a GET of {client.base_url}/: {exc}",
            _NETWORK_FIX.format(base_url=client.base_url),
        )
    round_trip = max(0.0, received - sent)
    data: dict[str, Any] = {"round_trip_ms": round(round_trip * 1000, 1)}
    try:
        stamp = parsedate_to_datetime(answer.date or "")
        if stamp.tzinfo is None:  # "-0000" or no zone: HTTP dates are GMT, never local time
            stamp = stamp.replace(tzinfo=dt.UTC)
        server = stamp.timestamp()
    except (TypeError, ValueError, OverflowError, OSError):  # absent, garbage, or out of range
        return _check(
            name,
            CheckStatus.SKIP,
            f"not checked: {client.base_url} sent no readable Date header",
            data=data,
        )
    # Date has whole seconds, and the server wrote it at some moment of the round trip: the
    # offset is known to within half a second plus half the round trip
    offset = server + 0.5 - (sent + received) / 2
    margin = 0.5 + round_trip / 2
    data["offset_s"] = round(offset, 1)
    data["uncertainty_s"] = round(margin, 1)
    where = "behind" if offset > 0 else "ahead of"
    trip = f"round trip {_ms(round_trip)}"
    summary = (
        f"this machine's clock agrees with WeChat's to the second (Date header); {trip}"
        if abs(offset) < 1 and margin < 1
        else f"this machine's clock is {abs(offset):.0f} s {where} WeChat's (± {margin:.1f} s, "
        f"Date header); {trip}"
    )
    least = abs(offset) - margin  # the smallest offset the reading allows
    if least <= CLOCK_WARN:
        return _check(name, CheckStatus.PASS, summary, data=data)
    return _check(
        name,
        CheckStatus.FAIL if least > USABLE_SKEW else CheckStatus.WARN,
        summary,
        "synchronize the clock (chrony, systemd-timesyncd): tokens shared through the store "
        "carry absolute expiry times, so machines whose clocks disagree refresh too early or "
        "send expired tokens",
        data=data,
    )


async def _refresh_tokens(client: ComponentClient, found: _Findings) -> Check:
    name = "refresh_tokens"
    if not found.credentials_ok:
        return _check(
            name, CheckStatus.SKIP, "not checked: needs a component_access_token (credentials)"
        )
    listed: dict[str, str] = {}
    requests = 0
    async for page in client.iter_authorizer_pages():
        requests += 1
        listed.update((item.authorizer_appid, item.refresh_token) for item in page.list)
    found.listed = list(listed)
    stored = await client.token_store.export_refresh_tokens(client.component_appid)
    missing = [appid for appid in listed if appid not in stored]
    stale = [
        appid
        for appid, token in listed.items()
        if token and appid in stored and stored[appid] != token
    ]
    gone = sorted(appid for appid in stored if appid not in listed)
    del stored  # secrets: only appids leave this function
    data = {
        "listed": len(listed),
        "missing": missing,
        "stale": stale,
        "not_listed": gone,
        "requests": requests,
    }
    total = f"{len(listed):,}"
    if missing or stale:
        parts = []
        if missing:
            parts.append(f"{len(missing):,} of {total} have none stored: {_some(missing)}")
        if stale:
            parts.append(
                f"{len(stale):,} have an older one than WeChat lists (re-authorized since): "
                f"{_some(stale)}"
            )
        return _check(
            name,
            CheckStatus.FAIL,
            "; ".join(parts),
            "calls for them fail until the current one is stored: "
            "`await client.reload_refresh_tokens()` stores what api_get_authorizer_list "
            "returns (wxprivacy audit does it for the whole fleet)",
            data=data,
        )
    summary = (
        f"all {total} authorizers WeChat lists have their refresh token stored "
        f"({requests} api_get_authorizer_list request{'s' if requests != 1 else ''})"
    )
    if gone:
        return _check(
            name,
            CheckStatus.WARN,
            f"{summary}; {len(gone):,} stored for appids WeChat no longer lists: {_some(gone)}",
            "those authorizations were revoked (an unauthorized push was missed?): "
            "`await client.remove_authorizer(appid)` forgets one",
            data=data,
        )
    return _check(name, CheckStatus.PASS, summary, data=data)


async def _permissions(
    client: ComponentClient,
    found: _Findings,
    audit_file: str | os.PathLike[str] | None,
    ask: bool,
    concurrency: int,
) -> Check:
    name = "permissions"
    count = "" if found.listed is None else f": {len(found.listed):,} requests"
    if not ask:
        return await _permissions_from_file(found, audit_file, count)
    if found.listed is None:
        return _check(
            name, CheckStatus.SKIP, "not checked: needs the list of authorizers (refresh_tokens)"
        )
    results = await gather_bounded(found.listed, client.get_authorizer_info, concurrency)
    lacking = []
    failed: dict[str, int | str] = {}
    for appid, result in results.items():
        if isinstance(result, WxPrivacyError):
            failed[appid] = getattr(result, "errcode", type(result).__name__)
        elif result.authorization_info is None or not (
            result.authorization_info.has_privacy_permission
        ):
            lacking.append(appid)
    source = f"api_get_authorizer_info, {len(results):,} requests"
    line = _permission_line(
        lacking,
        len(results),
        source,
        {"source": "api_get_authorizer_info", "requests": len(results), "failed": failed},
    )
    if failed and line.status is CheckStatus.PASS:
        return _check(
            name,
            CheckStatus.WARN,
            f"{line.summary}; {len(failed):,} could not be asked: {_some(list(failed))}",
            "their errors are in data.failed; run again later",
            data=dict(line.data),
        )
    return line


async def _permissions_from_file(
    found: _Findings, audit_file: str | os.PathLike[str] | None, count: str
) -> Check:
    name = "permissions"
    path = Path(audit_file if audit_file is not None else DEFAULT_AUDIT_FILE)
    ask = (
        "pass --check-permissions to ask WeChat (one api_get_authorizer_info request per "
        f"authorizer{count})"
    )
    try:
        records, skipped, written = await asyncio.to_thread(_read_audit, path)
    except FileNotFoundError:
        status = CheckStatus.SKIP if audit_file is None else CheckStatus.FAIL
        return _check(
            name, status, f"no audit file: {path} not found", f"run `wxprivacy audit`, or {ask}"
        )
    except OSError as exc:
        return _check(
            name,
            CheckStatus.FAIL,
            f"cannot read {path}: {exc.strerror or exc}",
            f"give the JSONL file `wxprivacy audit` wrote (--audit-file), or {ask}",
        )
    source = f"{path}, written {duration(time.time() - written)} ago"
    data: dict[str, Any] = {"source": str(path), "unreadable_lines": skipped}
    if found.listed is not None:  # only the fleet WeChat lists now counts
        listed = set(found.listed)
        data["not_listed"] = sum(1 for appid in records if appid not in listed)
        records = {appid: record for appid, record in records.items() if appid in listed}
    if not records:
        return _check(
            name,
            CheckStatus.WARN,
            f"{path} holds no record of an authorizer WeChat lists now ({skipped:,} unreadable "
            f"line{'s' if skipped != 1 else ''})",
            f"run `wxprivacy audit` again, or {ask}",
            data=data,
        )
    lacking = [
        appid
        for appid, record in records.items()
        if not record.get("ok")
        and isinstance(record.get("error"), dict)
        and record["error"].get("errcode") == PERMISSION_ERRCODE
    ]
    notes = []
    if found.listed is None:
        notes.append("not compared with WeChat's list of authorizers (unknown: see above)")
    if data.get("not_listed"):
        notes.append(f"{data['not_listed']:,} records of appids WeChat no longer lists ignored")
    if skipped:
        notes.append(f"{skipped:,} unreadable line{'s' if skipped != 1 else ''} skipped")
    line = _permission_line(lacking, len(records), source, data)
    if found.listed is None and line.status is CheckStatus.FAIL:
        line = attrs.evolve(line, status=CheckStatus.WARN)  # maybe another platform's file
    if notes:
        return attrs.evolve(line, summary=f"{line.summary}; {'; '.join(notes)}")
    return line


def _read_audit(path: Path) -> tuple[dict[str, dict[str, Any]], int, float]:
    """The audit's last record per authorizer, how many non-empty lines hold none, and when the
    file was written (Unix seconds)."""
    records, unreadable = read_records(path)
    return records, unreadable, path.stat().st_mtime


def _permission_line(lacking: list[str], audited: int, source: str, data: dict[str, Any]) -> Check:
    data = {**data, "lacking": lacking, "authorizers": audited}
    if lacking:
        return _check(
            "permissions",
            CheckStatus.FAIL,
            f"{len(lacking):,} of {audited:,} authorizers have not granted permission set 18 "
            f"({source}): {_some(lacking)}",
            "the privacy APIs answer 61007 for them until each owner re-authorizes the platform "
            "with permission set 18 (development management): send them a link from "
            "ComponentClient.authorization_url()",
            data=data,
        )
    return _check(
        "permissions",
        CheckStatus.PASS,
        f"none of {audited:,} authorizers lacks permission set 18 ({source})",
        data=data,
    )
