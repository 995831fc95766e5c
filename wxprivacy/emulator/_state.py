"""Mutable emulator state: verify tickets, access tokens, authorizers and their privacy settings.

Token lookups are O(1) dict hits. A token that is superseded (by a newer token for the same owner)
stays valid for ``grace`` seconds; superseded records are pruned lazily once their grace is over,
which gives the same answer (40001) as keeping them.
"""

from __future__ import annotations

import base64
import copy
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ._payloads import PRIVACY_DESC_LIST, dumps

__all__ = [
    "Authorizer",
    "PrivacyVersion",
    "TokenKind",
    "TokenRecord",
    "TokenTable",
    "TokenVerdict",
    "new_secret",
]

TokenKind = Literal["component", "authorizer"]
TokenVerdict = Literal["ok", "invalid", "expired"]

_PRIVACY_DESC: dict[str, Any] = {
    "privacy_desc_list": [{"privacy_key": k, "privacy_desc": d} for k, d in PRIVACY_DESC_LIST]
}
_EMPTY_OWNER: dict[str, Any] = {
    "contact_phone": "",
    "contact_email": "",
    "contact_qq": "",
    "contact_weixin": "",
    "store_expire_timestamp": "",
    "ext_file_media_id": "",
    "notice_method": "",
    "store_region": 0,
}
_SETTING_KEYS = (
    "code_exist",
    "privacy_list",
    "setting_list",
    "update_time",
    "owner_setting",
    "sdk_privacy_info_list",
)


def new_secret(rng: random.Random, nbytes: int = 48) -> str:
    """Return ``nbytes`` random bytes from ``rng`` as URL-safe base64 without padding."""
    raw = rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(slots=True)
class TokenRecord:
    """One issued access token.

    Attributes:
        kind: ``"component"`` or ``"authorizer"``.
        owner: the component appid or the authorizer appid.
        expires_at: Unix seconds after which the token answers 42001.
        valid_until: Unix seconds after which a superseded token answers 40001 (``None``: current).
    """

    kind: TokenKind
    owner: str
    expires_at: float
    valid_until: float | None = None


class TokenTable:
    """Every live access token, keyed by value; one current token per (kind, owner).

    Args:
        clock: returns Unix seconds (float).
        rng: source of token values.
    """

    def __init__(self, clock: Callable[[], float], rng: random.Random) -> None:
        self._clock = clock
        self._rng = rng
        self._records: dict[str, TokenRecord] = {}
        self._current: dict[tuple[TokenKind, str], str] = {}
        self._superseded: deque[tuple[float, str]] = deque()

    def issue(self, kind: TokenKind, owner: str, ttl: float, grace: float) -> str:
        """Issue a new token for ``owner``; the previous one stays valid ``grace`` seconds."""
        now = self._clock()
        self._prune(now)
        value = f"80_{new_secret(self._rng, 72)}"
        previous = self._current.get((kind, owner))
        if previous is not None and previous in self._records:
            until = now + grace
            self._records[previous].valid_until = until
            self._superseded.append((until, previous))
        self._records[value] = TokenRecord(kind, owner, now + ttl)
        self._current[(kind, owner)] = value
        return value

    def lookup(self, value: str) -> tuple[TokenVerdict, TokenRecord | None]:
        """Judge ``value``: ``"ok"``, ``"invalid"`` (40001) or ``"expired"`` (42001), + record."""
        record = self._records.get(value)
        if record is None:
            return "invalid", None
        now = self._clock()
        if record.valid_until is not None and now > record.valid_until:
            return "invalid", record
        if now >= record.expires_at:
            return "expired", record
        return "ok", record

    def current(self, kind: TokenKind, owner: str) -> str | None:
        """Return the current token of ``owner``, or ``None``."""
        return self._current.get((kind, owner))

    def invalidate(self, kind: TokenKind, owner: str) -> None:
        """Make the current token of ``owner`` (and any in grace) answer 40001 from now on."""
        for value, record in list(self._records.items()):
            if record.kind == kind and record.owner == owner:
                del self._records[value]
        self._current.pop((kind, owner), None)

    def expire_all(self) -> None:
        """Make every token answer 42001 (superseded ones past their grace still answer 40001)."""
        now = self._clock()
        for record in self._records.values():
            record.expires_at = min(record.expires_at, now)

    def __len__(self) -> int:
        return len(self._records)

    def _prune(self, now: float) -> None:
        while self._superseded and self._superseded[0][0] < now:
            _, value = self._superseded.popleft()
            record = self._records.get(value)
            if record is not None and record.valid_until is not None and record.valid_until < now:
                del self._records[value]


@dataclass(slots=True)
class PrivacyVersion:
    """One version (live or development) of an authorizer's privacy guideline.

    ``setting`` holds the getprivacysetting fields (``code_exist``, ``privacy_list``,
    ``setting_list``, ``update_time``, ``owner_setting``, optional ``sdk_privacy_info_list``);
    ``privacy_desc`` and errcode/errmsg are added when rendering. Call :meth:`changed` after any
    mutation so the cached body is rebuilt.
    """

    setting: dict[str, Any]
    _body: bytes | None = None

    @classmethod
    def from_partial(cls, partial: dict[str, Any] | None, *, code_exist: bool) -> PrivacyVersion:
        """Fill the fields ``partial`` lacks with the observed "unconfigured" defaults."""
        given = copy.deepcopy(partial or {})
        unknown = set(given) - set(_SETTING_KEYS) - {"errcode", "errmsg", "privacy_desc"}
        if unknown:
            raise ValueError(f"unknown setting fields: {sorted(unknown)}")
        setting: dict[str, Any] = {
            "code_exist": 1 if code_exist else 0,
            "privacy_list": [],
            "setting_list": [],
            "update_time": 0,
            "owner_setting": dict(_EMPTY_OWNER),
        }
        for key in _SETTING_KEYS:
            if key in given:
                setting[key] = given[key]
        owner = dict(_EMPTY_OWNER)
        owner.update(setting["owner_setting"] or {})
        setting["owner_setting"] = owner
        for item in setting["setting_list"]:
            item.setdefault("privacy_label", "")
        return cls(setting)

    def body(self) -> bytes:
        """Return the encoded success body (cached until :meth:`changed`)."""
        if self._body is None:
            payload: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
            payload.update({k: v for k, v in self.setting.items() if k != "sdk_privacy_info_list"})
            payload["privacy_desc"] = _PRIVACY_DESC
            if self.setting.get("sdk_privacy_info_list") is not None:
                payload["sdk_privacy_info_list"] = self.setting["sdk_privacy_info_list"]
            self._body = dumps(payload)
        return self._body

    def changed(self) -> None:
        """Drop the cached body after ``setting`` was mutated."""
        self._body = None

    def undeclared(self) -> list[str]:
        """Keys in ``privacy_list`` that ``setting_list`` does not declare, sorted."""
        declared = {item.get("privacy_key") for item in self.setting["setting_list"]}
        return sorted(set(self.setting["privacy_list"]) - declared)


@dataclass(slots=True)
class Authorizer:
    """One Mini Program that authorized the platform.

    Attributes:
        appid: ``wx`` + 16 hex digits.
        refresh_token: the current ``authorizer_refresh_token``.
        old_refresh_tokens: superseded refresh tokens -> Unix seconds until which they still work.
        auth_time: Unix seconds of the authorization (``api_get_authorizer_list``).
        authorized: ``False`` once the owner revoked the authorization (61003).
        permission_18: whether permission set 18 was granted (else getprivacysetting -> 61007).
        dev: the development version (``privacy_ver=2``).
        live: the live version (``privacy_ver=1``), ``None`` when none exists (86074).
        kind: the seeding profile (``"configured"``, ``"undeclared"``, ``"no_code"``,
            ``"no_permission"``, ``"no_contact"``), ``"custom"`` for ``Emulator.add_authorizer``.
        code_checks_pending: ``get_code_privacy_info`` requests that still answer 61039 (the
            code's privacy check is not finished); set it to test the wait.
    """

    appid: str
    refresh_token: str
    auth_time: int
    permission_18: bool
    dev: PrivacyVersion
    live: PrivacyVersion | None
    kind: str = "custom"
    authorized: bool = True
    code_checks_pending: int = 0
    old_refresh_tokens: dict[str, float] = field(default_factory=dict)
    func_ids: tuple[int, ...] = (17, 19, 25, 30, 31)
    media_ids: set[str] = field(default_factory=set)
    interfaces: dict[str, dict[str, Any]] = field(default_factory=dict)

    def granted(self) -> list[int]:
        """The granted permission set ids, sorted (18 included when ``permission_18``)."""
        ids = set(self.func_ids) - {18}
        if self.permission_18:
            ids.add(18)
        return sorted(ids)

    def func_info(self) -> list[dict[str, Any]]:
        """``func_info`` as WeChat sends it: ``[{"funcscope_category": {"id": n}}, ...]``."""
        return [{"funcscope_category": {"id": n}} for n in self.granted()]

    def refresh_token_ok(self, value: str, now: float) -> bool:
        """Whether ``value`` is the current refresh token or a rotated one still in grace."""
        if not value:
            return False
        if value == self.refresh_token:
            return True
        until = self.old_refresh_tokens.get(value)
        return until is not None and now <= until

    def version(self, privacy_ver: int) -> PrivacyVersion | None:
        """Return the version for ``privacy_ver`` (1 live, 2 development)."""
        return self.live if privacy_ver == 1 else self.dev


TICKET_TTL = 12 * 3600.0
"""Seconds a component_verify_ticket stays usable (WeChat: 12 hours)."""


class EmulatorState:
    """Everything the endpoint handlers read and change.

    Args:
        component_appid: the third-party platform appid.
        component_appsecret: its AppSecret.
        token_ttl: ``expires_in`` (seconds) of component and authorizer access tokens.
        grace: seconds a superseded token or rotated refresh token keeps working.
        rotate_refresh_tokens: whether api_authorizer_token hands out a new refresh token.
        clock: returns Unix seconds (float).
        seed: seeds the token/ticket/rid RNG.
    """

    def __init__(
        self,
        component_appid: str,
        component_appsecret: str,
        *,
        token_ttl: float,
        grace: float,
        rotate_refresh_tokens: bool,
        clock: Callable[[], float],
        seed: int,
    ) -> None:
        self.component_appid = component_appid
        self.component_appsecret = component_appsecret
        self.token_ttl = token_ttl
        self.grace = grace
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.clock = clock
        self.rng = random.Random(f"wxprivacy-emulator-tokens-{seed}")
        self.tokens = TokenTable(clock, self.rng)
        self.tickets: dict[str, float] = {}
        self.ticket = ""
        self.authorizers: dict[str, Authorizer] = {}
        self.preauth_codes: dict[str, float] = {}
        #: authorization code -> (authorizer appid, Unix seconds it expires at)
        self.auth_codes: dict[str, tuple[str, float]] = {}
        self.next_audit_id = 420_000_001
        self.push_ticket()

    def push_ticket(self) -> str:
        """Issue a fresh verify ticket; earlier ones stay valid until 12 h after their issue."""
        now = self.clock()
        self.tickets = {t: at for t, at in self.tickets.items() if now - at <= 2 * TICKET_TTL}
        self.ticket = f"ticket@@@{new_secret(self.rng, 64)}"
        self.tickets[self.ticket] = now
        return self.ticket

    def new_refresh_token(self) -> str:
        """Return a fresh ``refreshtoken@@@...`` value."""
        return f"refreshtoken@@@{new_secret(self.rng, 32)}"

    def rotate_refresh_token(self, authorizer: Authorizer) -> None:
        """Give ``authorizer`` a new refresh token; the old one works ``grace`` more seconds."""
        now = self.clock()
        live = {t: u for t, u in authorizer.old_refresh_tokens.items() if u >= now}
        live[authorizer.refresh_token] = now + self.grace
        authorizer.old_refresh_tokens = live
        authorizer.refresh_token = self.new_refresh_token()

    def new_media_id(self) -> str:
        """Return a fresh ``ext_file_media_id``: a 19-digit decimal string."""
        return str(2_000_000_000_000_000_000 + self.rng.getrandbits(60) % 10**18)

    def new_audit_id(self) -> int:
        """Return the next ``audit_id`` of a privacy-interface application."""
        value = self.next_audit_id
        self.next_audit_id += 1
        return value
